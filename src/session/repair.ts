/**
 * Start-up repair of recordings left behind by a process that died mid-call (SIGKILL, OOM,
 * power loss). The recording files on this node's disk say which calls it held: each whose
 * call is still non-terminal gets its WAV header fixed (`repairWav`), `recordingAvailable`, and
 * the status `failed` with `error:gateway_restart`. Scanning files rather than calls keeps a
 * node from touching calls that live on other nodes of a cluster.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { repairWav } from '../media/index.js';
import { TERMINAL_CALL_STATUSES, type Store } from '../store/types.js';
import type { Logger } from '../logger.js';
import { recordingPath } from './recorder.js';

export const GATEWAY_RESTART_REASON = 'error:gateway_restart';

/** Returns how many calls were repaired. Never throws for one bad file. */
export async function repairRecordings(dataDir: string, store: Store, log: Logger): Promise<number> {
  const dir = path.dirname(recordingPath(dataDir, 'x'));
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.wav'));
  } catch {
    return 0; // no recordings directory yet
  }
  let repaired = 0;
  for (const file of files) {
    const callId = file.slice(0, -'.wav'.length);
    try {
      const call = await store.getCall(callId);
      if (!call || TERMINAL_CALL_STATUSES.includes(call.status)) continue;
      const fixed = repairWav(path.join(dir, file));
      const endedAt = new Date().toISOString();
      const updated = await store.transitionCall(callId, 'failed', {
        endReason: GATEWAY_RESTART_REASON,
        recordingAvailable: true,
        endedAt,
        durationSeconds: Math.round(fixed.durationMs / 1000),
      });
      if (!updated) continue;
      for (const [type, data] of [
        ['call.status', { status: 'failed' }],
        ['call.ended', { reason: GATEWAY_RESTART_REASON, status: 'failed', durationSeconds: updated.durationSeconds }],
      ] as const) {
        await store.appendCallEvent(callId, type, data);
      }
      repaired++;
      log.warn({ callId, durationMs: fixed.durationMs }, 'recording repaired after an unclean shutdown');
    } catch (err) {
      log.error({ err, file }, 'recording repair failed');
    }
  }
  return repaired;
}
