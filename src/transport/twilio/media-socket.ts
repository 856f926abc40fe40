/**
 * One Twilio Media Stream as a `Transport`: the I/O around the pure codec.
 *
 * Garbage policy (issue 2: bad input never crashes the process and never ends a healthy call):
 * - one malformed message (invalid JSON, unknown event, missing field, bad or oversized
 *   payload, binary frame, wrong streamSid, duplicate start) is counted by reason and dropped;
 *   the call goes on;
 * - anything but `connected` before `start`, and a missing/forged/expired/reused token or a
 *   token for another call (`reject`, decided by the route), closes the socket at once with
 *   1008 and the reason: an unauthenticated peer gets nothing parsed on its behalf;
 * - more than `maxMalformedInRow` malformed messages with no valid one between them closes the
 *   socket with 1008: at that point it is not a glitch but a peer that does not speak Twilio;
 * - no `start` within `startTimeoutMs` closes with 1008.
 */
import type { WebSocket, RawData } from 'ws';
import type { MalformedReason, Metrics } from '../../metrics/index.js';
import { MULAW_8K, type AudioFormat, type Transport, type TransportListener } from '../types.js';
import { CLOSE_ERROR, CLOSE_NORMAL, CLOSE_POLICY, DEFAULT_MAX_MALFORMED_IN_ROW, EventOutlet, FrameCounters, MalformedCounter, closeSocket } from '../socket-guard.js';
import { MULAW_FRAME_BYTES, OutboundEncoder, parseInbound, type InboundMessage, type StartInfo } from './codec.js';

export { CLOSE_ERROR, CLOSE_NORMAL, CLOSE_POLICY, CLOSE_TRY_AGAIN } from '../socket-guard.js';

/** Twilio sends `connected` and `start` right after the upgrade; 10 s is generous. */
const DEFAULT_START_TIMEOUT_MS = 10_000;
/** Marks we remember as sent-but-unacknowledged; far above any real backlog. */
const MAX_PENDING_MARKS = 4096;

export interface MediaSocketOptions {
  metrics: Metrics;
  /**
   * Called once when a well-formed `start` arrives. It authenticates the stream and attaches
   * it to a session, or calls `socket.reject(...)`. A rejection of the promise closes with 1011.
   */
  onStart(start: StartInfo, socket: TwilioMediaSocket): Promise<void>;
  maxMalformedInRow?: number;
  startTimeoutMs?: number;
  /**
   * The TCP socket under the WebSocket (the upgrade request's socket). Sends cork it until the
   * end of the current tick, so a playback tick's media message and its mark (and any catch-up
   * chunks) leave in one `writev` instead of one syscall each.
   */
  tcp?: Corkable;
}

