/**
 * A Twilio Media Streams client simulator (PROTOCOLS.md §1): it connects to the gateway like
 * Twilio does, streams caller audio, and plays agent audio like Twilio's per-stream playback
 * queue. Shared by tests and bench/.
 *
 * - On open: `connected`, then `start` (streamSid, accountSid, callSid, tracks ["inbound"],
 *   mediaFormat, customParameters with the stream token), then `media` every 20 ms: 160 bytes of
 *   μ-law, `sequenceNumber`/`chunk`/`timestamp` as strings of digits, timestamps +20.
 * - Playback (§1.5): outbound audio and marks go into one ordered queue played at 8 bytes/ms
 *   by a jitter-free player; a mark is echoed when the audio before it has played (at once if
 *   nothing is queued); `clear` drops unplayed audio and echoes every pending mark at once.
 * - It records what it heard: segments of continuous agent audio (gaps = underruns), first
 *   agent audio time, mark and clear times, and any outbound message that breaks §1.4.
 *
 * Many instances share one `CarrierTicker` (one timer), so the bench can run 1,000 of them.
 */
import WebSocket from 'ws';

/** μ-law silence (PROTOCOLS.md audio constants). */
const SILENCE = 0xff;
const FRAME_BYTES = 160;
const FRAME_MS = 20;
const BYTES_PER_MS = 8;

/** One timer for every carrier in the process; `manual` lets a test drive time itself. */
export class CarrierTicker {
  private readonly members = new Set<TwilioCarrier>();
  private timer: NodeJS.Timeout | null = null;
  private manualNow = 0;

  constructor(private readonly opts: { tickMs?: number; manual?: boolean } = {}) {}

  now(): number {
    return this.opts.manual ? this.manualNow : performance.now();
  }

  add(c: TwilioCarrier): void {
    this.members.add(c);
    if (!this.opts.manual && this.timer === null) {
      // Service in the check phase, after the poll phase has read whatever the sockets hold: a
      // late timer then plays audio that already arrived instead of reporting a false underrun.
      this.timer = setInterval(() => setImmediate(() => this.tick()), this.opts.tickMs ?? 5);
    }
  }

