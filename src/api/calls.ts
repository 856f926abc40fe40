/**
 * `/v1/calls`: place outbound calls, list and read calls, end a live call from any node.
 * Transcripts (and their SSE stream) and recordings live in calls-transcript.ts and
 * calls-recording.ts. API.md, Calls.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import type { Call, CallStatus } from '../store/types.js';
import { placeOutboundCall } from '../calls/index.js';
import { finishCall, isTerminal, secondsBetween } from '../calls/lifecycle.js';
import { TwilioRestError } from '../transport/twilio/rest-client.js';
import { assertReadable, assertWritable, ownerFilter } from './auth-context.js';
import { PageOf, PageQuery, pageBody, pageRequest } from './paging.js';
import { CallSchema, callToJson } from './call-json.js';
import { AnyObject, ErrorBody, IdParams, StringMap, errorResponses } from './schemas.js';
import { callTranscriptRoutes } from './calls-transcript.js';
import { callRecordingRoutes } from './calls-recording.js';
import { E164_HINT, E164_PATTERN } from '../e164.js';

const CallStatusSchema = Type.Union(
  (['queued', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'] as const).map((s) => Type.Literal(s)),
);
const DirectionSchema = Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('web')]);

// One flat object (not an allOf): OpenAPI turns its properties into query parameters.
const ListQuery = Type.Object({
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
type ListQuery = Static<typeof ListQuery>;

const CreateBody = Type.Object(
  {
    agentId: Type.String({ minLength: 1, maxLength: 100 }),
    // E.164 (ITU-T): '+', a non-zero digit, at most 15 digits in all.
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
type CreateBody = Static<typeof CreateBody>;
type IdParams = Static<typeof IdParams>;

export async function callRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  app.post<{ Body: CreateBody }>(
    '/v1/calls',
    {
      config: { scope: 'calls:write' },
      schema: {
        tags: ['calls'],
        summary: 'Place an outbound phone call',
        body: CreateBody,
        response: { 201: CallSchema, ...errorResponses(404, 502, 503) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const call = await placeOutboundCall(ctx, {
        owner: req.auth.owner,
        admin: req.auth.scopes.includes('admin'),
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
      return reply.code(201).send(callToJson(call));
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/v1/calls',
    {
      config: { scope: 'calls:read' },
      schema: { tags: ['calls'], summary: 'List calls, newest first', querystring: ListQuery, response: { 200: PageOf(CallSchema), ...errorResponses() } },
    },
    async (req) => {
      const q = req.query;
      const page = await ctx.store.listCalls(
        { owner: ownerFilter(req.auth), agentId: q.agentId, status: q.status, direction: q.direction, phoneNumberId: q.phoneNumberId, endReason: q.endReason },
        pageRequest(q),
      );
      return pageBody(page, callToJson);
    },
  );

  app.get<{ Params: IdParams }>(
    '/v1/calls/:id',
    {
      config: { scope: 'calls:read' },
      schema: { tags: ['calls'], summary: 'Get a call', params: IdParams, response: { 200: CallSchema, 404: ErrorBody, ...errorResponses() } },
    },
    async (req) => {
      const call = await ctx.store.getCall(req.params.id);
      assertReadable(req.auth, call, 'call', req.params.id);
      return callToJson(call);
    },
  );

  app.post<{ Params: IdParams }>(
    '/v1/calls/:id/end',
    {
      config: { scope: 'calls:write' },
      schema: { tags: ['calls'], summary: 'End a live call (any node); idempotent', params: IdParams, response: { 200: CallSchema, 404: ErrorBody, ...errorResponses() } },
    },
    async (req) => {
      const call = await ctx.store.getCall(req.params.id);
      assertWritable(req.auth, call, 'call', req.params.id);
      return callToJson(await endCall(ctx, call));
    },
  );

  await app.register(callTranscriptRoutes, opts);
  await app.register(callRecordingRoutes, opts);
}

/**
 * Ends a call from whichever node the request landed on. The record is made terminal first
 * (`api_end`; a session on this node is ended inside finishCall), so the hang-up that follows
 * is never mistaken for the caller's. Then Twilio hangs up a phone call (which also covers one
 * still ringing) and the bus tells the node holding the media socket, if another, to close it.
 * Closing the media socket alone also ends a connected phone call (PROTOCOLS.md §1.1: no TwiML
 * follows `<Connect>`), so a failed Twilio request is noted on the call, not fatal.
 */
async function endCall(ctx: AppContext, call: Call): Promise<Call> {
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
  await ctx.bus
    .publishControl({ callId: call.id, control: { command: 'end', reason: 'api_end' } })
    .catch((err: unknown) => ctx.log.warn({ err, callId: call.id }, 'control end not published'));
  return (await ctx.store.getCall(call.id)) ?? call;
}