/** The part of `net.Socket` the send path uses. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

type State = 'awaiting_start' | 'starting' | 'live' | 'closed';

export class TwilioMediaSocket implements Transport {
  readonly kind = 'twilio' as const;
  readonly inputFormat: AudioFormat = MULAW_8K;
  readonly outputFormat: AudioFormat = MULAW_8K;

  private state: State = 'awaiting_start';
  private encoder: OutboundEncoder | null = null;
  private startInfo: StartInfo | null = null;
  private readonly events = new EventOutlet();
  private readonly garbage: MalformedCounter;
  private readonly frames: FrameCounters;
  private startTimer: NodeJS.Timeout | null;
  /** Mark names sent and not yet echoed, oldest first. */
  private pendingMarks = new Set<string>();
  /** Mark names that were pending when we sent `clear`: Twilio echoes them at once. */
  private clearedMarks = new Set<string>();
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.options.tcp?.uncork();
  };

  constructor(
    private readonly ws: WebSocket,
    private readonly options: MediaSocketOptions,
  ) {
    this.garbage = new MalformedCounter(options.metrics, 'twilio', options.maxMalformedInRow ?? DEFAULT_MAX_MALFORMED_IN_ROW, (m) => this.closeWith(CLOSE_POLICY, m));
    this.frames = new FrameCounters(options.metrics, 'twilio');
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', () => this.onSocketClosed());
    ws.on('error', () => this.onSocketClosed());
    this.startTimer = setTimeout(() => this.reject('missing_field', 'no start message'), options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    this.startTimer.unref?.();
  }

  /** The `start` message once received (callSid, streamSid, custom parameters). */
  get start(): StartInfo | null {
    return this.startInfo;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  onEvent(listener: TransportListener): void {
    this.events.onEvent(listener);
  }

  sendAudio(payload: Buffer): void {
    if (this.state !== 'live' || this.encoder === null) return;
    this.corkForTick();
    this.ws.send(this.encoder.media(payload));
    // Counted in 20 ms frames, whatever the message size: the metric measures audio, not messages.
    this.frames.out(Math.ceil(payload.length / MULAW_FRAME_BYTES));
  }

  mark(name: string): void {
    if (this.state !== 'live' || this.encoder === null) return;
    if (this.pendingMarks.size >= MAX_PENDING_MARKS) {
      const oldest = this.pendingMarks.values().next().value as string;
      this.pendingMarks.delete(oldest);
    }
    this.pendingMarks.add(name);
    this.corkForTick();
    this.ws.send(this.encoder.mark(name));
  }

  /** Holds this tick's sends in the socket until the tick's synchronous work is done. */
  private corkForTick(): void {
    const tcp = this.options.tcp;
    if (this.corked || !tcp) return;
    this.corked = true;
    tcp.cork();
    process.nextTick(this.uncork);
  }

  clear(): void {
    if (this.state !== 'live' || this.encoder === null) return;
    // PROTOCOLS.md §1.5.3: after a clear Twilio echoes every pending mark; report those as cleared.
    for (const name of this.pendingMarks) this.clearedMarks.add(name);
    this.pendingMarks.clear();
    this.ws.send(this.encoder.clear());
  }

  /** Ends the stream from our side: Twilio then runs the TwiML after `<Connect>` (none: hang up). */
  close(reason: string): void {
    this.closeWith(CLOSE_NORMAL, reason);
  }

  /** Refuses the stream: counted as malformed with `reason`, closed with 1008. */
  reject(reason: MalformedReason, message: string): void {
    if (this.state === 'closed') return;
    this.garbage.refused(reason);
    this.closeWith(CLOSE_POLICY, `${reason}: ${message}`);
  }

  /** Closes with an explicit code (the route uses 1011 when attaching fails). */
  closeWith(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearStartTimer();
    this.frames.flush();
    closeSocket(this.ws, code, reason);
    this.events.hangup(`closed: ${reason}`);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.state === 'closed') return;
    if (isBinary) {
      this.garbage.count('binary_frame', 'binary frame');
      return;
    }
    const msg = parseInbound(data as Buffer);
    if (msg.event === 'malformed') {
      if (this.state === 'awaiting_start') {
        this.reject(msg.reason, `${msg.detail} before start`);
        return;
      }
      this.garbage.count(msg.reason, msg.detail);
      return;
    }
    this.handle(msg);
  }

  private handle(msg: Exclude<InboundMessage, { event: 'malformed' }>): void {
    if (msg.event === 'connected') {
      this.garbage.reset();
      return;
    }
    if (this.state === 'awaiting_start') {
      if (msg.event === 'start') {
        this.garbage.reset();
        this.begin(msg.start, msg.streamSid);
      } else {
        this.reject('media_before_start', `${msg.event} before start`);
      }
      return;
    }
    if (msg.streamSid !== this.encoder?.streamSid) {
      this.garbage.count('wrong_stream', 'streamSid does not match start');
      return;
    }
    this.garbage.reset();
    switch (msg.event) {
      case 'start':
        this.garbage.count('duplicate_start', 'second start');
        return;
      case 'media':
        // A <Connect> stream only carries the caller ("inbound"); ignore anything else.
        if (msg.track !== 'inbound') return;
        this.frames.in();
        this.emit({ type: 'audio', payload: msg.payload, timestampMs: msg.timestampMs });
        return;
      case 'mark': {
        const cleared = this.clearedMarks.delete(msg.name);
        if (!cleared) this.pendingMarks.delete(msg.name);
        this.emit({ type: 'mark', name: msg.name, cleared });
        return;
      }
      case 'dtmf':
        this.emit({ type: 'dtmf', digit: msg.digit });
        return;
      case 'stop':
        this.emitHangup('stop');
        // Twilio closes after `stop`; closing ourselves too frees the socket without waiting.
        this.closeWith(CLOSE_NORMAL, 'stream stopped');
        return;
      default: {
        const never: never = msg;
        throw new Error(`unhandled event ${JSON.stringify(never)}`);
      }
    }
  }

  private begin(start: StartInfo, streamSid: string): void {
    this.clearStartTimer();
    this.state = 'starting';
    this.startInfo = start;
    this.encoder = new OutboundEncoder(streamSid);
    this.options.onStart(start, this).then(
      () => {
        if (this.state === 'starting') this.state = 'live';
      },
      (err: unknown) => this.closeWith(CLOSE_ERROR, `attach failed: ${(err as Error).message ?? String(err)}`),
    );
  }

  private emit(event: Parameters<TransportListener>[0]): void {
    this.events.emit(event);
  }

  private emitHangup(reason: string): void {
    this.events.hangup(reason);
  }

  private onSocketClosed(): void {
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.clearStartTimer();
      this.frames.flush();
    }
    this.emitHangup('socket closed');
  }

  private clearStartTimer(): void {
    if (this.startTimer) {
      clearTimeout(this.startTimer);
      this.startTimer = null;
    }
  }
}
