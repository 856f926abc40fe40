/**
 * Phone numbers over HTTP: `GET/POST /v1/phone-numbers`, `GET/DELETE /v1/phone-numbers/:id`,
 * `POST /v1/agents/:id/phone` (attach), `GET /v1/phone-numbers/:id/calls`. Thin adapters over
 * src/services/phone-numbers.ts (shared with the MCP tools).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { PageOf, PageQuery } from './paging.js';
import { errorResponses, IdParams } from './schemas.js';
import { CallSchema } from './call-json.js';
import {
  AttachNumberBody,
  CreateNumberBody,
  NumberJson,
  attachPhoneNumber,
  createPhoneNumber,
  deletePhoneNumber,
  getPhoneNumber,
  listPhoneNumberCalls,
  listPhoneNumbers,
} from '../services/index.js';

export { E164_PATTERN as E164 } from '../e164.js';

export async function phoneNumberRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const tags = ['phone-numbers'];

  app.get<{ Querystring: PageQuery }>(
    '/v1/phone-numbers',
    { config: { scope: 'numbers:read' }, schema: { tags, querystring: PageQuery, response: { 200: PageOf(NumberJson), ...errorResponses() } } },
    async (req) => listPhoneNumbers(ctx, req.auth, req.query),
  );

  app.post<{ Body: CreateNumberBody }>(
    '/v1/phone-numbers',
    { config: { scope: 'numbers:write' }, schema: { tags, body: CreateNumberBody, response: { 201: NumberJson, ...errorResponses(404, 409) } } },
    async (req, reply) => reply.code(201).send(await createPhoneNumber(ctx, req.auth, req.body)),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/phone-numbers/:id',
    { config: { scope: 'numbers:read' }, schema: { tags, params: IdParams, response: { 200: NumberJson, ...errorResponses(404) } } },
    async (req) => getPhoneNumber(ctx, req.auth, req.params.id),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/phone-numbers/:id',
    { config: { scope: 'numbers:write' }, schema: { tags, params: IdParams, response: { 204: Type.Null(), ...errorResponses(404) } } },
    async (req, reply) => {
      await deletePhoneNumber(ctx, req.auth, req.params.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: AttachNumberBody }>(
    '/v1/agents/:id/phone',
    {
      config: { scope: 'numbers:write' },
      schema: { tags, params: IdParams, body: AttachNumberBody, response: { 200: NumberJson, ...errorResponses(404) } },
    },
    async (req) => attachPhoneNumber(ctx, req.auth, req.params.id, req.body),
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: PageQuery }>(
    '/v1/phone-numbers/:id/calls',
    {
      config: { scope: 'calls:read' },
      schema: { tags, params: IdParams, querystring: PageQuery, response: { 200: PageOf(CallSchema), ...errorResponses(404) } },
    },
    async (req) => listPhoneNumberCalls(ctx, req.auth, req.params.id, req.query),
  );
}
