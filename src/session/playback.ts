/**
 * Paced agent playback with a mark per chunk: the session's `Playback` and playback tracker.
 *
 * Pacing: a virtual play-out clock `playoutEndAt` says when everything sent so far will have
 * finished playing at the caller. Each pacer tick sends chunks of whole 20 ms frames (one frame,
 * or up to `chunkMs`) while that is less than `leadMs` ahead of now, so the caller's buffer holds
 * about `leadMs` of audio (plus at most one chunk): enough to ride out jitter, and a barge-in
 * `clear` discards it all at the caller (issue 2, item 7).
 * Mark acknowledgements correct the estimate: an ack for stream offset X at time t means the
 * caller still has (sent − X) ms queued, so play-out cannot end before t + (sent − X).
 *
 * Truth: `heardMs` only advances on acknowledged marks (STYLE.md rule 6). A mark goes out every
 * `markEveryMs` of audio and at the end of each utterance; marks echoed because of a `clear`
 * arrive flagged `cleared` from the transport and are ignored.
 *
 * At a `clear` (barge-in) the position is refined between marks: an ack for offset X at time t
 * says the caller was at X at t (or later: the ack spent time in flight), and playback runs at
 * real time while audio is queued, so at `now` the caller has heard at least X + (now − t).
 * That is capped by the next mark not yet acknowledged (had the caller reached it, its ack
 * would be here or in flight) and by what was sent. So the cut is still anchored on acks and
 * never ahead of the caller by more than an ack's transit time, but no longer up to a whole
 * mark interval behind (issue 5: truncate within 40 ms of the caller's playback clock).
 */
import type { PlaybackPosition, Playback } from '../engine/types.js';
import { bytesPerMs, type AudioFormat } from '../transport/types.js';
import type { Pacer, Paced } from './pacer.js';

/** What playback needs of a transport. */
export interface PlaybackSink {
  readonly bufferedAmount: number;
  sendAudio(payload: Buffer): void;
  mark(name: string): void;
  clear(): void;
}

export interface PlaybackOptions {
  format: AudioFormat;
  pacer: Pacer;
  leadMs: number;
  /** Converts the pacer clock to the host clock (ms since media start) for `onFirstAudioSent`. */
  hostTime: (clockMs: number) => number;
  /** Every frame sent, with the clock time it starts playing (the recorder's agent channel). */
  onFrame?: (frame: Buffer, playAtMs: number) => void;
  /** A clear at clock time `atMs`: nothing scheduled after it will be heard. */
  onClear?: (atMs: number) => void;
  /** A mark every this many ms of audio; 100 ms gives barge-in truncation 100 ms resolution. */
  markEveryMs?: number;
  /**
   * Most audio per `sendAudio`, in whole 20 ms frames (default one frame). Calls send 100 ms:
   * a fifth of the messages, so a fifth of the socket writes and base64 runs; Twilio plays any
   * payload length in order (PROTOCOLS.md §1.4). Pacing, marks and positions are unchanged:
   * a chunk goes out when the caller's buffer falls below the lead, so the caller holds at most
   * lead + one chunk, all of which a barge-in `clear` discards.
   */
  chunkMs?: number;
  /** Socket back-pressure: above this many queued bytes no frame is sent this tick. */
  maxBufferedBytes?: number;
}

/** 20 ms frames, as Twilio sends and expects (PROTOCOLS.md §1.3). */
export const FRAME_MS = 20;
/** What a call's playback sends per message (see `PlaybackOptions.chunkMs`). */
export const CALL_CHUNK_MS = 100;
const DEFAULT_MARK_EVERY_MS = 100;
/** About a second of Twilio media messages (~300 bytes each at 20 ms): the socket is congested. */
const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024;
/**
 * Taken off the time since the last ack when refining a cleared position: the caller's player
 * and our clock advance in steps (its tick, our event loop), and erring short keeps the cut at or
 * before what was heard, never after it.
 */
const ESTIMATE_MARGIN_MS = 10;
/** Positions of finished/cleared utterances kept for late `position()` calls. */
const RECENT_POSITIONS = 16;

