/**
 * Applying a carrier's status report (Twilio status callbacks) to a call. Reports arrive out of
 * order and more than once (PROTOCOLS.md §2.4: `SequenceNumber`, "HTTP requests may arrive out
 * of order"), so this only ever moves a call forward (lifecycle.ts).
 */
import type { AppContext } from '../context.js';
import { publishControlWithRetry } from '../bus/index.js';
import type { Call, CallStatus } from '../store/types.js';
import { advanceCall, finishCall, isTerminal, type CallPatch } from './lifecycle.js';

export interface CarrierStatusReport {
  /** Our call id, when the callback URL carried it (outbound calls). */
  callId?: string;
  callSid: string;
  status: CallStatus;
  /** When the carrier says it happened; defaults to now. */
  at?: Date;
  /** Talk time reported with the final status. */
  durationSeconds?: number;
}

export type CarrierStatusOutcome = 'unknown_call' | 'ignored' | 'applied';

/** endReason for a call that ends by carrier report (sessions record their own reasons first). */
export function endReasonFor(status: CallStatus): string {
  switch (status) {
    case 'busy':
      return 'busy';
    case 'no-answer':
      return 'no_answer';
    case 'failed':
      return 'error:twilio:failed';
    case 'canceled':
      return 'canceled';
    default:
      return 'caller_hangup';
  }
}

export async function applyCarrierStatus(ctx: AppContext, report: CarrierStatusReport): Promise<CarrierStatusOutcome> {
  const call = await findCall(ctx, report);
  if (!call) return 'unknown_call';
  const at = (report.at ?? ctx.now()).toISOString();
  const patch: CallPatch = {};
  // The callback for our call id may come before placeOutboundCall stored the SID.
  if (!call.twilioCallSid) patch.twilioCallSid = report.callSid;

  if (isTerminal(report.status)) {
    patch.endedAt = at;
    patch.endReason = call.endReason ?? endReasonFor(report.status);
    if (report.durationSeconds !== undefined) patch.durationSeconds = report.durationSeconds;
  } else if (report.status === 'in-progress') {
    patch.answeredAt = at;
  }

  const updated = isTerminal(report.status)
    ? await finishCall(ctx, call, report.status, patch, { remote: 'background' })
    : await advanceCall(ctx, call, report.status, patch);
  if (!updated) {
    // Already there or past it, or a node holding the media is finishing it. Still keep facts
    // only the carrier knows (SID, billed duration).
    const late: CallPatch = {};
    if (patch.twilioCallSid) late.twilioCallSid = patch.twilioCallSid;
    const cur = (await ctx.store.getCall(call.id)) ?? call;
    if (isTerminal(cur.status) && cur.durationSeconds === null && report.durationSeconds !== undefined) {
      late.durationSeconds = report.durationSeconds;
    }
    if (Object.keys(late).length > 0) await ctx.store.updateCall(call.id, late);
    return 'ignored';
  }

  if (isTerminal(report.status)) {
    // The call was announced on another node that may still wait for its media (an outbound
    // call announced there): tell it the call is over. (Live media elsewhere was told inside
    // finishCall, which then waits for that node to write the record.)
    const reason = updated.endReason ?? endReasonFor(report.status);
    await publishControlWithRetry({ bus: ctx.bus, log: ctx.log, retries: ctx.metrics.faults.controlRetries }, { callId: call.id, control: { command: 'end', reason } });
  }
  return 'applied';
}

async function findCall(ctx: AppContext, report: CarrierStatusReport): Promise<Call | null> {
  if (report.callId) {
    const call = await ctx.store.getCall(report.callId);
    // A call id with someone else's SID is not this call: fall back to the SID.
    if (call && (call.twilioCallSid === null || call.twilioCallSid === report.callSid)) return call;
  }
  return ctx.store.getCallByTwilioSid(report.callSid);
}
