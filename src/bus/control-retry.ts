/**
 * Call control (end) that must not be lost to a bus outage: `end` for the node that holds the
 * media socket (calls/lifecycle.ts: that node writes the final record; if it cannot be reached
 * within its grace the record is written without it); if Redis is away the publish is retried
 * with back-off until it goes through. As a second net,
 * every node re-checks its live calls against the store when its bus reconnects
 * (`CallRegistry`), so a call ended elsewhere during the outage is hung up even if every retry
 * failed.
 */
import type { Counter } from 'prom-client';
import type { Logger } from '../logger.js';
import type { CallControlMessage, EventBus } from './types.js';

export interface ControlRetryDeps {
  bus: Pick<EventBus, 'publishControl'>;
  log: Pick<Logger, 'warn' | 'info' | 'error'>;
  /** `voxgate_call_control_retries_total{outcome}`. */
  retries?: Counter<'outcome'>;
}

/**
 * Waits between attempts, ~2 min in all: longer than a Redis restart or failover takes; past
 * that the store re-check on reconnect is what ends the call.
 */
export const CONTROL_RETRY_DELAYS_MS = [200, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 60_000];

/**
 * Publishes `msg` now; if that fails, keeps retrying in the background. Resolves true when the
 * first attempt went through, false when it is being retried. Never rejects.
 */
export async function publishControlWithRetry(deps: ControlRetryDeps, msg: CallControlMessage, delaysMs = CONTROL_RETRY_DELAYS_MS): Promise<boolean> {
  try {
    await deps.bus.publishControl(msg);
    return true;
  } catch (err) {
    deps.log.warn({ err, callId: msg.callId, control: msg.control.command }, 'call control not published; retrying in the background');
  }
  const retry = (attempt: number): void => {
    if (attempt >= delaysMs.length) {
      deps.retries?.inc({ outcome: 'given_up' });
      deps.log.error({ callId: msg.callId, control: msg.control }, 'call control never reached the bus; the holding node ends the call when its bus reconnects');
      return;
    }
    const timer = setTimeout(() => {
      deps.bus.publishControl(msg).then(
        () => {
          deps.retries?.inc({ outcome: 'delivered' });
          deps.log.info({ callId: msg.callId, control: msg.control.command, attempts: attempt + 2 }, 'call control published after retrying');
        },
        () => {
          deps.retries?.inc({ outcome: 'failed_attempt' });
          retry(attempt + 1);
        },
      );
    }, delaysMs[attempt]);
    timer.unref();
  };
  retry(0);
  return false;
}
