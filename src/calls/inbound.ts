/**
 * Deciding what happens to an inbound phone call (the voice webhook): which agent answers,
 * the call record, and the session announced before Twilio gets its TwiML, so provider sockets
 * warm up while Twilio opens the media stream.
 *
 * Twilio retries a webhook it got no answer to, so the same CallSid may arrive twice (even on
 * two nodes): the record is unique by SID in the store, and a repeat reuses it.
 */
import type { AppContext } from '../context.js';
import type { Agent, Call, PhoneNumber } from '../store/types.js';
import { newId } from '../ids.js';
import { VoxgateError } from '../errors.js';
import { advanceCall, isTerminal, recordCallEvent } from './lifecycle.js';

export interface InboundRequest {
  callSid: string;
  from: string;
  to: string;
}

export type InboundDecision =
  | { kind: 'connect'; call: Call }
  /** `say` is spoken to the caller before hanging up; `call` is null when none was recorded. */
  | { kind: 'reject'; say: string; reason: string; call: Call | null };

/** What callers hear when nobody can take the call; short, and says nothing internal. */
export const UNAVAILABLE_MESSAGE = 'Sorry, this number cannot take your call right now. Goodbye.';

export async function acceptInboundCall(ctx: AppContext, req: InboundRequest): Promise<InboundDecision> {
  const existing = await ctx.store.getCallByTwilioSid(req.callSid);
  if (existing) return resume(ctx, existing);

  const number = await ctx.store.getNumberByE164(req.to);
  if (!number) return reject('error:number_not_registered', null);
  if (!number.agentId) return reject('error:number_has_no_agent', null);
  const agent = await ctx.store.getAgent(number.agentId);
  if (!agent) return reject('error:agent_deleted', null);

  const refusal = refusalFor(ctx, agent);
  let call: Call;
  try {
    call = await ctx.store.createCall(newInboundCall(ctx, req, number, agent, refusal));
  } catch (err) {
    // The same CallSid raced in on another request: that record wins.
    if (err instanceof VoxgateError && err.code === 'conflict') {
      const raced = await ctx.store.getCallByTwilioSid(req.callSid);
      if (raced) return resume(ctx, raced);
    }
    throw err;
  }
  if (refusal) {
    await recordCallEvent(ctx, call.id, 'call.status', { status: call.status, previousStatus: null });
    await recordCallEvent(ctx, call.id, 'call.ended', { status: call.status, endReason: call.endReason, endedAt: call.endedAt, durationSeconds: 0 });
    return reject(refusal, call);
  }
  await recordCallEvent(ctx, call.id, 'call.status', { status: call.status, previousStatus: null });
  return answer(ctx, call, agent);
}

/** A repeated webhook for a call we already know. */
async function resume(ctx: AppContext, call: Call): Promise<InboundDecision> {
  if (isTerminal(call.status)) return reject(call.endReason ?? 'error:call_ended', call);
  const agent = await ctx.store.getAgent(call.agentId);
  if (!agent) return reject('error:agent_deleted', call);
  return answer(ctx, call, agent);
}

/** Announces the session (once per node) and moves the call to in-progress: our TwiML answers it. */
async function answer(ctx: AppContext, call: Call, agent: Agent): Promise<InboundDecision> {
  if (!ctx.calls.get(call.id)) {
    try {
      ctx.calls.announce({ call, agent, channel: 'phone' });
    } catch (err) {
      ctx.log.error({ err, callId: call.id }, 'announcing the inbound session failed');
      const failed = await advanceCall(ctx, call, 'failed', { endReason: 'error:session', notes: [...call.notes, `session: ${(err as Error).message}`] });
      return reject('error:session', failed ?? call);
    }
  }
  const now = ctx.now().toISOString();
  const answered = await advanceCall(ctx, call, 'in-progress', { answeredAt: now });
  return { kind: 'connect', call: answered ?? call };
}

/** Why this agent must not take the call, or null. */
function refusalFor(ctx: AppContext, agent: Agent): string | null {
  if (ctx.draining) return 'error:draining';
  if (agent.architecture === 'text') return 'error:text_agent';
  if (agent.voiceMode !== 'phone' && agent.voiceMode !== 'web_and_phone') return 'error:voice_mode_excludes_phone';
  return null;
}

function reject(reason: string, call: Call | null): InboundDecision {
  return { kind: 'reject', say: UNAVAILABLE_MESSAGE, reason, call };
}

function newInboundCall(ctx: AppContext, req: InboundRequest, number: PhoneNumber, agent: Agent, refusal: string | null): Parameters<AppContext['store']['createCall']>[0] {
  const now = ctx.now().toISOString();
  return {
    id: newId('call'),
    owner: number.owner,
    agentId: agent.id,
    direction: 'inbound',
    // Refused calls are recorded already over, with the reason; others ring until answered.
    status: refusal ? 'failed' : 'ringing',
    fromNumber: req.from,
    toNumber: req.to,
    phoneNumberId: number.id,
    twilioCallSid: req.callSid,
    startedAt: now,
    answeredAt: null,
    endedAt: refusal ? now : null,
    durationSeconds: refusal ? 0 : null,
    endReason: refusal,
    variables: {},
    metadata: {},
    overrides: {},
    record: true,
    recordingAvailable: false,
    latency: { turns: 0, p50Ms: null, p95Ms: null, recent: [] },
    notes: refusal ? [`refused: ${refusal}`] : [],
    campaignId: null,
    contactId: null,
  };
}
