/**
 * What every media socket does the same way, whatever its wire format (Twilio JSON, browser
 * PCM frames): how bad input is counted and when it ends the socket, how the socket is closed,
 * how events reach the session that may not have attached yet, and how frame counters reach
 * Prometheus without a metric update per frame.
 *
 * Garbage policy (both transports): one malformed message is counted by reason
 * (`voxgate_media_malformed_messages_total{transport, reason}`) and dropped, and the call goes
 * on; more than `maxInRow` with no valid message between them close the socket with 1008 (a peer
 * that does not speak the protocol, not a glitch); a refusal decided at admission closes with 1008
 * and the reason at once.
 */
import type { WebSocket } from 'ws';
import type { MalformedReason, Metrics } from '../metrics/index.js';
import type { TransportEvent, TransportListener } from './types.js';

/** RFC 6455: 1008 policy violation; 1000 normal; 1011 server error; 1013 try again later. */
export const CLOSE_POLICY = 1008;
export const CLOSE_NORMAL = 1000;
export const CLOSE_ERROR = 1011;
export const CLOSE_TRY_AGAIN = 1013;

/** 50 in a row is a second of garbage at a 20 ms cadence: no glitch looks like that. */
export const DEFAULT_MAX_MALFORMED_IN_ROW = 50;
/** Events received while the session is still attaching: 5 s of audio at most, oldest dropped. */
const MAX_EARLY_EVENTS = 250;
/** Flush frame counters to Prometheus every N frames rather than per frame (hot path). */
const COUNTER_FLUSH_EVERY = 50;
/** RFC 6455 §5.5: a close frame's reason fits in 123 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

export type MediaTransportLabel = 'twilio' | 'web';

export function truncateReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > MAX_CLOSE_REASON_BYTES) r = r.slice(0, -1);
  return r;
}

/** Closes with `code` and the (truncated) reason; a socket that cannot close cleanly is dropped. */
export function closeSocket(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, truncateReason(reason));
  } catch {
    ws.terminate();
  }
}

/** Counts malformed input by reason; a run longer than `maxInRow` calls `onStorm` once. */
export class MalformedCounter {
  private inRow = 0;

  constructor(
    private readonly metrics: Metrics,
    private readonly transport: MediaTransportLabel,
    private readonly maxInRow: number,
    private readonly onStorm: (message: string) => void,
  ) {}

  /** A valid message: the run of garbage is over. */
  reset(): void {
    this.inRow = 0;
  }

  count(reason: MalformedReason, detail: string): void {
    this.metrics.malformed.labels(this.transport, reason).inc();
    if (++this.inRow === this.maxInRow + 1) this.onStorm(`too many malformed messages in a row (last: ${reason}, ${detail})`);
  }

  /** A refusal at admission: counted under its own reason, never part of a run. */
  refused(reason: MalformedReason): void {
    this.metrics.malformed.labels(this.transport, reason).inc();
  }
}

/**
 * Delivers transport events to the session's listener. Events that arrive before the session
 * attached (audio during admission) are kept, the oldest dropped past MAX_EARLY_EVENTS, and
 * delivered after the session's `attach` has returned (never re-entrantly inside it) and before
 * anything newer. A hangup is delivered once.
 */
export class EventOutlet {
  private listener: TransportListener | null = null;
  private early: TransportEvent[] = [];
  private hungUp = false;

  onEvent(listener: TransportListener): void {
    if (this.early.length === 0) {
      this.listener = listener;
      return;
    }
    // Until the early events are out, new ones queue behind them.
    queueMicrotask(() => {
      for (let i = 0; i < this.early.length; i++) listener(this.early[i]!);
      this.early = [];
      this.listener = listener;
    });
  }

  emit(event: TransportEvent): void {
    if (this.listener) {
      this.listener(event);
      return;
    }
    if (this.early.length >= MAX_EARLY_EVENTS) this.early.shift();
    this.early.push(event);
  }

  hangup(reason: string): void {
    if (this.hungUp) return;
    this.hungUp = true;
    this.emit({ type: 'hangup', reason });
  }
}

/** Frames in and out, counted locally and added to Prometheus every COUNTER_FLUSH_EVERY frames. */
export class FrameCounters {
  private inUnflushed = 0;
  private outUnflushed = 0;
  private readonly framesIn;
  private readonly framesOut;

  constructor(metrics: Metrics, transport: MediaTransportLabel) {
    this.framesIn = metrics.framesIn.labels(transport);
    this.framesOut = metrics.framesOut.labels(transport);
  }

  in(frames = 1): void {
    this.inUnflushed += frames;
    if (this.inUnflushed >= COUNTER_FLUSH_EVERY) this.flush();
  }

  out(frames: number): void {
    this.outUnflushed += frames;
    if (this.outUnflushed >= COUNTER_FLUSH_EVERY) this.flush();
  }

  flush(): void {
    if (this.inUnflushed > 0) this.framesIn.inc(this.inUnflushed);
    if (this.outUnflushed > 0) this.framesOut.inc(this.outUnflushed);
    this.inUnflushed = 0;
    this.outUnflushed = 0;
  }
}