interface Utterance {
  id: string;
  serial: number;
  chunks: Buffer[];
  /** Read offset into chunks[0]. */
  offset: number;
  queuedBytes: number;
  finished: boolean;
  /** The final mark went out: nothing more of this utterance will be sent. */
  allSent: boolean;
  sentBytes: number;
  heardMs: number;
  /** Pacer-clock time of the ack that set `heardMs` (null: no ack yet). */
  heardAckAt: number | null;
  bytesAtLastMark: number;
  firstSent: boolean;
}

interface MarkInfo {
  utterance: Utterance;
  /** Utterance offset (ms) the mark stands after. */
  atMs: number;
  /** Stream offset (ms since the last clear) the mark stands after. */
  streamMs: number;
  final: boolean;
}

export class PacedPlayback implements Playback, Paced {
  private sink: PlaybackSink | null = null;
  private queue: Utterance[] = [];
  private marks = new Map<string, MarkInfo>();
  private recent = new Map<string, PlaybackPosition>();
  private firstListeners: Array<(utteranceId: string, atMs: number) => void> = [];
  private doneListeners: Array<(position: PlaybackPosition) => void> = [];
  private serial = 0;
  private playoutEndAt = 0;
  private streamSentMs = 0;
  private disposed = false;
  /**
   * The last tick stopped for want of audio (or none ran yet), not for want of time: new audio
   * goes out at once through a pacer kick instead of at the next shared tick.
   */
  private starved = true;
  private kickQueued = false;
  private readonly bytesPerMs: number;
  private readonly frameBytes: number;
  private readonly chunkBytes: number;
  private readonly markEveryBytes: number;
  private readonly maxBufferedBytes: number;

  constructor(private readonly opts: PlaybackOptions) {
    this.bytesPerMs = bytesPerMs(opts.format);
    this.frameBytes = this.bytesPerMs * FRAME_MS;
    this.chunkBytes = this.frameBytes * Math.max(1, Math.floor((opts.chunkMs ?? FRAME_MS) / FRAME_MS));
    this.markEveryBytes = this.bytesPerMs * (opts.markEveryMs ?? DEFAULT_MARK_EVERY_MS);
    this.maxBufferedBytes = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  }

  /** The transport is connected: queued audio starts flowing on the next tick. */
  attach(sink: PlaybackSink): void {
    this.sink = sink;
    this.playoutEndAt = this.opts.pacer.clock.now();
    if (this.queue.length > 0) this.wake();
  }

  /** The call is over: stop ticking, forget everything. */
  dispose(): void {
    this.disposed = true;
    this.opts.pacer.remove(this);
    this.queue = [];
    this.marks.clear();
    this.sink = null;
  }

  get active(): boolean {
    return this.queue.length > 0;
  }

  /**
   * The caller has heard all audio queued so far, as far as play-out timing tells: nothing left
   * to send but a partial frame, and the caller's buffer has run out. Unlike `active`, true in
   * the middle of an unfinished utterance that is waiting for more audio.
   */
  get drained(): boolean {
    return this.queue.every((u) => u.queuedBytes < this.frameBytes) && this.playoutEndAt <= this.opts.pacer.clock.now();
  }

  enqueue(utteranceId: string, audio: Buffer): void {
    if (this.disposed || audio.length === 0) return;
    const u = this.utterance(utteranceId);
    if (u.finished) return;
    u.chunks.push(audio);
    u.queuedBytes += audio.length;
    if (this.sink) this.wake();
  }

  finish(utteranceId: string): void {
    if (this.disposed) return;
    let u = this.queue.find((q) => q.id === utteranceId);
    if (!u) {
      if (this.recent.has(utteranceId)) return; // already played or cleared
      // An utterance with no audio at all (TTS produced nothing) still reports done, at 0 ms.
      u = this.utterance(utteranceId);
    }
    u.finished = true;
    if (this.sink) this.wake();
  }

