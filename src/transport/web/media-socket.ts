/**
 * One browser media WebSocket (`GET /web/media`) as a `Transport` (API.md, Web calls).
 *
 * Browser → server: binary frames of PCM16 LE mono 16 kHz (20 ms = 640 bytes; any whole number
 * of samples is accepted and cut into 20 ms frames), text frames of JSON control
 * `{"type":"dtmf","digit":"5"}` and `{"type":"end"}`. Server → browser: binary PCM16 agent
 * audio, `{"type":"clear"}`, and the call's events (`{type, seq, data}`, the SSE stream's
 * shapes) pushed by `CallEventRelay`.
 *
 * Marks: a browser has no mark protocol, so the transport keeps a virtual play-out clock like
 * the one `PacedPlayback` keeps for Twilio: each frame sent plays right after the previous one,
 * or, when the browser's buffer has run dry, after the page's jitter pre-roll. A mark is
 * acknowledged when the clock passes the audio sent before it; a `clear` returns pending marks
 * as `cleared`. Acks are driven by the node's shared pacer (no timer per call).
 *
 * Garbage policy, as for Twilio (media-socket.ts there): a malformed frame (odd byte length,
 * bad JSON, unknown type) is counted in `voxgate_media_malformed_messages_total{transport="web"}`
 * and dropped; `maxMalformedInRow` of them in a row close with 1008; a refused token closes
 * with 1008 and the reason at once (`reject`, decided by the route).
 */
import type { WebSocket, RawData } from 'ws';
import type { MalformedReason, Metrics } from '../../metrics/index.js';
import type { Clock, Paced, Pacer } from '../../session/index.js';
import { PCM16_16K, type AudioFormat, type Transport, type TransportEvent, type TransportListener } from '../types.js';
import { CLOSE_NORMAL, CLOSE_POLICY, DEFAULT_MAX_MALFORMED_IN_ROW, EventOutlet, FrameCounters, MalformedCounter, closeSocket } from '../socket-guard.js';

export { CLOSE_ERROR, CLOSE_NORMAL, CLOSE_POLICY, CLOSE_TRY_AGAIN } from '../socket-guard.js';

/** 20 ms at 16 kHz, 2 bytes a sample. */
export const WEB_FRAME_BYTES = 640;
const BYTES_PER_MS = 32;
/**
 * The page's player holds this much audio before it starts playing after running dry
 * (src/web/call/audio-worklet.js, PREROLL_MS). Marks count it, so "heard" stays honest.
 */
