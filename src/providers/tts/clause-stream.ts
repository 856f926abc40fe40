/**
 * Presents a request-per-clause TTS (HTTP streaming, OpenAI-compatible `/v1/audio/speech`) as
 * a TtsStream: clauses are synthesised one after another, audio streamed out in order; clauses
 * that arrive while a request runs are joined into the next one.
 * A non-streaming vendor gets this wrapper, not an engine branch (STYLE.md, Providers).
 */
import { isAbortError } from '../../errors.js';
import { ChunkQueue } from './chunk-queue.js';
import type { TtsChunk, TtsStream } from './types.js';

export type SynthesizeClause = (text: string, signal: AbortSignal) => AsyncIterable<Buffer>;

export class ClauseTtsStream implements TtsStream {
  private readonly queue = new ChunkQueue();
  private readonly texts: string[] = [];
  private readonly controller = new AbortController();
  private ended = false;
  private running = false;

  constructor(
    private readonly synthesize: SynthesizeClause,
    signal: AbortSignal,
  ) {
    if (signal.aborted) this.abort();
    else signal.addEventListener('abort', () => this.abort(), { once: true });
  }

  push(text: string): void {
    if (this.ended || this.controller.signal.aborted || text.trim() === '') return;
    this.texts.push(text.trim());
    void this.pump();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    void this.pump();
  }

  abort(): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort();
    this.queue.drop();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        // Chunks that queued while a request ran go out as one: each request starts the voice
        // afresh, so fewer, longer requests keep more of the reply's prosody. The first chunk
        // (a short clause, for time to first audio) still goes alone.
        if (this.texts.length === 0) break;
        const text = this.texts.splice(0).join(' ');
        for await (const audio of this.synthesize(text, this.controller.signal)) {
          if (this.controller.signal.aborted) return;
          if (audio.length > 0) this.queue.put({ audio });
        }
      }
      if (this.ended && this.texts.length === 0) this.queue.close();
    } catch (err) {
      if (this.controller.signal.aborted || isAbortError(err)) return;
      this.queue.fail(err);
    } finally {
      this.running = false;
    }
    // Text pushed while the last request was finishing.
    if (this.texts.length > 0 || (this.ended && !this.queue.closed)) void this.pump();
  }

  [Symbol.asyncIterator](): AsyncIterator<TtsChunk> {
    return this.queue[Symbol.asyncIterator]();
  }
}