  clear(): PlaybackPosition {
    const now = this.opts.pacer.clock.now();
    const head = this.queue[0];
    for (const u of this.queue) u.heardMs = this.heardAt(u, now);
    const position = head ? this.positionOf(head) : { utteranceId: null, heardMs: 0, sentMs: 0 };
    const anythingSent = this.queue.some((u) => u.sentBytes > 0 || u.allSent);
    for (const u of this.queue) this.remember(this.positionOf(u));
    this.queue = [];
    // Echoes of these marks come back flagged `cleared` (or not at all); either way, ignore them.
    this.marks.clear();
    this.opts.pacer.remove(this);
    if (this.sink && anythingSent) {
      this.sink.clear();
      this.opts.onClear?.(now);
    }
    this.playoutEndAt = now;
    this.streamSentMs = 0;
    this.starved = true;
    return position;
  }

  position(utteranceId: string): PlaybackPosition {
    const u = this.queue.find((q) => q.id === utteranceId);
    if (u) return this.positionOf(u);
    return this.recent.get(utteranceId) ?? { utteranceId, heardMs: 0, sentMs: 0 };
  }

  onFirstAudioSent(listener: (utteranceId: string, atMs: number) => void): void {
    this.firstListeners.push(listener);
  }

  onUtteranceDone(listener: (position: PlaybackPosition) => void): void {
    this.doneListeners.push(listener);
  }

  /** A mark came back from the transport. */
  onMark(name: string, cleared: boolean): void {
    const info = this.marks.get(name);
    if (!info) return;
    this.marks.delete(name);
    if (cleared) return;
    const u = info.utterance;
    const now = this.opts.pacer.clock.now();
    if (info.atMs > u.heardMs) {
      u.heardMs = info.atMs;
      u.heardAckAt = now;
    }
    // The caller still has (sent − acked) ms queued: play-out cannot end before now + that.
    const remaining = this.streamSentMs - info.streamMs;
    if (now + remaining > this.playoutEndAt) this.playoutEndAt = now + remaining;
    if (info.final) {
      const idx = this.queue.indexOf(u);
      if (idx >= 0) this.queue.splice(idx, 1);
      const position = this.positionOf(u);
      this.remember(position);
      if (this.queue.length === 0) this.opts.pacer.remove(this);
      for (const l of this.doneListeners) l(position);
    }
  }

  /**
   * There is new audio (or an end): join the shared pacer, and when the playback was waiting for
   * audio (idle, or an utterance running dry) send what the lead allows right away rather than
   * up to a tick later. Frames, marks and play-out times are the same either way; only the
   * moment the first of them goes out moves earlier.
   */
  private wake(): void {
    this.opts.pacer.add(this);
    if (this.starved && !this.kickQueued) {
      this.kickQueued = true;
      this.opts.pacer.kick(this);
    }
  }

  /** Pacer tick: send frames until the caller's buffer holds `leadMs` of audio. */
  tick(now: number): void {
    this.kickQueued = false;
    const sink = this.sink;
    if (!sink) return;
    if (this.playoutEndAt < now) this.playoutEndAt = now; // caller's buffer ran dry (or idle)
    if (sink.bufferedAmount > this.maxBufferedBytes) {
      this.starved = false; // waiting for the socket, not for audio: the shared tick retries
      return;
    }
    this.starved = false;
    while (this.playoutEndAt - now < this.opts.leadMs) {
      const u = this.sending();
      if (!u) {
        // Everything is out; acks need no ticks. `enqueue` brings us back.
        this.starved = true;
        this.opts.pacer.remove(this);
        return;
      }
      if (u.queuedBytes >= this.frameBytes || (u.finished && u.queuedBytes > 0)) {
        // Whole frames only, unless this is the utterance's tail.
        const whole = u.finished ? u.queuedBytes : u.queuedBytes - (u.queuedBytes % this.frameBytes);
        const frame = this.take(u, Math.min(this.chunkBytes, whole));
        if (frame.length === 0) continue;
        const playAt = this.playoutEndAt;
        sink.sendAudio(frame);
        this.opts.onFrame?.(frame, playAt);
        const frameMs = frame.length / this.bytesPerMs;
        u.sentBytes += frame.length;
        this.streamSentMs += frameMs;
        this.playoutEndAt += frameMs;
        if (!u.firstSent) {
          u.firstSent = true;
          const at = this.opts.hostTime(now);
          for (const l of this.firstListeners) l(u.id, at);
        }
        if (u.sentBytes - u.bytesAtLastMark >= this.markEveryBytes) this.sendMark(sink, u, false);
      } else if (u.finished) {
        this.sendMark(sink, u, true);
        u.allSent = true;
      } else {
        this.starved = true;
        return; // waiting for more audio of this utterance (an underrun if it lasts)
      }
    }
  }

