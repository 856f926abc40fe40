/**
 * Text-to-speech. A `TtsStream` is one agent utterance: text goes in clause by clause as the
 * LLM produces it, audio comes out (in the call's output format) as soon as it exists.
 */
import type { AudioFormat } from '../../transport/types.js';

export interface TtsCapabilities {
  /** Accepts text incrementally on one connection (ElevenLabs stream-input) vs one request per clause. */
  streamingInput: boolean;
  /** Audio chunks say which characters they voice (`TtsChunk.chars`). */
  alignment: boolean;
}

export interface TtsChunk {
  /** Audio in the stream's output format. */
  audio: Buffer;
  /** How many characters of the pushed text this chunk voices, when the provider reports alignment. */
  chars?: number;
}

export interface TtsStream extends AsyncIterable<TtsChunk> {
  /** Appends text (a clause or sentence). Ignored after `end()` or `abort()`. */
  push(text: string): void;
  /**
   * Voice everything pushed so far now, although more text may follow (the reply pauses, e.g.
   * for a tool). Only providers that buffer text toward a chunk schedule need it.
   */
  flush?(): void;
  /** No more text: flush and finish; iteration ends after the last audio. */
  end(): void;
  /** Barge-in or call end: stop now, drop pending audio; iteration ends quietly. */
  abort(): void;
}

export interface TtsProvider {
  readonly name: string;
  readonly capabilities: TtsCapabilities;
  /** Warms a connection for the next utterance (latency). Resolves when ready; rejects if the provider refuses. */
  prepare(signal: AbortSignal): Promise<void>;
  /** Starts an utterance. Errors surface from the iterator as ProviderError. */
  stream(signal: AbortSignal): TtsStream;
  /** Drops warm connections. */
  close(): void;
}

export interface TtsOptions {
  baseUrl: string;
  apiKey?: string;
  voiceId: string;
  model?: string;
  format: AudioFormat;
}
