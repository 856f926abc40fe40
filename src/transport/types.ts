/**
 * What engines and sessions see of a caller's connection, whatever carries it (Twilio Media
 * Streams, the browser WebSocket). Twilio JSON and browser frames never leave their transport.
 */

export type AudioEncoding = 'mulaw' | 'pcm16';

export interface AudioFormat {
  encoding: AudioEncoding;
  /** Samples per second: 8000 for Twilio μ-law, 16000 for browsers. */
  sampleRate: number;
}

export const MULAW_8K: AudioFormat = { encoding: 'mulaw', sampleRate: 8000 };
export const PCM16_16K: AudioFormat = { encoding: 'pcm16', sampleRate: 16000 };

/** Bytes per millisecond of audio: μ-law has 1 byte per sample, PCM16 2. */
export function bytesPerMs(format: AudioFormat): number {
  return (format.sampleRate / 1000) * (format.encoding === 'mulaw' ? 1 : 2);
}

export type TransportEvent =
  /** One frame of caller audio in `inputFormat`; `timestampMs` is ms since the stream started. */
  | { type: 'audio'; payload: Buffer; timestampMs: number }
  /** The caller's playback reached a mark we sent (or a `clear` flushed it: `cleared`). */
  | { type: 'mark'; name: string; cleared: boolean }
  | { type: 'dtmf'; digit: string }
  /** The caller side is gone (stop, socket closed, browser ended); no more events follow. */
  | { type: 'hangup'; reason: string };

export type TransportListener = (event: TransportEvent) => void;

export interface Transport {
  readonly kind: 'twilio' | 'web';
  readonly inputFormat: AudioFormat;
  readonly outputFormat: AudioFormat;
  /** Bytes queued on the socket but not yet written: back-pressure for the pacer. */
  readonly bufferedAmount: number;
  onEvent(listener: TransportListener): void;
  /** Queues agent audio (in `outputFormat`) for playback. */
  sendAudio(payload: Buffer): void;
  /** Asks for an acknowledgement once everything queued before it has been played. */
  mark(name: string): void;
  /** Drops all queued, unplayed agent audio; pending marks come back with `cleared: true`. */
  clear(): void;
  /** Sends a JSON event to the client if the transport has a channel for it (web calls). */
  sendEvent?(event: Record<string, unknown>): void;
  close(reason: string): void;
}
