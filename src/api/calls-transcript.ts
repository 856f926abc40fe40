/**
 * `GET /v1/calls/:id/transcript` (final items) and `GET /v1/calls/:id/transcript/stream`
 * (SSE: replay, then live, `Last-Event-ID`, pings, closes after `call.ended`). API.md, Calls.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { isTerminal } from '../calls/lifecycle.js';
import { assertReadable } from './auth-context.js';
import { ErrorBody, IdParams, errorResponses } from './schemas.js';
import { CallEventStream } from './calls-event-stream.js';
import { TranscriptSchema, getTranscript } from '../services/index.js';

/**
 * 15 s pings (API.md): well under the 30-60 s idle timeouts of common proxies and load
 * balancers, so an idle stream is not cut. Mutable for tests, which need a short interval.
 */
export const transcriptStreamSettings = { pingIntervalMs: 15_000 };

type IdParams = Static<typeof IdParams>;

const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ maxLength: 20 })),
});

export async function callTranscriptRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  app.get<{ Params: IdParams }>(
    '/v1/calls/:id/transcript',
    {
      config: { scope: 'calls:read' },
      schema: {
        tags: ['calls'],
        summary: 'Final transcript items of a call',
        params: IdParams,
        response: { 200: TranscriptSchema, 404: ErrorBody, ...errorResponses() },
      },
    },
    async (req) => getTranscript(ctx, req.auth, req.params.id),
  );

  app.get<{ Params: IdParams; Headers: Static<typeof StreamHeaders> }>(
    '/v1/calls/:id/transcript/stream',
    {
      config: { scope: 'calls:read' },
      schema: {
        tags: ['calls'],
        summary: 'Live call events as Server-Sent Events (replay, then live; honours Last-Event-ID)',
        params: IdParams,
        headers: StreamHeaders,
        response: {
          200: Type.String({ description: 'text/event-stream: transcript.partial, transcript.final, agent.interrupted, call.status, call.ended' }),
          404: ErrorBody,
          ...errorResponses(),
        },
      },
    },
    async (req, reply) => {
      const call = await ctx.store.getCall(req.params.id);
      assertReadable(req.auth, call, 'call', req.params.id);
      const afterSeq = parseLastEventId(req.headers['last-event-id']);

      // From here on the response is ours: keep headers hooks already set (rate limit, ids).
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // nginx buffers proxied responses unless told not to; SSE must flow as written.
        'x-accel-buffering': 'no',
      });
      res.flushHeaders();

      const stream = new CallEventStream(res, {
        store: ctx.store,
        bus: ctx.bus,
        log: req.log,
        callId: call.id,
        afterSeq,
        pingIntervalMs: transcriptStreamSettings.pingIntervalMs,
        alreadyEnded: isTerminal(call.status),
      });
      try {
        await stream.start();
      } catch (err) {
        req.log.error({ err, callId: call.id }, 'SSE stream failed to start');
        await stream.close();
      }
    },
  );
}

/** A non-negative integer, else 0 (replay everything): a bad header must not lose events. */
function parseLastEventId(v: string | string[] | undefined): number {
  const s = Array.isArray(v) ? v[0] : v;
  return s !== undefined && /^\d{1,15}$/.test(s.trim()) ? Number(s.trim()) : 0;
}
