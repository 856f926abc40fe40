/**
 * `POST /v1/web-calls` (API.md, Calls): a call from a browser. A thin adapter over
 * src/services/web-calls.ts (shared with the MCP tool `create_web_call`).
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { ErrorBody, errorResponses } from './schemas.js';
import { CreateWebCallBody, WebCallSchema, createWebCall } from '../services/index.js';

export async function webCallRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  app.post<{ Body: CreateWebCallBody }>(
    '/v1/web-calls',
    {
      config: { scope: 'calls:write' },
      schema: {
        tags: ['calls'],
        summary: 'Start a web call: a token and the URLs a browser uses to join it',
        body: CreateWebCallBody,
        response: { 201: WebCallSchema, 404: ErrorBody, ...errorResponses(503) },
      },
    },
    async (req, reply) => reply.code(201).send(await createWebCall(ctx, req.auth, req.body)),
  );
}
