/**
 * Write-behind for live calls: what a call produces while the store is unreachable
 * (transcript items, call events, latency and notes, the final record) waits here, in order,
 * and is written when the store is back. The call's media never waits on it.
 *
 * - One `WriteLane` per call keeps that call's writes in order (an event's seq is assigned by
 *   the store, so a later item must not overtake an earlier one).
 * - One `WriteQueue` per node (per store) bounds what waits: beyond `maxPending` writes a new
 *   one is refused, counted (`voxgate_store_writes_lost_total{reason="overflow"}`) and logged
 *   at error with its content, never dropped silently. A write that waited `maxWaitMs` is given
 *   up the same way (`reason="timeout"`).
 * - While the store is down the lanes do not each hammer it: one probe (`store.ping`) runs
 *   with back-off and wakes every waiting lane when it succeeds.
 *
 * Only connection failures wait (faults/availability.ts); any other error is the write's own
 * and goes back to its caller at once, as before.
 *
 * A write whose reply was lost with the connection (the server committed it, the socket died
 * before the answer) runs again on retry: call events carry a write id for that
 * (`appendCallEvent(…, writeId)`, migration 005), so the retry finds the event it already made
 * (test/faults/lost-reply.test.ts). Patches of the call record are idempotent by nature.
 */
import type { Logger } from '../logger.js';
import type { Store } from '../store/types.js';
import type { FaultMetrics } from '../metrics/index.js';
import { isConnectionError } from '../faults/index.js';

/**
 * 20 000 writes ≈ 100 live calls × 10 minutes of outage at one write every 3 s; each holds a
 * transcript line or a small patch (well under 1 KiB), so the bound is ~20 MB at worst.
 */
export const DEFAULT_MAX_PENDING_WRITES = 20_000;
/** 10 minutes: past that the call's record is better lost loudly than held in memory forever. */
export const DEFAULT_MAX_WAIT_MS = 10 * 60_000;
/**
 * Probe back-off: first retry soon (most outages are blips), then every 500 ms: one `SELECT 1`
 * per node per half second costs the store nothing and bounds how late queued writes land.
 */
const PROBE_INITIAL_MS = 100;
const PROBE_MAX_MS = 500;

export interface WriteQueueOptions {
  store: Pick<Store, 'ping'>;
  log: Pick<Logger, 'warn' | 'error' | 'info'>;
  metrics?: FaultMetrics;
  maxPending?: number;
  maxWaitMs?: number;
}

export class WriteQueue {
  private pendingNow = 0;
  private probe: Promise<void> | null = null;
  private readonly idleWaiters = new Set<() => void>();

  constructor(private readonly opts: WriteQueueOptions) {}

  /** Writes accepted and not yet written or given up. */
  get pending(): number {
    return this.pendingNow;
  }

  lane(log: Pick<Logger, 'warn' | 'error' | 'info'> = this.opts.log): WriteLane {
    return new WriteLane(this, log);
  }

  /** Resolves once nothing waits, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.pendingNow === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.idleWaiters.add(done);
    });
  }

  /** @internal a lane takes a slot; false when the queue is full. */
  acquire(): boolean {
    const max = this.opts.maxPending ?? DEFAULT_MAX_PENDING_WRITES;
    if (this.pendingNow >= max) return false;
    this.pendingNow++;
    this.opts.metrics?.writeQueueDepth.set(this.pendingNow);
    return true;
  }

  /** @internal */
  release(): void {
    this.pendingNow = Math.max(0, this.pendingNow - 1);
    this.opts.metrics?.writeQueueDepth.set(this.pendingNow);
    if (this.pendingNow === 0) for (const w of [...this.idleWaiters]) w();
  }

  /** @internal */
  get maxWaitMs(): number {
    return this.opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  }

  /** @internal */
  get metrics(): FaultMetrics | undefined {
    return this.opts.metrics;
  }

  /** @internal resolves when the store answers a ping again (one probe loop for all lanes). */
  storeBack(): Promise<void> {
    this.probe ??= this.runProbe().finally(() => {
      this.probe = null;
    });
    return this.probe;
  }

  private async runProbe(): Promise<void> {
    let delay = PROBE_INITIAL_MS;
    const since = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, delay));
      try {
        await this.opts.store.ping();
        this.opts.log.info({ outageMs: Date.now() - since, pending: this.pendingNow }, 'store is back; writing what live calls queued');
        return;
      } catch {
        delay = Math.min(PROBE_MAX_MS, delay * 2);
      }
    }
  }
}

/** One call's writes, in order. */
export class WriteLane {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly queue: WriteQueue,
    private readonly log: Pick<Logger, 'warn' | 'error' | 'info'>,
  ) {}

  /**
   * Runs `op` after this lane's earlier writes; while the store is unreachable it waits and
   * retries. Resolves with `op`'s result, or undefined when the write was refused (queue
   * full) or given up (waited too long) — both counted and logged with `content`. Rejects only
   * with `op`'s own non-connection errors.
   */
  run<T>(what: string, op: () => Promise<T>, content?: unknown): Promise<T | undefined> {
    if (!this.queue.acquire()) {
      this.queue.metrics?.writesLost.inc({ reason: 'overflow' });
      this.log.error({ what, content, pending: this.queue.pending }, 'store write queue full; this write is lost');
      return Promise.resolve(undefined);
    }
    const run = this.tail.then(() => this.attempt(what, op, content));
    this.tail = run.catch(() => undefined);
    return run.finally(() => this.queue.release());
  }

  /**
   * Inside a running write: one step of it, retried on its own while the store is away, so a
   * write made of several statements resumes where the outage cut it instead of redoing
   * (and misjudging) the steps that already landed.
   */
  step<T>(what: string, op: () => Promise<T>, content?: unknown): Promise<T | undefined> {
    return this.attempt(what, op, content);
  }

  private async attempt<T>(what: string, op: () => Promise<T>, content: unknown): Promise<T | undefined> {
    const started = Date.now();
    let deferred = false;
    for (;;) {
      try {
        const out = await op();
        if (deferred) this.log.info({ what, waitedMs: Date.now() - started }, 'queued store write landed');
        return out;
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        if (!deferred) {
          deferred = true;
          this.queue.metrics?.writesDeferred.inc();
          this.log.warn({ err, what }, 'store unreachable; write queued until it returns');
        }
        if (Date.now() - started >= this.queue.maxWaitMs) {
          this.queue.metrics?.writesLost.inc({ reason: 'timeout' });
          this.log.error({ what, content, waitedMs: Date.now() - started }, 'store stayed unreachable; this write is lost');
          return undefined;
        }
        let timer: NodeJS.Timeout | undefined;
        const giveUp = new Promise((r) => {
          timer = setTimeout(r, Math.max(0, this.queue.maxWaitMs - (Date.now() - started)));
          timer.unref();
        });
        await Promise.race([this.queue.storeBack(), giveUp]);
        clearTimeout(timer);
      }
    }
  }
}

const queues = new WeakMap<object, WriteQueue>();

/** The node's write queue for `store` (one per store object, created on first use). */
export function writeQueueFor(deps: { store: Store; log: Pick<Logger, 'warn' | 'error' | 'info'>; metrics?: FaultMetrics }): WriteQueue {
  let q = queues.get(deps.store);
  if (!q) queues.set(deps.store, (q = new WriteQueue({ store: deps.store, log: deps.log, metrics: deps.metrics })));
  return q;
}
