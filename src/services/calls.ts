/**
 * Calls (API.md, Calls): the one implementation behind the `/v1/calls*` routes and the MCP
 * call tools. `waitForCall` is MCP's: it returns as soon as the call is terminal, woken by the
 * call's events on the bus (so it works whichever node holds the media), or when time is up.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { publishControlWithRetry } from '../bus/index.js';
import type { Call, CallStatus } from '../store/types.js';
import { placeOutboundCall } from '../calls/index.js';
import { finishCall, isTerminal, secondsBetween } from '../calls/lifecycle.js';
import { TwilioRestError } from '../transport/twilio/rest-client.js';
import { assertReadable, assertWritable, ownerFilter, type AuthContext } from '../api/auth-context.js';
import { callToJson } from '../api/call-json.js';
import { PageQuery, pageBody, pageRequest } from '../api/paging.js';
import { AnyObject, StringMap } from '../api/schemas.js';
import { E164_HINT, E164_PATTERN } from '../e164.js';

const CallStatusSchema = Type.Union(
  (['queued', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'] as const).map((s) => Type.Literal(s)),
);
const DirectionSchema = Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('web')]);

// One flat object (not an allOf): OpenAPI turns its properties into query parameters.
export const CallListQuery = Type.Object({
  ...PageQuery.properties,
  agentId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  status: Type.Optional(CallStatusSchema),
  direction: Type.Optional(DirectionSchema),
  phoneNumberId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  endReason: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[a-z0-9_:.-]+\\*?$',
      description: 'An exact end reason (`agent_hangup`), or a prefix ending in `*`: `error:*` lists every call that ended on an error.',
    }),
  ),
});
export type CallListQuery = Static<typeof CallListQuery>;

export const CreateCallBody = Type.Object(
  {
    agentId: Type.String({ minLength: 1, maxLength: 100 }),
    toNumber: Type.String({ pattern: E164_PATTERN, description: E164_HINT }),
    fromNumberId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    initialGreeting: Type.Optional(Type.String({ maxLength: 2000 })),
    voice: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    systemPrompt: Type.Optional(Type.String({ maxLength: 50_000 })),
    variables: Type.Optional(StringMap),
    metadata: Type.Optional(AnyObject),
    record: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export type CreateCallBody = Static<typeof CreateCallBody>;

export async function placeCall(ctx: AppContext, auth: AuthContext, b: CreateCallBody) {
  const call = await placeOutboundCall(ctx, {
    owner: auth.owner,
    admin: auth.scopes.includes('admin'),
    agentId: b.agentId,
    toNumber: b.toNumber,
    fromNumberId: b.fromNumberId,
    initialGreeting: b.initialGreeting,
    voice: b.voice,
    systemPrompt: b.systemPrompt,
    variables: b.variables,
    metadata: b.metadata,
    record: b.record,
  });
  return callToJson(call);
}

export async function listCalls(ctx: AppContext, auth: AuthContext, q: CallListQuery) {
  const page = await ctx.store.listCalls(
    { owner: ownerFilter(auth), agentId: q.agentId, status: q.status, direction: q.direction, phoneNumberId: q.phoneNumberId, endReason: q.endReason },
    pageRequest(q),
  );
  return pageBody(page, callToJson);
}

export async function getCall(ctx: AppContext, auth: AuthContext, id: string) {
  const call = await ctx.store.getCall(id);
  assertReadable(auth, call, 'call', id);
  return callToJson(call);
}

export async function endCall(ctx: AppContext, auth: AuthContext, id: string) {
  const call = await ctx.store.getCall(id);
  assertWritable(auth, call, 'call', id);
  return callToJson(await endLiveCall(ctx, call));
}

/**
 * Ends a call from whichever node the request landed on. finishCall ends the session that holds
 * the call's media (here, or on another node over the bus, waiting for it to write the record),
 * so the record is final with `api_end` before Twilio hangs up and its callback arrives. Then Twilio hangs up a phone call (which also covers one
 * still ringing) and the bus tells the node holding the media socket, if another, to close it.
 * Closing the media socket alone also ends a connected phone call (PROTOCOLS.md §1.1: no TwiML
 * follows `<Connect>`), so a failed Twilio request is noted on the call, not fatal.
 */
