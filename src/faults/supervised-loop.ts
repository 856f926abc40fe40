/**
 * A background loop that cannot take the process down: each pass runs after the previous one
 * settled (no overlap, no pile-up), a failed pass is logged as a warning and counted, and the
 * next one waits longer (exponential back-off with jitter, capped) until a pass succeeds again.
 * Used for the campaign dialer and the periodic sweeps; a store outage costs retries, not a node.
 */
import type { Counter } from 'prom-client';
import type { Logger } from '../logger.js';

export interface SupervisedLoopOptions {
  /** The `loop` label of `voxgate_loop_errors_total` and the log's `loop` field. */
  name: string;
  intervalMs: number;
  /** Longest wait after repeated failures. */
  maxBackoffMs?: number;
  run: () => Promise<void>;
  log: Pick<Logger, 'warn' | 'info'>;
  errors?: Counter<'loop'>;
  /** Timer functions (tests); the timers are unref'd so a loop never holds the process open. */
  setTimer?: (fn: () => void, ms: number) => { unref?: () => void };
  clearTimer?: (t: unknown) => void;
}

/**
 * 30 s: a PostgreSQL restart or failover takes seconds to tens of seconds; retrying more often
 * than every 30 s after repeated failures only adds log lines and connection attempts.
 */
export const DEFAULT_MAX_BACKOFF_MS = 30_000;

export class SupervisedLoop {
  private timer: unknown = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private failures = 0;
  private nextDelayMs = 0;

  constructor(private readonly opts: SupervisedLoopOptions) {}

  /** Consecutive failed passes (0 once a pass succeeds). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.opts.intervalMs);
  }

  /** Stops scheduling and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) (this.opts.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout)))(this.timer);
    this.timer = null;
    await this.running;
  }

  /** The delay before the next pass after `failures` consecutive failures. */
  delayAfter(failures: number): number {
    if (failures === 0) return this.opts.intervalMs;
    const cap = this.opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    const base = Math.min(cap, this.opts.intervalMs * 2 ** Math.min(failures, 20));
    // ±20 % jitter: nodes that lost the store together do not all come back in lock-step.
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    const set = this.opts.setTimer ?? ((fn, d) => setTimeout(fn, d));
    const t = set(() => void this.pass(), ms);
    t.unref?.();
    this.timer = t;
  }

  private async pass(): Promise<void> {
    this.timer = null;
    this.running = this.runOnce();
    await this.running;
    this.running = null;
    this.schedule(this.nextDelayMs);
  }

  /** One pass; never rejects. */
  private async runOnce(): Promise<void> {
    try {
      await this.opts.run();
      if (this.failures > 0) this.opts.log.info({ loop: this.opts.name, afterFailures: this.failures }, 'background loop recovered');
      this.failures = 0;
      this.nextDelayMs = this.opts.intervalMs;
    } catch (err) {
      this.failures++;
      this.nextDelayMs = this.delayAfter(this.failures);
      this.opts.errors?.inc({ loop: this.opts.name });
      this.opts.log.warn({ err, loop: this.opts.name, consecutiveFailures: this.failures, retryInMs: this.nextDelayMs }, 'background loop pass failed; backing off');
    }
  }
}
