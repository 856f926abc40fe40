/**
 * One pacing clock for every playback on the node.
 *
 * A timer per call would mean 1,000 timers firing 50–100 times a second each, with their own
 * drift; one timer ticking every `tickMs` that walks the set of *active* playbacks costs one
 * wake-up per tick for the whole node and keeps every call on the same clock. Playbacks join
 * the set while they have audio queued or unacknowledged and leave it when idle.
 */

/** A monotonic ms clock and its timer, injectable so tests run paced playback on a fake clock. */
export interface Clock {
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    // Live sockets keep the process alive; the pacer alone must not.
    t.unref();
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export interface Paced {
  tick(nowMs: number): void;
}

/**
 * 10 ms: half a frame. With PLAYBACK_LEAD_MS ≥ 20 the lead always covers at least two ticks,
 * so a late tick (GC pause, busy loop) eats into the lead instead of starving the caller.
 */
export const DEFAULT_TICK_MS = 10;

export class Pacer {
  private readonly members = new Set<Paced>();
  private timer: unknown = null;
  private readonly kicked = new Set<Paced>();
  private kickScheduled = false;

  constructor(
    readonly clock: Clock = systemClock,
    private readonly tickMs: number = DEFAULT_TICK_MS,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  get size(): number {
    return this.members.size;
  }

  add(member: Paced): void {
    if (this.members.has(member)) return;
    this.members.add(member);
    if (this.timer === null) this.timer = this.clock.setInterval(() => this.tick(), this.tickMs);
  }

  remove(member: Paced): void {
    if (!this.members.delete(member)) return;
    if (this.members.size === 0 && this.timer !== null) {
      this.clock.clearInterval(this.timer);
      this.timer = null;
    }
  }

  /**
   * Services `member` once, out of band, as soon as the current I/O callbacks are done: for a
   * playback that was waiting for audio and just got some, so its first frame does not wait up to
   * a tick (10 ms) for the shared timer: that wait adds straight to voice-to-voice latency.
   *
   * `setImmediate`, not a synchronous call or a microtask: the caller (an engine handling a
   * provider message, a session attaching its transport) finishes its own state changes and
   * promise chains first — a Twilio socket only takes audio once its attach has settled, a few
   * microtasks after the engine's greeting is enqueued — and all kicks of one loop turn share one
   * immediate. The shared timer keeps pacing afterwards; there is still one timer per node.
   */
  kick(member: Paced): void {
    this.kicked.add(member);
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      const now = this.clock.now();
      const members = [...this.kicked];
      this.kicked.clear();
      for (const m of members) {
        try {
          m.tick(now);
        } catch (err) {
          this.onError(err);
        }
      }
    });
  }

  /** Services every active playback once; one failing member never stops the others. */
  tick(): void {
    const now = this.clock.now();
    for (const m of this.members) {
      try {
        m.tick(now);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
    this.members.clear();
    this.kicked.clear();
  }
}