export const DEFAULT_JITTER_MS = 80;
/** Far above any real backlog (a mark per 100 ms, a lead of ~120 ms). */
const MAX_PENDING_MARKS = 4096;
/** A caller clock this far behind arrival time means the browser paused (tab hidden, mic late). */
const RESYNC_LAG_MS = 300;
/** After `close`, how long we wait for `call.ended` to reach the page before closing the socket. */
export const DEFAULT_CLOSE_LINGER_MS = 2000;
const DTMF_RE = /^[0-9*#A-D]$/;

export interface WebMediaSocketOptions {
  metrics: Metrics;
  /** The node's shared pacer: acknowledges marks on its clock. */
  pacer: Pacer;
  jitterMs?: number;
  maxMalformedInRow?: number;
  closeLingerMs?: number;
}

type State = 'admitting' | 'live' | 'closing' | 'closed';

interface PendingMark {
  name: string;
  /** Clock time at which the audio sent before the mark has played. */
  dueAt: number;
}

export class WebMediaSocket implements Transport, Paced {
  readonly kind = 'web' as const;
  readonly inputFormat: AudioFormat = PCM16_16K;
  readonly outputFormat: AudioFormat = PCM16_16K;

  private state: State = 'admitting';
  private readonly events = new EventOutlet();
  private readonly garbage: MalformedCounter;
  private readonly frames: FrameCounters;
  private pending: PendingMark[] = [];
  private playoutEndAt = 0;
  private readonly startedAt: number;
  /** Caller audio received, in ms of audio (the caller's own clock). */
  private callerMs = 0;
  private lingerTimer: NodeJS.Timeout | null = null;
  private closeReason = '';
  private readonly closingListeners: Array<() => void> = [];
  /** The page already has `call.ended` (it can arrive before the session closes us). */
  private endedSent = false;
  private readonly clock: Clock;
  private readonly jitterMs: number;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: WebMediaSocketOptions,
  ) {
    this.clock = options.pacer.clock;
    this.startedAt = this.clock.now();
    this.jitterMs = options.jitterMs ?? DEFAULT_JITTER_MS;
    this.garbage = new MalformedCounter(options.metrics, 'web', options.maxMalformedInRow ?? DEFAULT_MAX_MALFORMED_IN_ROW, (m) => this.closeWith(CLOSE_POLICY, m));
    this.frames = new FrameCounters(options.metrics, 'web');
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', () => this.onSocketClosed());
    ws.on('error', () => this.onSocketClosed());
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Closed or closing: nothing more goes to the browser but events and the close. */
  get closed(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  /** Marks sent and not yet acknowledged (tests, diagnostics). */
  get pendingMarks(): number {
    return this.pending.length;
  }

  /** The route admitted the socket: outbound audio may flow. */
  admit(): void {
    if (this.state === 'admitting') this.state = 'live';
  }

  onEvent(listener: TransportListener): void {
    this.events.onEvent(listener);
  }

  sendAudio(payload: Buffer): void {
    if (this.state !== 'live') return;
    this.ws.send(payload, { binary: true });
    const now = this.clock.now();
    // Ran dry: the page waits for its pre-roll again before it plays this frame.
    if (this.playoutEndAt < now) this.playoutEndAt = now + this.jitterMs;
    this.playoutEndAt += payload.length / BYTES_PER_MS;
    // Counted in 20 ms frames, whatever the message size: the metric measures audio, not messages.
    this.frames.out(Math.ceil(payload.length / (BYTES_PER_MS * 20)));
  }

  mark(name: string): void {
    if (this.state !== 'live') return;
    if (this.pending.length >= MAX_PENDING_MARKS) this.pending.shift();
    // A mark with nothing queued before it is due at once (the next tick).
    this.pending.push({ name, dueAt: Math.max(this.playoutEndAt, this.clock.now()) });
    this.options.pacer.add(this);
  }

  clear(): void {
    if (this.state !== 'live') return;
    this.sendJson({ type: 'clear' });
    this.playoutEndAt = this.clock.now();
    this.dropMarks();
  }

  /** Pacer tick: acknowledges every mark whose audio has played by `now`. */
  tick(now: number): void {
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.dueAt <= now) n++;
    if (n > 0) {
      const due = this.pending.splice(0, n);
      for (const m of due) this.emit({ type: 'mark', name: m.name, cleared: false });
    }
    if (this.pending.length === 0) this.options.pacer.remove(this);
  }

  /** A JSON message to the page (`clear`, call events). Dropped once the socket is closed. */
  sendJson(message: Record<string, unknown>): void {
    if (this.state === 'closed' || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(JSON.stringify(message));
  }

  /**
   * A call event for the page. `call.ended` while closing is the last word: the socket closes
   * right after it, so the page learns the outcome before the close frame.
   */
  sendCallEvent(event: { type: string; seq: number; data: Record<string, unknown> }): void {
    this.sendJson({ type: event.type, seq: event.seq, data: event.data });
    if (event.type !== 'call.ended') return;
    this.endedSent = true;
    if (this.state === 'closing') this.closeWith(CLOSE_NORMAL, this.closeReason);
  }

  /**
   * The session ended the call. Audio stops now; the socket stays open until `call.ended`
   * has been relayed (or `closeLingerMs`), then closes with 1000 and the end reason.
   */
  close(reason: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.closeReason = reason;
    this.dropMarks();
    this.options.pacer.remove(this);
    if (this.endedSent) return this.closeWith(CLOSE_NORMAL, reason);
    for (const l of this.closingListeners) l();
    this.lingerTimer = setTimeout(() => this.closeWith(CLOSE_NORMAL, reason), this.options.closeLingerMs ?? DEFAULT_CLOSE_LINGER_MS);
    this.lingerTimer.unref?.();
    this.emitHangup(`closed: ${reason}`);
  }

  /** Called when the session ends the call (before the linger): the relay looks for `call.ended`. */
  onClosing(listener: () => void): void {
    this.closingListeners.push(listener);
  }

  /** Refuses the socket: counted as malformed with `reason`, closed with 1008 at once. */
  reject(reason: MalformedReason, message: string): void {
    if (this.state === 'closed') return;
    this.garbage.refused(reason);
    this.closeWith(CLOSE_POLICY, `${reason}: ${message}`);
  }

  closeWith(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopTimers();
    closeSocket(this.ws, code, reason);
    this.emitHangup(`closed: ${reason}`);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) this.onAudio(buf);
    else this.onControl(buf);
  }

  private onAudio(buf: Buffer): void {
    if (buf.length === 0 || buf.length % 2 !== 0) {
      this.garbage.count('bad_payload', `audio frame of ${buf.length} bytes is not whole PCM16 samples`);
      return;
    }
    this.garbage.reset();
    const arrivalMs = this.clock.now() - this.startedAt;
    // The caller's clock is the audio itself; a browser that stopped sending (hidden tab, late
    // microphone) is moved up to arrival time so both recording channels stay in step.
    if (arrivalMs - this.callerMs > RESYNC_LAG_MS + buf.length / BYTES_PER_MS) this.callerMs = arrivalMs - buf.length / BYTES_PER_MS;
    for (let off = 0; off < buf.length; off += WEB_FRAME_BYTES) {
      const frame = buf.subarray(off, Math.min(off + WEB_FRAME_BYTES, buf.length));
      this.emit({ type: 'audio', payload: frame, timestampMs: this.callerMs });
      this.callerMs += frame.length / BYTES_PER_MS;
      this.frames.in();
    }
  }

  private onControl(buf: Buffer): void {
    let msg: unknown;
    try {
      msg = JSON.parse(buf.toString('utf8'));
    } catch {
      return this.garbage.count('invalid_json', 'text frame is not JSON');
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return this.garbage.count('invalid_json', 'control message is not an object');
    const m = msg as { type?: unknown; digit?: unknown };
    switch (m.type) {
      case 'dtmf':
        if (typeof m.digit !== 'string' || !DTMF_RE.test(m.digit)) return this.garbage.count('missing_field', 'dtmf needs a digit 0-9, *, #, A-D');
        this.garbage.reset();
        this.emit({ type: 'dtmf', digit: m.digit });
        return;
      case 'end':
        this.garbage.reset();
        // The caller hung up; the session ends the call and closes us (after `call.ended`).
        this.emitHangup('caller_hangup');
        return;
      default:
        return this.garbage.count(typeof m.type === 'string' ? 'unknown_event' : 'missing_field', `control type ${JSON.stringify(m.type)}`);
    }
  }

  private dropMarks(): void {
    if (this.pending.length === 0) return;
    const cleared = this.pending;
    this.pending = [];
    this.options.pacer.remove(this);
    // Reported after the caller's clear() returns, never re-entrantly inside it.
    queueMicrotask(() => {
      for (const m of cleared) this.emit({ type: 'mark', name: m.name, cleared: true });
    });
  }

  private emit(event: TransportEvent): void {
    this.events.emit(event);
  }

  private emitHangup(reason: string): void {
    this.events.hangup(reason);
  }

  private onSocketClosed(): void {
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.stopTimers();
    }
    this.emitHangup('socket closed');
  }

  private stopTimers(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.options.pacer.remove(this);
    this.frames.flush();
  }
}
