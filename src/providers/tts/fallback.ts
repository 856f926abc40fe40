/**
 * Primary TTS with a fallback, and recovery from a socket lost mid-utterance.
 * - The primary cannot start an utterance (socket refused, timed out) before producing any
 *   audio: the utterance is replayed on the fallback, and the call stays there.
 * - The primary's stream dies after some audio (ElevenLabs closing stream-input with 1012
 *   "service restart", RFC 6455 §7.4.1 / IANA; pipecat-ai/pipecat#1027 saw it in production,
 *   or a plain drop, 1006): the text not voiced yet is spoken on a fresh stream of the same
 *   provider, from the start of the word the cut fell in. Alignment (`TtsChunk.chars`) says how
 *   far the voice got; a fresh stream that cannot start falls back as above.
 * ElevenLabs stream-input → ElevenLabs HTTP streaming.
 */
import { ProviderError } from '../../errors.js';
import { ChunkQueue } from './chunk-queue.js';
import type { TtsCapabilities, TtsChunk, TtsProvider, TtsStream } from './types.js';

/**
 * Fresh streams per utterance after mid-utterance drops. 2: one drop is a server restart, a
 * second is bad luck; a provider that keeps dropping fails the utterance rather than loop.
 */
export const MAX_RESUMES = 2;

export interface FallbackEvents {
  /** Once, when the fallback takes over (the engine notes it on the call). */
  onFallback(reason: string): void;
  /** The stream died mid-utterance and `restChars` unvoiced characters went to a fresh one. */
  onResume?(reason: string, restChars: number): void;
}

export class FallbackTts implements TtsProvider {
  readonly name: string;
  private usingFallback = false;
  private readonly events: FallbackEvents;

  constructor(
    private readonly primary: TtsProvider,
    private readonly fallback: TtsProvider,
    events: FallbackEvents | ((reason: string) => void),
  ) {
    this.name = primary.name;
    this.events = typeof events === 'function' ? { onFallback: events } : events;
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
    this.events.onFallback(errText(err));
  }

  private active(): TtsProvider {
    return this.usingFallback ? this.fallback : this.primary;
  }

  stream(signal: AbortSignal): TtsStream {
    const texts: string[] = [];
    let ended = false;
    let aborted = false;
    let current = this.active().stream(signal);
    const out = new ChunkQueue();
    /** Offset in `spokenText()` where the current stream's text begins. */
    let base = 0;
    let resumes = 0;
    const spokenText = (): string => texts.map((t) => (/\s$/.test(t) ? t : `${t} `)).join('');
    const restart = (from: number): number => {
      current = this.active().stream(signal);
      const rest = spokenText().slice(from);
      base = from;
      if (rest.trim() !== '') current.push(rest);
      if (ended) current.end();
      return rest.length;
    };
    const run = async (): Promise<void> => {
      for (;;) {
        let gotAudio = false;
        let voiced = 0;
        let aligned = true;
        try {
          for await (const c of current) {
            gotAudio = true;
            if (c.chars === undefined) aligned = false;
            else voiced += c.chars;
            out.put(c);
          }
          return out.close();
        } catch (err) {
          if (aborted) return;
          if (!canFallBack(err)) return out.fail(err);
          if (!gotAudio && !this.usingFallback) {
            this.switch(err);
            restart(base);
            continue;
          }
          // Without alignment there is no telling what was voiced: better an error than a repeat.
          if (!gotAudio || !aligned || resumes >= MAX_RESUMES) return out.fail(err);
          resumes++;
          const n = restart(wordStart(spokenText(), base + voiced));
          this.events.onResume?.(errText(err), n);
        }
      }
    };
    void run();
    return {
      push(text: string) {
        if (ended || aborted) return;
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

/** The start of the word `pos` falls in (a half-voiced word is said again, whole). */
export function wordStart(text: string, pos: number): number {
  let p = Math.max(0, Math.min(pos, text.length));
  while (p > 0 && !/\s/.test(text[p - 1]!)) p--;
  return p;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A missing key or a 4xx other than throttling fails the fallback too (same account). */
function canFallBack(err: unknown): boolean {
  return !(err instanceof ProviderError) || err.retryable || err.status === undefined;
}
