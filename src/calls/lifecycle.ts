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
 * Makes a call terminal with the status the caller knows best (Twilio's `busy`, our `api_end`).
 * Without a session on this node: `advanceCall` (we write the events). With one: the status is
 * set first without events, then the session's `end()` finishes the call (recording, latency)
 * and writes `call.status`/`call.ended` with that status; if it wrote no `call.ended`, we do,
 * so readers always get exactly one from this path. Returns the updated call, or null when
 * the status did not move (the session may still have been ended).
 */
export async function finishCall(
  ctx: Pick<AppContext, 'store' | 'bus' | 'log' | 'now' | 'calls'>,
  call: Call,
  status: CallStatus,
  patch: CallPatch,
): Promise<Call | null> {
  const handle = ctx.calls.get(call.id);
  if (!handle) return advanceCall(ctx, call, status, patch);
  let updated: Call | null = null;
  if (statusRank(status) > statusRank(call.status)) {
    updated = await ctx.store.transitionCall(call.id, status, { endedAt: ctx.now().toISOString(), ...patch });
  }
  try {
    await handle.end(patch.endReason ?? updated?.endReason ?? status);
  } catch (err) {
    ctx.log.error({ err, callId: call.id }, 'ending the local session failed');
  }
  if (updated) {
    const events = await ctx.store.listCallEvents(call.id, 0);
    if (!events.some((e) => e.type === 'call.ended')) {
      const final = (await ctx.store.getCall(call.id)) ?? updated;
      await recordCallEvent(ctx, call.id, 'call.status', { status: final.status, previousStatus: call.status });
      await recordCallEvent(ctx, call.id, 'call.ended', endedData(final));
    }
  }
  if (!updated) return null;
  return (await ctx.store.getCall(call.id)) ?? updated;
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
