/**
 * A realtime speech-to-speech session (OpenAI Realtime, PROTOCOLS.md §5; xAI's dialect of it). The engine
 * sees only this: typed events it needs, and the client calls it makes. Vendor JSON stays in
 * the vendor's file.
 */
import type { ToolSpec } from '../llm/types.js';

/** Audio on the wire: μ-law 8 kHz (phone passthrough) or PCM16 24 kHz (web, resampled). */
export type RealtimeAudioFormat = 'pcmu' | 'pcm24k';

export type RealtimeTurnDetection =
  | { type: 'server_vad'; threshold?: number; silenceMs?: number; prefixPaddingMs?: number }
  | { type: 'semantic_vad'; eagerness?: 'low' | 'medium' | 'high' | 'auto' };

export interface RealtimeSessionConfig {
  instructions: string;
  voice?: string;
  format: RealtimeAudioFormat;
  turnDetection: RealtimeTurnDetection;
  /** Transcription model for the caller's audio (the transcript's user items). */
  transcriptionModel: string;
  tools: ToolSpec[];
}

/** Conversation items the engine creates: replayed history, greetings, tool results. */
export type RealtimeItem =
  | { type: 'message'; role: 'user' | 'assistant' | 'system'; text: string }
  | { type: 'function_call_output'; callId: string; output: string };

export type ResponseStatus = 'completed' | 'cancelled' | 'failed' | 'incomplete' | 'in_progress';

export type RealtimeEvent =
  | { type: 'session.created' }
  | { type: 'session.updated' }
  | { type: 'speech_started'; itemId: string; audioStartMs: number }
  | { type: 'speech_stopped'; itemId: string; audioEndMs: number }
  | { type: 'response_created'; responseId: string }
  | { type: 'audio_delta'; responseId: string; itemId: string; contentIndex: number; audio: Buffer }
  | { type: 'audio_done'; responseId: string; itemId: string; contentIndex: number }
  | { type: 'transcript_delta'; responseId: string; itemId: string; delta: string }
  | { type: 'transcript_done'; responseId: string; itemId: string; transcript: string }
  | { type: 'input_transcript'; itemId: string; transcript: string }
  | { type: 'function_call'; responseId: string; itemId: string; callId: string; name: string; arguments: string }
  | { type: 'response_done'; responseId: string; status: ResponseStatus; reason: string | null }
  | { type: 'truncated'; itemId: string; audioEndMs: number }
  /** A provider `error` event; `clientEventId` names the client event it rejected, if any. */
  | { type: 'error'; code: string; message: string; clientEventId: string | null }
  /** The socket closed (by either side); no event follows. `byClient` after `close()`. */
  | { type: 'closed'; code: number; reason: string; byClient: boolean };

export type RealtimeEventListener = (event: RealtimeEvent) => void;

export interface RealtimeSession {
  /** Opens the socket; resolves on `session.created`, rejects if it never arrives. */
  connect(signal: AbortSignal): Promise<void>;
  readonly open: boolean;
  onEvent(listener: RealtimeEventListener): void;
  /**
   * One frame of caller audio in the session's input format. Hot path: no ack, no logging.
   * `canWait`: the frame may be held (up to `MAX_BATCH_FRAMES`, 100 ms) and sent with later ones; the
   * next frame that cannot wait takes everything held with it, in order.
   */
  sendAudio(frame: Buffer, canWait?: boolean): void;
  updateSession(config: RealtimeSessionConfig): void;
  createItem(item: RealtimeItem): string;
  createResponse(options?: { instructions?: string }): string;
  cancelResponse(): string;
  /**
   * Cuts an assistant item to what was heard; returns the client event id (to match an `error`).
   * `heardText` is the gateway's own cut of the transcript, for providers without a truncate
   * event (xAI): they are told in words what the caller heard.
   */
  truncate(itemId: string, contentIndex: number, audioEndMs: number, heardText?: string): string;
  close(): void;
}

export interface RealtimeSessionOptions {
  /** `wss://api.openai.com/v1/realtime` (OPENAI_REALTIME_URL) or `wss://api.x.ai/v1/realtime` (XAI_REALTIME_URL). */
  url: string;
  apiKey: string;
  model: string;
  /** Called for each incoming message that is not valid JSON or not a known event (counted, ignored). */
  onMalformed?: (reason: 'invalid_json' | 'unknown_event' | 'missing_field') => void;
  /** ms to wait for the socket and `session.created`. */
  connectTimeoutMs?: number;
  /**
   * Caller frames (20 ms each) per `input_audio_buffer.append`, 1–5; default 1. Each message is
   * a socket write, the bulk of the bridge's CPU per call-second (docs/performance.md), and 2
   * frames halve them; but the server VAD then gets the audio that ends the caller's silence
   * window up to (n − 1) × 20 ms later, which adds to voice-to-voice (and to barge-in
   * detection). REALTIME_APPEND_MS.
   */
  appendFrames?: number;
}

/** Audio ms in `bytes` of the format: μ-law is 8 bytes/ms, PCM16 24 kHz is 48 bytes/ms. */
export function audioMs(format: RealtimeAudioFormat, bytes: number): number {
  return format === 'pcmu' ? bytes / 8 : bytes / 48;
}
