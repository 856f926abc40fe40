/**
 * Primary TTS with a fallback: if the primary cannot start an utterance (socket refused, timed
 * out) before producing any audio, the utterance is replayed on the fallback and stays there.
 * ElevenLabs stream-input → ElevenLabs HTTP streaming.
 */
import { ProviderError } from '../../errors.js';
import { ChunkQueue } from './chunk-queue.js';
import type { TtsCapabilities, TtsChunk, TtsProvider, TtsStream } from './types.js';

export class FallbackTts implements TtsProvider {
  readonly name: string;
  private usingFallback = false;

  constructor(
    private readonly primary: TtsProvider,
    private readonly fallback: TtsProvider,
    /** Told once, when the fallback takes over (the engine notes it on the call). */
    private readonly onFallback: (reason: string) => void,
  ) {
    this.name = primary.name;
  }

  get capabilities(): TtsCapabilities {
    return (this.usingFallback ? this.fallback : this.primary).capabilities;
  }

  async prepare(signal: AbortSignal): Promise<void> {
    if (this.usingFallback) return this.fallback.prepare(signal);
    try {
      await this.primary.prepare(signal);
    } catch (err) {
      if (!canFallBack(err)) throw err;
      this.switch(err);
      await this.fallback.prepare(signal);
    }
  }

  private switch(err: unknown): void {
    if (this.usingFallback) return;
    this.usingFallback = true;
    this.primary.close();
    this.onFallback(err instanceof Error ? err.message : String(err));
  }

  stream(signal: AbortSignal): TtsStream {
    if (this.usingFallback) return this.fallback.stream(signal);
    const texts: string[] = [];
    let ended = false;
    let aborted = false;
    let current = this.primary.stream(signal);
    const out = new ChunkQueue();
    const run = async (): Promise<void> => {
      let gotAudio = false;
      try {
        for await (const c of current) {
          gotAudio = true;
          out.put(c);
        }
        out.close();
      } catch (err) {
        if (aborted) return;
        if (gotAudio || !canFallBack(err)) return out.fail(err);
        this.switch(err);
        current = this.fallback.stream(signal);
        for (const t of texts) current.push(t);
        if (ended) current.end();
        try {
          for await (const c of current) out.put(c);
          out.close();
        } catch (err2) {
          out.fail(err2);
        }
      }
    };
    void run();
    return {
      push(text: string) {
        texts.push(text);
        current.push(text);
      },
      flush() {
        current.flush?.();
      },
      end() {
        ended = true;
        current.end();
      },
      abort() {
        aborted = true;
        current.abort();
        out.drop();
      },
      [Symbol.asyncIterator]: (): AsyncIterator<TtsChunk> => out[Symbol.asyncIterator](),
    };
  }

  close(): void {
    this.primary.close();
    this.fallback.close();
  }
}

/** A missing key or a 4xx other than throttling fails the fallback too (same account). */
function canFallBack(err: unknown): boolean {
  return !(err instanceof ProviderError) || err.retryable || err.status === undefined;
}
