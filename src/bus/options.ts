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
