/**
 * Speech-to-text, one stream per call. A streaming vendor (Deepgram) transcribes as audio
 * flows; a non-streaming one (an OpenAI-compatible `/v1/audio/transcriptions` server) sits
 * behind a wrapper that cuts utterances on the local VAD, so the engine never branches on it.
 */
import type { ProviderError } from '../../errors.js';
import type { AudioFormat } from '../../transport/types.js';

export interface SttCapabilities {
  /** Transcribes while audio flows (true) or per utterance after it ends (false). */
  streaming: boolean;
  /** Emits `partial` events before a segment is final. */
  interim: boolean;
  /**
   * Decides the end of the caller's turn itself and says so with `turn` events (Deepgram Flux):
   * the engine then commits on them instead of on the local VAD's pauses.
   */
  turns?: boolean;
}

export type SttEvent =
  | { type: 'partial'; text: string }
  /**
   * A final segment. `speechFinal`: the provider's endpointing saw a pause (end-of-turn
   * candidate); `fromFinalize`: produced because we asked for a flush (local VAD ended speech).
   */
  | { type: 'final'; text: string; speechFinal: boolean; fromFinalize: boolean }
  /**
   * The provider's own turn detection (capabilities.turns): `eager_end` — the caller has probably
   * finished (start a speculative reply on `text`); `resumed` — they went on (drop it); `end` —
   * the turn is over with `text` (equal to the last `eager_end`'s unless `resumed` came between).
   */
  | { type: 'turn'; event: 'start' | 'eager_end' | 'resumed' | 'end'; text: string }
  /** A gap after the last word; a fallback end of turn when noise defeats endpointing. */
  | { type: 'utterance_end' }
  /** The provider heard speech begin (before any transcript). */
  | { type: 'speech_started' }
  /** The socket dropped and came back; audio in between was lost. */
  | { type: 'reconnected' }
  | { type: 'error'; error: ProviderError }
  /** The stream is over (after `close()`, or for good after an error). */
  | { type: 'closed'; reason: string };

export type SttListener = (event: SttEvent) => void;

export interface SttStream {
  readonly capabilities: SttCapabilities;
  /** Opens the connection. Rejects with a ProviderError when the provider refuses. */
  connect(signal: AbortSignal): Promise<void>;
  /**
   * One caller frame in the format given at construction. Hot path: never throws, never blocks.
   * `canWait`: silence outside a caller turn, which a streaming provider may hold back (up to
   * 100 ms) to send with later frames; held frames go out, in order, before the next frame that
   * cannot wait and before `finalize` (src/engine/caller-silence.ts).
   */
  write(frame: Buffer, canWait?: boolean): void;
  /** The local VAD heard speech begin (the non-streaming wrapper starts an utterance here). */
  speechStarted(): void;
  /** The local VAD ended the turn: flush what is buffered into a final now. */
  finalize(): void;
  onEvent(listener: SttListener): void;
  /** Ends the stream gracefully (remaining results, then close). Idempotent. */
  close(): Promise<void>;
}

export interface SttStreamOptions {
  format: AudioFormat;
  language: string;
  model?: string;
  /** Provider-side endpointing silence (ms), where the provider has it. */
  endpointingMs?: number;
}
