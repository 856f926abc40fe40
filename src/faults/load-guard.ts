/**
 * Overload guard: when the event loop is saturated, new calls are refused cleanly instead of
 * making every live call stutter. All calls of a node share one event loop and one pacing
 * clock (session/pacer.ts); once the loop runs late, every call's 20 ms frames run late
 * together, so taking one more call makes all of them worse.
 *
 * The signal is event-loop delay (perf_hooks `monitorEventLoopDelay`): the worst delay of
 * each sample window. A node is overloaded when the worst delay was above the threshold in
 * each of the last `windows` windows (1 s by default): a single GC pause or a one-off slow
 * request does not refuse calls, a loop that stays late does.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Gauge } from 'prom-client';

export interface LoadGuardOptions {
  /** Worst event-loop delay tolerated, ms; 0 turns the guard off. */
  maxLagMs: number;
  /** Sample window, ms. */
  windowMs?: number;
  /** Consecutive windows above the threshold that make the node overloaded. */
  windows?: number;
  gauge?: Gauge;
}

/** 10 ms: fine enough to see a 200 ms stall, coarse enough to cost nothing. */
const RESOLUTION_MS = 10;
const DEFAULT_WINDOW_MS = 500;
const DEFAULT_WINDOWS = 2;

export class LoadGuard {
  private histogram: IntervalHistogram | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly recent: number[] = [];

  constructor(private readonly opts: LoadGuardOptions) {}

  start(): void {
    if (this.timer || this.opts.maxLagMs <= 0) return;
    const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    h.enable();
    this.histogram = h;
    this.timer = setInterval(() => this.sample(), this.opts.windowMs ?? DEFAULT_WINDOW_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.histogram?.disable();
    this.histogram = null;
    this.recent.length = 0;
  }

  /** The worst delay of the last window, ms. */
  get lagMs(): number {
    return this.recent.at(-1) ?? 0;
  }

  /** True while the loop has been late beyond the threshold for the last windows. */
  get overloaded(): boolean {
    const n = this.opts.windows ?? DEFAULT_WINDOWS;
    return this.opts.maxLagMs > 0 && this.recent.length >= n && this.recent.slice(-n).every((lag) => lag > this.opts.maxLagMs);
  }

  private sample(): void {
    const h = this.histogram;
    if (!h) return;
    // The histogram records the time between its timer's runs: the resolution is not lag.
    const lag = h.count > 0 ? Math.max(0, h.max / 1e6 - RESOLUTION_MS) : 0;
    h.reset();
    this.recent.push(lag);
    if (this.recent.length > 8) this.recent.shift();
    this.opts.gauge?.set(Math.round(lag));
  }
}