async function endLiveCall(ctx: AppContext, call: Call): Promise<Call> {
  if (isTerminal(call.status)) return call;
  const now = ctx.now().toISOString();
  // A call that was never answered is canceled, as Twilio would report it (PROTOCOLS.md §2.5).
  const status: CallStatus = call.status === 'in-progress' ? 'completed' : 'canceled';
  await finishCall(ctx, call, status, {
    endReason: 'api_end',
    endedAt: now,
    durationSeconds: secondsBetween(call.answeredAt, now) ?? 0,
  });

  if (call.direction !== 'web' && call.twilioCallSid && ctx.twilio) {
    try {
      await ctx.twilio.endCall(call.twilioCallSid);
    } catch (err) {
      const tag = err instanceof TwilioRestError ? err.reasonTag : 'error:twilio:unknown';
      ctx.log.warn({ err, callId: call.id }, 'Twilio hang-up failed; the media socket close ends the call');
      const cur = await ctx.store.getCall(call.id);
      if (cur) await ctx.store.updateCall(call.id, { notes: [...cur.notes, `api_end: Twilio hang-up failed (${tag})`] });
    }
  }
  // Retried in the background while the bus is away: the holding node must hear it (bus/control-retry.ts).
  await publishControlWithRetry({ bus: ctx.bus, log: ctx.log, retries: ctx.metrics.faults.controlRetries }, { callId: call.id, control: { command: 'end', reason: 'api_end' } });
  return (await ctx.store.getCall(call.id)) ?? call;
}

export const TranscriptItemSchema = Type.Object({
  seq: Type.Integer(),
  role: Type.Union([Type.Literal('user'), Type.Literal('agent'), Type.Literal('tool'), Type.Literal('system')]),
  text: Type.String(),
  startMs: Type.Number(),
  endMs: Type.Number(),
  interrupted: Type.Optional(Type.Boolean()),
  final: Type.Boolean(),
});
export const TranscriptSchema = Type.Object({ callId: Type.String(), items: Type.Array(TranscriptItemSchema) });

export async function getTranscript(ctx: AppContext, auth: AuthContext, callId: string): Promise<Static<typeof TranscriptSchema>> {
  const call = await ctx.store.getCall(callId);
  assertReadable(auth, call, 'call', callId);
  const items = await ctx.store.listTranscript(call.id);
  return { callId: call.id, items };
}

/** API.md: `wait_for_call` waits at most 300 s. */
export const MAX_WAIT_SECONDS = 300;

/**
 * The call once it is terminal, or as it is when `timeoutSeconds` pass (or `signal` aborts).
 * Subscribes before re-reading the record, so an end that lands between the two is not missed.
 */
export async function waitForCall(
  ctx: AppContext,
  auth: AuthContext,
  callId: string,
  timeoutSeconds: number,
  signal?: AbortSignal,
): Promise<ReturnType<typeof callToJson>> {
  const first = await ctx.store.getCall(callId);
  assertReadable(auth, first, 'call', callId);
  if (isTerminal(first.status)) return callToJson(first);

  let wake: () => void = () => {};
  const woken = new Promise<void>((resolve) => (wake = resolve));
  const unsubscribe = await ctx.bus.subscribeCallEvents(callId, (msg) => {
    if (msg.type === 'call.ended' || (msg.type === 'call.status' && isTerminal(msg.data.status as Call['status']))) wake();
  });
  const timer = setTimeout(wake, Math.min(timeoutSeconds, MAX_WAIT_SECONDS) * 1000);
  const onAbort = () => wake();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const now = await ctx.store.getCall(callId);
    if (now && !isTerminal(now.status)) await woken;
    return callToJson((await ctx.store.getCall(callId)) ?? first);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    await unsubscribe().catch((err: unknown) => ctx.log.warn({ err, callId }, 'unsubscribing call events failed'));
  }
}
