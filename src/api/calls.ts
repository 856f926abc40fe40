/**
 * `/v1/calls`: place outbound calls, list and read calls, end a live call from any node. Thin
 * adapters over src/services/calls.ts (shared with the MCP tools). Transcripts (and their SSE
 * stream) and recordings live in calls-transcript.ts and calls-recording.ts. API.md, Calls.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { PageOf } from './paging.js';
import { CallSchema } from './call-json.js';
import { ErrorBody, IdParams, errorResponses } from './schemas.js';
import { callTranscriptRoutes } from './calls-transcript.js';
import { callRecordingRoutes } from './calls-recording.js';
import { CallListQuery, CreateCallBody, endCall, getCall, listCalls, placeCall } from '../services/index.js';

type IdParams = Static<typeof IdParams>;

export async function callRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  app.post<{ Body: CreateCallBody }>(
    '/v1/calls',
    {
      config: { scope: 'calls:write' },
      schema: {
        tags: ['calls'],
        summary: 'Place an outbound phone call',
        body: CreateCallBody,
        response: { 201: CallSchema, ...errorResponses(404, 502, 503) },
      },
    },
    async (req, reply) => reply.code(201).send(await placeCall(ctx, req.auth, req.body)),
  );

  app.get<{ Querystring: CallListQuery }>(
    '/v1/calls',
    {
      config: { scope: 'calls:read' },
      schema: { tags: ['calls'], summary: 'List calls, newest first', querystring: CallListQuery, response: { 200: PageOf(CallSchema), ...errorResponses() } },
    },
    async (req) => listCalls(ctx, req.auth, req.query),
  );

  app.get<{ Params: IdParams }>(
    '/v1/calls/:id',
    {
      config: { scope: 'calls:read' },
      schema: { tags: ['calls'], summary: 'Get a call', params: IdParams, response: { 200: CallSchema, 404: ErrorBody, ...errorResponses() } },
    },
    async (req) => getCall(ctx, req.auth, req.params.id),
  );

  app.post<{ Params: IdParams }>(
    '/v1/calls/:id/end',
    {
      config: { scope: 'calls:write' },
      schema: { tags: ['calls'], summary: 'End a live call (any node); idempotent', params: IdParams, response: { 200: CallSchema, 404: ErrorBody, ...errorResponses() } },
    },
    async (req) => endCall(ctx, req.auth, req.params.id),
  );

  await app.register(callTranscriptRoutes, opts);
  await app.register(callRecordingRoutes, opts);
}
