/**
 * A single-consumer async queue of TTS chunks: producers `put` and `close`/`fail`, the
 * consumer iterates. Used by every TtsStream so abort and errors end iteration the same way.
 */
import type { TtsChunk } from './types.js';

export class ChunkQueue implements AsyncIterable<TtsChunk> {
  private readonly items: TtsChunk[] = [];
  private waiter: (() => void) | null = null;
  private done = false;
  private error: unknown = null;

  put(chunk: TtsChunk): void {
    if (this.done) return;
    this.items.push(chunk);
    this.wake();
  }

  close(): void {
    this.done = true;
    this.wake();
  }

  /** Ends iteration with `err` (after the chunks already queued). */
  fail(err: unknown): void {
    if (this.done) return;
    this.error = err;
    this.done = true;
    this.wake();
  }

  /** Drops queued chunks and ends iteration quietly. */
  drop(): void {
    this.items.length = 0;
    this.done = true;
    this.error = null;
    this.wake();
  }

  get closed(): boolean {
    return this.done;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TtsChunk> {
    for (;;) {
      const next = this.items.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.done) {
        if (this.error) throw this.error;
        return;
      }
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
}
