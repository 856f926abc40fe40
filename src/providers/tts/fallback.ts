/**
 * Primary TTS with a fallback, and recovery from a socket lost mid-utterance.
 * - The primary cannot start an utterance (socket refused, timed out) before producing any
 *   audio: the utterance is replayed on the fallback, and the call stays there.
 * - The primary's stream dies after some audio (ElevenLabs closing stream-input with 1012
 *   "service restart", RFC 6455 §7.4.1 / IANA; pipecat-ai/pipecat#1027 saw it in production,
 *   a plain drop, 1006, or no audio for AUDIO_STALL_MS while some is owed): the text not voiced
 *   yet is spoken on a fresh stream of the same
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
/**
 * No audio this long while the provider owes some (after the utterance's first text, or after
 * its end until the finish) means the socket has stalled: it is treated as a drop. ElevenLabs' first byte is a few
 * hundred ms (PROTOCOLS.md §4.2, flash models) and chunks follow every few tens of ms.
 */
export const AUDIO_STALL_MS = 3_000;

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
    private readonly stallMs = AUDIO_STALL_MS,
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
    // The stall watch: armed while audio is owed, reset by every chunk.
    let watch: NodeJS.Timeout | null = null;
    let stalled: TtsStream | null = null;
    const disarm = (): void => {
      if (watch) clearTimeout(watch);
      watch = null;
    };
    let watched: TtsStream | null = null;
    const arm = (): void => {
      if (aborted) return disarm();
      // Re-armed on every chunk after the end: restart the same timer rather than make a new one.
      if (watch && watched === current) {
        watch.refresh();
        return;
      }
      disarm();
      const target = current;
      watched = target;
      watch = setTimeout(() => {
        watch = null;
        stalled = target;
        target.abort(); // its iteration ends; the loop below reports the stall
      }, this.stallMs);
    };
    // Of the current stream: audio seen, characters voiced (alignment), alignment throughout.
    let gotAudio = false;
    let voiced = 0;
    let aligned = true;
    const run = async (): Promise<void> => {
      for (;;) {
        gotAudio = false;
        voiced = 0;
        aligned = true;
        const attempt = current;
        try {
          for await (const c of attempt) {
            gotAudio = true;
            if (c.chars === undefined) aligned = false;
            else voiced += c.chars;
            // After the end every chunk is followed by more or by the finish; before it, the
            // provider may rightly wait for more text.
            if (ended) arm();
            else disarm();
            out.put(c);
          }
          if (stalled === attempt) throw new ProviderError(this.name, `no audio for ${this.stallMs} ms`, undefined, true);
          disarm();
          return out.close();
        } catch (err) {
          disarm();
          if (aborted) return;
          if (!canFallBack(err)) return out.fail(err);
          if (!gotAudio && !this.usingFallback) {
            this.switch(err);
            restart(base);
            if (texts.length > 0) arm();
            continue;
          }
          // Without alignment there is no telling what was voiced: better an error than a repeat.
          if (!gotAudio || !aligned || resumes >= MAX_RESUMES) return out.fail(err);
          resumes++;
          const n = restart(wordStart(spokenText(), base + voiced));
          this.events.onResume?.(errText(err), n);
          if (n > 0 || ended) arm();
        }
      }
    };
    void run();
    return {
      push(text: string) {
        if (ended || aborted) return;
        // The first text is voiced at once (stream-input's try_trigger_generation).
        if (texts.length === 0) arm();
        texts.push(text);
        current.push(text);
      },
      flush() {
        // Not armed here: a flush before a tool may find everything voiced already, and the
        // tool may take longer than the stall limit.
        current.flush?.();
      },
      end() {
        ended = true;
        current.end();
        if (texts.length > 0) arm();
      },
      abort() {
        aborted = true;
        disarm();
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
