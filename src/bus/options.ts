import { isConnectionError } from '../faults/index.js';

/** Options shared by both buses. */
export interface BusOptions {
  /**
   * Channel namespace (Redis: `<prefix>:call:<id>` and `<prefix>:control`); default `voxgate`.
   * Lets several deployments, or parallel test runs, share one Redis.
   */
  prefix?: string;
  /**
   * Called when a handler throws or a message cannot be decoded. The bus keeps delivering to
   * the other handlers either way; the default prints a process warning.
   */
  onError?: (err: unknown) => void;
}

export const DEFAULT_PREFIX = 'voxgate';

export function defaultOnError(err: unknown): void {
  if (isConnectionError(err)) {
    // Once per outage (redis-bus.ts throttles): the client reconnects by itself.
    process.emitWarning(`event bus connection lost, reconnecting: ${err instanceof Error ? err.message : String(err)}`, 'VoxgateBusWarning');
    return;
  }
  process.emitWarning(`event bus handler failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 'VoxgateBusWarning');
}

/** Calls every handler in `set` with `msg`; one throwing handler does not stop the rest. */
export function deliver<T>(set: ReadonlySet<(msg: T) => void> | undefined, msg: T, onError: (err: unknown) => void): void {
  if (!set) return;
  for (const handler of set) {
    try {
      handler(msg);
    } catch (err) {
      onError(err);
    }
  }
}

/**
 * Reconnect every 50, 100, … ms up to every 500 ms (ioredis' default caps at 2 s). A
 * connection attempt costs Redis nothing, and the cap is how late a node hears the bus again
 * after an outage: SSE catch-up and call control wait for it.
 */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(attempt * 50, 500);
}