  remove(c: TwilioCarrier): void {
    this.members.delete(c);
    if (this.members.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Manual mode: move time forward and service every carrier. */
  advance(ms: number): void {
    this.manualNow += ms;
    this.tick();
  }

  tick(): void {
    const now = this.now();
    for (const c of this.members) c.service(now);
  }
}

let defaultTicker: CarrierTicker | null = null;
function sharedTicker(): CarrierTicker {
  defaultTicker ??= new CarrierTicker();
  return defaultTicker;
}

export interface CarrierOptions {
  /** The gateway's media URL, e.g. `ws://127.0.0.1:PORT/twilio/media`. */
  url: string;
  /** Sent as `customParameters.token` unless `customParameters` is given. */
  token?: string;
  customParameters?: Record<string, string>;
  callSid?: string;
  accountSid?: string;
  streamSid?: string;
  /** Send frames of silence when no caller audio is queued (Twilio does). Default true. */
  continuous?: boolean;
  /** Keep the agent audio heard (for content checks). Default false (bench: lean). */
  keepHeardAudio?: boolean;
  /** Don't send `start` on open (tests of pre-start garbage). */
  skipStart?: boolean;
  ticker?: CarrierTicker;
}

export interface HeardSegment {
  startMs: number;
  endMs: number;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

let sidCounter = 0;
function fakeSid(prefix: string): string {
  sidCounter++;
  return prefix + sidCounter.toString(16).padStart(32, '0');
}

export class TwilioCarrier {
  readonly streamSid: string;
  readonly callSid: string;
  readonly accountSid: string;
  readonly ws: WebSocket;
  readonly closed: Promise<CloseInfo>;
  /** Times below are ms on the ticker clock since the stream started. */
  startedAt = 0;
  firstAgentAudioMs: number | null = null;
  framesSent = 0;
  /** Agent audio received, in 20 ms frames. */
  framesReceived = 0;
  playedBytes = 0;
  segments: HeardSegment[] = [];
  marksEchoed: Array<{ name: string; atMs: number; cleared: boolean }> = [];
  clearsAtMs: number[] = [];
  /** Outbound messages that break PROTOCOLS.md §1.4 (unknown event, extra keys, bad payload). */
  protocolErrors: string[] = [];
  heardAudio: Buffer[] = [];
  closeInfo: CloseInfo | null = null;

  private readonly ticker: CarrierTicker;
  private readonly opts: CarrierOptions;
  private seq = 0;
  private chunk = 0;
  private inbound: Buffer[] = [];
  private inboundOffset = 0;
  private playQueue: Array<{ audio: Buffer; offset: number } | { mark: string }> = [];
  private playClock = 0;
  private streaming = false;

  private constructor(opts: CarrierOptions) {
    this.opts = opts;
    this.ticker = opts.ticker ?? sharedTicker();
    this.streamSid = opts.streamSid ?? fakeSid('MZ');
    this.callSid = opts.callSid ?? fakeSid('CA');
    this.accountSid = opts.accountSid ?? 'AC' + '0'.repeat(32);
    this.ws = new WebSocket(opts.url);
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.ticker.remove(this);
        resolve(this.closeInfo);
      });
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
  }

  /** Connects and (unless `skipStart`) sends `connected` and `start`, then streams. */
  static async connect(opts: CarrierOptions): Promise<TwilioCarrier> {
    const c = new TwilioCarrier(opts);
    await new Promise<void>((resolve, reject) => {
      c.ws.once('open', () => resolve());
      c.ws.once('error', reject);
    });
    c.sendJson({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    if (!opts.skipStart) c.sendStart();
    return c;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Agent audio queued at the carrier, not yet played. */
  get queuedMs(): number {
    let bytes = 0;
    for (const q of this.playQueue) if ('audio' in q) bytes += q.audio.length - q.offset;
    return bytes / BYTES_PER_MS;
  }

  /** Idle gaps between heard agent audio segments longer than `minMs` (underruns). */
  gaps(minMs = 1): number[] {
    const out: number[] = [];
    for (let i = 1; i < this.segments.length; i++) {
      const g = this.segments[i]!.startMs - this.segments[i - 1]!.endMs;
      if (g >= minMs) out.push(g);
    }
    return out;
  }

  sendStart(): void {
    const customParameters = this.opts.customParameters ?? (this.opts.token !== undefined ? { token: this.opts.token } : {});
    this.sendJson({
      event: 'start',
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      start: {
        accountSid: this.accountSid,
        streamSid: this.streamSid,
        callSid: this.callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters,
      },
    });
    this.startedAt = this.ticker.now();
    this.playClock = 0;
    this.streaming = true;
    this.ticker.add(this);
  }

  /** Queues caller audio (μ-law 8 kHz) to stream in real time, 160 bytes per 20 ms. */
  say(audio: Buffer): void {
    this.inbound.push(audio);
  }

  /** Sends caller audio at once, as fast as the socket takes it (fast clock for benches/tests). */
  blast(audio: Buffer): void {
    for (let off = 0; off < audio.length; off += FRAME_BYTES) this.sendFrame(audio.subarray(off, off + FRAME_BYTES));
  }

  sendDtmf(digit: string): void {
    this.sendJson({ event: 'dtmf', sequenceNumber: String(++this.seq), streamSid: this.streamSid, dtmf: { track: 'inbound_track', digit } });
  }

  /** Raw text or binary, for garbage tests. */
  sendRaw(data: string | Buffer, binary = false): void {
    if (this.open) this.ws.send(data, { binary });
  }

  /** The caller hangs up: `stop`, then Twilio closes the socket. */
  async hangup(): Promise<CloseInfo> {
    if (this.open) {
      this.sendJson({
        event: 'stop',
        sequenceNumber: String(++this.seq),
        streamSid: this.streamSid,
        stop: { accountSid: this.accountSid, callSid: this.callSid },
      });
      this.ws.close(1000);
    }
    this.streaming = false;
    this.ticker.remove(this);
    return this.closed;
  }

  /** Drops the connection without `stop` (network loss). */
  terminate(): void {
    this.streaming = false;
    this.ticker.remove(this);
    this.ws.terminate();
  }

  /** Ticker callback: send due caller frames, advance the player. */
  service(now: number): void {
    if (!this.streaming || !this.open) return;
    const elapsed = now - this.startedAt;
    const due = Math.floor(elapsed / FRAME_MS);
    while (this.chunk < due) this.sendFrame(this.nextInboundFrame());
    this.play(elapsed);
  }

  private nextInboundFrame(): Buffer | null {
    const head = this.inbound[0];
    if (!head) return this.opts.continuous === false ? null : SILENCE_FRAME;
    const frame = head.subarray(this.inboundOffset, this.inboundOffset + FRAME_BYTES);
    this.inboundOffset += FRAME_BYTES;
    if (this.inboundOffset >= head.length) {
      this.inbound.shift();
      this.inboundOffset = 0;
    }
    if (frame.length === FRAME_BYTES) return frame;
    const padded = Buffer.alloc(FRAME_BYTES, SILENCE);
    frame.copy(padded);
    return padded;
  }

  private sendFrame(frame: Buffer | null): void {
    const n = ++this.chunk;
    if (frame === null) return; // a gap in the stream (continuous: false)
    this.framesSent++;
    this.sendJson({
      event: 'media',
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      media: { track: 'inbound', chunk: String(n), timestamp: String((n - 1) * FRAME_MS), payload: frame.toString('base64') },
    });
  }

  /** Plays queued agent audio up to `untilMs` at 8 bytes/ms; echoes marks as they are reached. */
  private play(untilMs: number): void {
    while (this.playClock < untilMs) {
      this.echoHeadMarks();
      const head = this.playQueue[0];
      if (!head) {
        this.playClock = untilMs; // idle: nothing to play
        return;
      }
      const h = head as { audio: Buffer; offset: number };
      const bytes = Math.min(h.audio.length - h.offset, Math.floor((untilMs - this.playClock) * BYTES_PER_MS));
      if (bytes <= 0) return;
      const startMs = this.playClock;
      if (this.opts.keepHeardAudio) this.heardAudio.push(h.audio.subarray(h.offset, h.offset + bytes));
      h.offset += bytes;
      this.playedBytes += bytes;
      this.playClock += bytes / BYTES_PER_MS;
      this.addSegment(startMs, this.playClock);
      if (h.offset >= h.audio.length) this.playQueue.shift();
    }
    this.echoHeadMarks();
  }

  private addSegment(startMs: number, endMs: number): void {
    const last = this.segments[this.segments.length - 1];
    if (last && Math.abs(last.endMs - startMs) < 1e-6) last.endMs = endMs;
    else this.segments.push({ startMs, endMs });
  }

  private echoHeadMarks(): void {
    while (this.playQueue.length > 0 && 'mark' in this.playQueue[0]!) {
      const m = this.playQueue.shift() as { mark: string };
      this.echoMark(m.mark, false);
    }
  }

  private echoMark(name: string, cleared: boolean): void {
    this.marksEchoed.push({ name, atMs: this.ticker.now() - this.startedAt, cleared });
    this.sendJson({ event: 'mark', sequenceNumber: String(++this.seq), streamSid: this.streamSid, mark: { name } });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.protocolErrors.push('binary frame');
      return;
    }
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    } catch {
      this.protocolErrors.push('invalid JSON');
      return;
    }
    if (msg.streamSid !== this.streamSid) this.protocolErrors.push(`wrong streamSid in ${String(msg.event)}`);
    // §1.2: a missing or extra field is Twilio error 31951; outbound messages carry exactly these keys.
    const keys = Object.keys(msg).sort().join();
    const expected = msg.event === 'media' ? 'event,media,streamSid' : msg.event === 'mark' ? 'event,mark,streamSid' : 'event,streamSid';
    if (keys !== expected) this.protocolErrors.push(`${String(msg.event)} must carry exactly {${expected}}, got {${keys}}`);
    switch (msg.event) {
      case 'media': {
        const media = msg.media as Record<string, unknown> | undefined;
        if (!media || Object.keys(media).join() !== 'payload' || typeof media.payload !== 'string') {
          this.protocolErrors.push('media must carry exactly {payload}');
          return;
        }
        const audio = Buffer.from(media.payload, 'base64');
        // Raw μ-law only (§1.4): a WAV header would be played as noise, and bad base64 is 31951.
        if (audio.length === 0 || Math.ceil(audio.length / 3) * 4 !== media.payload.length) this.protocolErrors.push('media.payload is not base64');
        if (audio.subarray(0, 4).toString('latin1') === 'RIFF') this.protocolErrors.push('media.payload carries a WAV header');
        // In 20 ms frames, as the gateway's voxgate_media_frames_out_total counts (messages may be longer).
        this.framesReceived += Math.ceil(audio.length / 160);
        if (this.firstAgentAudioMs === null) this.firstAgentAudioMs = this.ticker.now() - this.startedAt;
        this.playQueue.push({ audio, offset: 0 });
        return;
      }
      case 'mark': {
        const name = (msg.mark as Record<string, unknown> | undefined)?.name;
        if (typeof name !== 'string' || Object.keys(msg.mark as object).join() !== 'name') {
          this.protocolErrors.push('mark must carry exactly {name}');
          return;
        }
        this.playQueue.push({ mark: name });
        // Nothing buffered ahead of it: echoed right away (§1.5.2).
        if (this.playQueue.length === 1) this.echoHeadMarks();
        return;
      }
      case 'clear': {
        this.clearsAtMs.push(this.ticker.now() - this.startedAt);
        const marks = this.playQueue.filter((q): q is { mark: string } => 'mark' in q);
        this.playQueue = [];
        for (const m of marks) this.echoMark(m.mark, true);
        return;
      }
      default:
        this.protocolErrors.push(`unknown event ${String(msg.event)}`);
    }
  }

  private sendJson(msg: unknown): void {
    if (this.open) this.ws.send(JSON.stringify(msg));
  }
}

const SILENCE_FRAME = Buffer.alloc(FRAME_BYTES, SILENCE);
