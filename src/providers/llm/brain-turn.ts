/**
 * One turn's mailbox for the WebSocket brain: server messages for the turn are pushed in as they
 * arrive and the turn's `stream()` takes them out, waiting at most the turn timeout for each.
 */
import type { ProviderError } from '../../errors.js';

export type TurnItem =
  | { type: 'text'; text: string }
  | { type: 'final' }
  | { type: 'action'; endCall?: boolean; transferTo?: string }
  /** The connection dropped after part of the answer came: the rest will not. */
  | { type: 'lost'; what: string }
  | { type: 'failed'; error: ProviderError };

export class BrainTurn {
  /** The `turn` message went out on the current connection. */
  sent = false;
  /** Some answer arrived (a dropped connection then cannot simply resend the turn). */
  received = false;
  /** Over: later messages for it are stale. */
  done = false;
  private readonly items: TurnItem[] = [];
  private wake: (() => void) | null = null;

  constructor(
    readonly turnId: string,
    readonly payload: string,
  ) {}

  push(item: TurnItem): void {
    if (this.done) return;
    if (item.type === 'text') this.received = true;
    this.items.push(item);
    this.wake?.();
  }

  /** The next item, or 'timeout' / 'aborted'. */
  next(signal: AbortSignal, timeoutMs: number): Promise<TurnItem | 'timeout' | 'aborted'> {
    const ready = this.items.shift();
    if (ready) return Promise.resolve(ready);
    if (signal.aborted) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const finish = (v: TurnItem | 'timeout' | 'aborted'): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.wake = null;
        resolve(v);
      };
      const onAbort = (): void => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.wake = () => finish(this.items.shift()!);
    });
  }
}
