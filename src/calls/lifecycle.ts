/**
 * Moving a call's status, the one way every non-session writer does it (status callbacks,
 * API end, failed placement, refused inbound calls).
 *
 * Rules it keeps:
 * - Order-safe: a status only moves forward (queued < ringing < in-progress < terminal), and
 *   a terminal status never changes. The store enforces the terminal rule atomically; the
 *   "no repeat" rule is checked here so a repeated callback emits no event.
 * - Events: each change appends a `call.status` event; the change that makes the call terminal
 *   also appends `call.ended`. Whoever's `transitionCall` made the call terminal appends
 *   `call.ended` — that store compare-and-set is what makes it exactly once across nodes (a
 *   session's own `end()` follows the same rule).
 * - Store first, bus second (bus/types.ts): an SSE reader that misses the publish replays it.
 */
import type { AppContext } from '../context.js';
import type { Call, CallEvent, CallEventType, CallStatus } from '../store/types.js';
import { TERMINAL_CALL_STATUSES } from '../store/types.js';
import { publishControlWithRetry } from '../bus/index.js';

type Ctx = Pick<AppContext, 'store' | 'bus' | 'log' | 'now'>;
export type CallPatch = Partial<Omit<Call, 'id' | 'owner' | 'createdAt' | 'status'>>;

const LIVE_RANK: Record<string, number> = { queued: 0, ringing: 1, 'in-progress': 2 };

export function isTerminal(status: CallStatus): boolean {
  return TERMINAL_CALL_STATUSES.includes(status);
}

export function statusRank(status: CallStatus): number {
  return isTerminal(status) ? 3 : (LIVE_RANK[status] ?? 0);
}

/** Appends a stored event, then publishes it; a failed publish is logged (readers replay). */
export async function recordCallEvent(
  ctx: Ctx,
  callId: string,
  type: Exclude<CallEventType, 'transcript.partial'>,
  data: Record<string, unknown>,
): Promise<CallEvent> {
  const event = await ctx.store.appendCallEvent(callId, type, data);
  try {
    await ctx.bus.publishCallEvent({ callId, seq: event.seq, type, data });
  } catch (err) {
    ctx.log.warn({ err, callId, type }, 'call event stored but not published');
  }
  return event;
}

/**
 * Moves `call` to `status` with `patch` if that is forward. Returns the updated call, or null
 * when nothing changed (repeat, backwards, or already terminal).
 */
export async function advanceCall(ctx: Ctx, call: Call, status: CallStatus, patch: CallPatch = {}): Promise<Call | null> {
  if (statusRank(status) <= statusRank(call.status)) return null;
  const terminal = isTerminal(status);
  const updated = await ctx.store.transitionCall(call.id, status, {
    ...patch,
    ...(terminal && patch.endedAt === undefined ? { endedAt: ctx.now().toISOString() } : {}),
  });
  if (!updated) return null;
  await recordCallEvent(ctx, call.id, 'call.status', { status, previousStatus: call.status });
  if (terminal) await recordCallEvent(ctx, call.id, 'call.ended', endedData(updated));
  return updated;
}

/** The `call.ended` payload, the same shape sessions send (session/call-session.ts). */
export function endedData(call: Call): Record<string, unknown> {
  return { reason: call.endReason, status: call.status, durationSeconds: call.durationSeconds };
}

/**
 * How long a node that does not hold a live call's media waits for the node that does to write
 * the final record, before writing it itself. The holder's teardown is bounded by the engine
 * close (2 s, call-session.ts) plus a few store writes; past this the holder is presumed dead or
 * cut off (bus down), and a record without the recording beats a call that never ends.
 */
export const REMOTE_FINISH_GRACE_MS = 5000;
const REMOTE_FINISH_POLL_MS = 50;

type FinishCtx = Pick<AppContext, 'store' | 'bus' | 'log' | 'now' | 'calls'> & { metrics?: AppContext['metrics'] };

