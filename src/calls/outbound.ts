/**
 * The one outbound path, used by `POST /v1/calls` and by the campaign dialer: validate, create
 * the call (`queued`), announce the session (provider sockets warm while the phone rings), ask
 * Twilio to place it with `<Connect><Stream>` TwiML, store Twilio's SID.
 */
import type { AppContext } from '../context.js';
import type { Agent, Call, PhoneNumber } from '../store/types.js';
import { newId } from '../ids.js';
import { ProviderError, VoxgateError, notFound, validationFailed } from '../errors.js';
import { TwilioRestError } from '../transport/twilio/rest-client.js';
import { finishCall } from './lifecycle.js';
import { statusCallbackUrl, streamTwimlFor } from './stream-twiml.js';

export interface OutboundRequest {
  owner: string;
  agentId: string;
  toNumber: string;
  fromNumberId?: string;
  initialGreeting?: string;
  voice?: string;
  systemPrompt?: string;
  variables?: Record<string, string>;
  metadata?: Record<string, unknown>;
  record?: boolean;
  campaignId?: string;
  contactId?: string;
  /** An `admin` key may use any owner's agent and number; the call is still stamped `owner`. */
  admin?: boolean;
}

/** E.164: `+`, a non-zero leading digit, at most 15 digits (ITU-T E.164). */
export { E164_RE } from '../e164.js';
import { E164_RE } from '../e164.js';

/** How many numbers one page of the attached-number lookup reads. */
const NUMBER_PAGE = 100;

/**
 * Validates, creates the call record (`queued`), announces the session and asks Twilio to place
 * the call. Throws VoxgateError: 404 unknown agent, 422 validation, 503 Twilio not configured
 * or draining, 502 provider_error after marking the call `failed`.
 */
export async function placeOutboundCall(ctx: AppContext, req: OutboundRequest): Promise<Call> {
  const agent = await ctx.store.getAgent(req.agentId);
  if (!agent || (!req.admin && agent.owner !== req.owner)) throw notFound('agent', req.agentId);
  checkAgentTakesPhoneCalls(agent);
  if (!E164_RE.test(req.toNumber)) {
    throw validationFailed('toNumber must be an E.164 number', [{ field: 'toNumber', message: 'expected +<country><number>, e.g. +14155550100' }]);
  }
  const from = await chooseFromNumber(ctx, req, agent);
  if (!ctx.twilio) throw new VoxgateError('provider_not_configured', 'Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)');
  if (ctx.draining) throw new VoxgateError('unavailable', 'this node is shutting down and takes no new calls', [], true);
  if (ctx.load.overloaded) {
    ctx.metrics.faults.callsRefused.inc({ channel: 'outbound', reason: 'overloaded' });
    throw new VoxgateError('unavailable', 'this node is overloaded and takes no new calls right now; retry shortly', [], true);
  }

  const now = ctx.now().toISOString();
  let call = await ctx.store.createCall({
    id: newId('call'),
    owner: req.owner,
    agentId: agent.id,
    direction: 'outbound',
    status: 'queued',
    fromNumber: from.phoneNumber,
    toNumber: req.toNumber,
    phoneNumberId: from.id,
    twilioCallSid: null,
    startedAt: now,
    answeredAt: null,
    endedAt: null,
    durationSeconds: null,
    endReason: null,
    variables: req.variables ?? {},
    metadata: req.metadata ?? {},
    overrides: compact({ initialGreeting: req.initialGreeting, voice: req.voice, systemPrompt: req.systemPrompt }),
    record: req.record ?? true,
    recordingAvailable: false,
    latency: { turns: 0, p50Ms: null, p95Ms: null, recent: [] },
    notes: [],
    campaignId: req.campaignId ?? null,
    contactId: req.contactId ?? null,
  });

  try {
    // Before dialing: the engine opens its provider sockets during the ring.
    ctx.calls.announce({ call, agent, channel: 'phone' });
  } catch (err) {
    ctx.log.error({ err, callId: call.id }, 'announcing the outbound session failed');
    await failCall(ctx, call, 'error:session', `session: ${(err as Error).message}`);
    throw new VoxgateError('unavailable', 'the call session could not be started', [], true);
  }

  try {
    const placed = await ctx.twilio.createCall({
      to: req.toNumber,
      from: from.phoneNumber,
      twiml: streamTwimlFor(ctx, call.id),
      statusCallback: statusCallbackUrl(ctx.config.publicUrl, call.id),
    });
    // A status callback may already have stored the SID (it carries our call id): fine either way.
    call = (await ctx.store.updateCall(call.id, { twilioCallSid: placed.sid })) ?? call;
    ctx.log.info({ callId: call.id, callSid: placed.sid }, 'outbound call placed');
    return call;
  } catch (err) {
    const twilioErr = err instanceof TwilioRestError ? err : null;
    const reason = twilioErr ? twilioErr.reasonTag : 'error:twilio:unknown';
    const message = err instanceof Error ? err.message : String(err);
    await failCall(ctx, call, reason, message);
    throw new VoxgateError(
      'provider_error',
      `Twilio did not place the call: ${message}`,
      [
        {
          message,
          provider: 'twilio',
          status: twilioErr?.status ?? null,
          code: twilioErr?.code ?? null,
          moreInfo: twilioErr?.moreInfo ?? null,
        },
      ],
      err instanceof ProviderError ? err.retryable : false,
    );
  }
}

function checkAgentTakesPhoneCalls(agent: Agent): void {
  if (agent.architecture === 'text') {
    throw validationFailed('a text agent cannot take calls', [{ field: 'agentId', message: 'agent architecture is "text"' }]);
  }
  if (agent.voiceMode !== 'phone' && agent.voiceMode !== 'web_and_phone') {
    throw validationFailed('the agent does not take phone calls', [
      { field: 'agentId', message: `agent voiceMode is "${agent.voiceMode}"; phone calls need "phone" or "web_and_phone"` },
    ]);
  }
}

/** `fromNumberId` if the caller owns it, else the number attached to the agent; none → 422. */
async function chooseFromNumber(ctx: AppContext, req: OutboundRequest, agent: Agent): Promise<PhoneNumber> {
  if (req.fromNumberId !== undefined) {
    const num = await ctx.store.getNumber(req.fromNumberId);
    if (!num || (!req.admin && num.owner !== req.owner)) {
      throw validationFailed('fromNumberId is not a number you own', [{ field: 'fromNumberId', message: `unknown number ${req.fromNumberId}` }]);
    }
    return num;
  }
  let afterId: string | undefined;
  do {
    const page = await ctx.store.listNumbers(agent.owner, { limit: NUMBER_PAGE, afterId });
    const attached = page.items.find((n) => n.agentId === agent.id);
    if (attached) return attached;
    afterId = page.nextAfterId ?? undefined;
  } while (afterId);
  throw validationFailed('the agent has no phone number to call from', [
    { field: 'fromNumberId', message: 'attach a number to the agent (POST /v1/agents/:id/phone) or pass fromNumberId' },
  ]);
}

/** Marks a call that never got going `failed` and ends its session, if one was announced. */
async function failCall(ctx: AppContext, call: Call, endReason: string, note: string): Promise<void> {
  try {
    await finishCall(ctx, call, 'failed', { endReason, notes: [...call.notes, note] });
  } catch (err) {
    ctx.log.error({ err, callId: call.id }, 'marking the call failed did not work');
  }
}

function compact<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