  /** The utterance whose audio goes out next: the first not yet fully sent. */
  private sending(): Utterance | undefined {
    for (const u of this.queue) if (!u.allSent) return u;
    return undefined;
  }

  private sendMark(sink: PlaybackSink, u: Utterance, final: boolean): void {
    const atMs = u.sentBytes / this.bytesPerMs;
    // Names are unique per playback: serial, offset and a final flag (`vg3:1540` / `vg3:1540:end`).
    const name = `vg${u.serial}:${atMs}${final ? ':end' : ''}`;
    this.marks.set(name, { utterance: u, atMs, streamMs: this.streamSentMs, final });
    u.bytesAtLastMark = u.sentBytes;
    sink.mark(name);
  }

  /** Cuts `n` bytes off the front of the utterance: a view when one chunk holds them, else a copy. */
  private take(u: Utterance, n: number): Buffer {
    if (this.bytesPerMs % 2 === 0) n -= n % 2; // PCM16: whole samples only
    if (n <= 0) {
      // A lone odd byte at the end of a PCM16 utterance: drop it.
      u.chunks = [];
      u.offset = 0;
      u.queuedBytes = 0;
      return Buffer.alloc(0);
    }
    const head = u.chunks[0]!;
    if (head.length - u.offset >= n) {
      const frame = head.subarray(u.offset, u.offset + n);
      u.offset += n;
      if (u.offset === head.length) {
        u.chunks.shift();
        u.offset = 0;
      }
      u.queuedBytes -= n;
      return frame;
    }
    const frame = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = u.chunks[0]!;
      const k = Math.min(n - filled, c.length - u.offset);
      c.copy(frame, filled, u.offset, u.offset + k);
      filled += k;
      u.offset += k;
      if (u.offset === c.length) {
        u.chunks.shift();
        u.offset = 0;
      }
    }
    u.queuedBytes -= n;
    return frame;
  }

  private utterance(id: string): Utterance {
    for (const u of this.queue) if (u.id === id) return u;
    const u: Utterance = {
      id,
      serial: ++this.serial,
      chunks: [],
      offset: 0,
      queuedBytes: 0,
      finished: false,
      allSent: false,
      sentBytes: 0,
      heardMs: 0,
      heardAckAt: null,
      bytesAtLastMark: 0,
      firstSent: false,
    };
    this.queue.push(u);
    return u;
  }

  /** What the caller has heard of `u` at `now`: the last ack plus real time since, within bounds. */
  private heardAt(u: Utterance, now: number): number {
    if (u.heardAckAt === null) return u.heardMs;
    let bound = u.sentBytes / this.bytesPerMs;
    for (const m of this.marks.values()) {
      if (m.utterance === u && m.atMs > u.heardMs && m.atMs < bound) bound = m.atMs;
    }
    const elapsed = Math.max(0, now - u.heardAckAt - ESTIMATE_MARGIN_MS);
    return Math.max(u.heardMs, Math.floor(Math.min(u.heardMs + elapsed, bound)));
  }

  private positionOf(u: Utterance): PlaybackPosition {
    return { utteranceId: u.id, heardMs: u.heardMs, sentMs: u.sentBytes / this.bytesPerMs };
  }

  private remember(p: PlaybackPosition): void {
    if (p.utteranceId === null) return;
    this.recent.delete(p.utteranceId);
    this.recent.set(p.utteranceId, p);
    if (this.recent.size > RECENT_POSITIONS) this.recent.delete(this.recent.keys().next().value as string);
  }
}