/**
 * Makes a call terminal with the status the reporter knows best (Twilio's `busy`, our
 * `api_end`). The rule that keeps the record true: while a session holds the call's media, that
 * session is the only writer of the final record, so the first read that shows a terminal status
 * already has the session's `endReason`, `endedAt`, `durationSeconds` and `recordingAvailable`.
 * - A session on this node (live or tearing down): it is ended (or awaited, if it is already
 *   ending: its own reason stands, e.g. `agent_hangup` when Twilio's `completed` lands during
 *   the teardown), and it writes the record and the events.
 * - Media live on another node: that node is told over the bus and given
 *   REMOTE_FINISH_GRACE_MS to finish; only then is the record written here (see `awaitRemote`).
 * - No media anywhere (queued, ringing): the record is written here at once.
 * Returns the updated call, or null when the status did not move.
 */
export async function finishCall(ctx: FinishCtx, call: Call, status: CallStatus, patch: CallPatch, opts: FinishOptions = {}): Promise<Call | null> {
  const handle = ctx.calls.holding(call.id);
  if (handle) {
    try {
      await handle.end(patch.endReason ?? call.endReason ?? status, { status, durationSeconds: patch.durationSeconds ?? undefined });
    } catch (err) {
      ctx.log.error({ err, callId: call.id }, 'ending the local session failed');
    }
    const final = await ctx.store.getCall(call.id);
    if (final && !isTerminal(final.status)) {
      // The session could not write its record (the store was down): write what we know.
      return advanceCall(ctx, final, status, { ...patch, endReason: final.endReason ?? patch.endReason });
    }
    return final && !isTerminal(call.status) ? final : null;
  }
  // Only a shared bus can have other nodes behind it (the in-process bus is one node's alone).
  if (call.status === 'in-progress' && opts.remote !== 'here' && ctx.bus.kind !== 'memory') {
    const reason = patch.endReason ?? call.endReason ?? status;
    await publishControlWithRetry({ bus: ctx.bus, log: ctx.log, retries: ctx.metrics?.faults.controlRetries }, { callId: call.id, control: { command: 'end', reason, status } });
    const finished = awaitRemote(ctx, call, status, patch);
    if (opts.remote === 'background') {
      finished.catch((err: unknown) => ctx.log.warn({ err, callId: call.id }, 'finishing a remote call failed'));
      return null;
    }
    return finished;
  }
  return advanceCall(ctx, call, status, patch);
}

export interface FinishOptions {
  /**
   * For media live on another node: wait for it (default), let it finish in the background
   * (status callbacks: Twilio wants its answer now), or finish here at once.
   */
  remote?: 'wait' | 'background' | 'here';
}

/** Waits for the node holding the media to write the final record; writes it after the grace. */
async function awaitRemote(ctx: FinishCtx, call: Call, status: CallStatus, patch: CallPatch): Promise<Call | null> {
  const deadline = Date.now() + REMOTE_FINISH_GRACE_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, REMOTE_FINISH_POLL_MS));
    const cur = await ctx.store.getCall(call.id);
    if (!cur) return null;
    if (isTerminal(cur.status)) return cur;
  }
  const cur = (await ctx.store.getCall(call.id)) ?? call;
  ctx.log.warn({ callId: call.id, graceMs: REMOTE_FINISH_GRACE_MS }, 'the node holding the call did not finish it; finishing it here');
  return advanceCall(ctx, cur, status, { ...patch, endReason: cur.endReason ?? patch.endReason });
}

/** Whole seconds between two ISO timestamps, or null if either is missing. */
export function secondsBetween(fromIso: string | null, toIso: string | null): number | null {
  if (!fromIso || !toIso) return null;
  return Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000));
}

/** Ends this node's session for the call, if it holds one; never throws (logged). */
export async function endLocalSession(ctx: Pick<AppContext, 'calls' | 'log'>, callId: string, reason: string): Promise<boolean> {
  const handle = ctx.calls.get(callId);
  if (!handle) return false;
  try {
    await handle.end(reason);
  } catch (err) {
    ctx.log.error({ err, callId }, 'ending the local session failed');
  }
  return true;
}
