/**
 * `POST/GET/DELETE /v1/keys` (`keys:write`): thin adapters over src/services/keys.ts, where the
 * granting rules and the last-admin rule live.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { PageOf, PageQuery } from './paging.js';
import { errorResponses, IdParams } from './schemas.js';
import { CreateKey, CreatedKey, KeyJson, createKey, deleteKey, listKeys } from '../services/index.js';

export async function keyRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  app.post<{ Body: CreateKey }>(
    '/v1/keys',
    { config: { scope: 'keys:write' }, schema: { tags: ['keys'], body: CreateKey, response: { 201: CreatedKey, ...errorResponses() } } },
    async (req, reply) => reply.code(201).send(await createKey(ctx, req.auth, req.body)),
  );

  app.get<{ Querystring: PageQuery }>(
    '/v1/keys',
    { config: { scope: 'keys:write' }, schema: { tags: ['keys'], querystring: PageQuery, response: { 200: PageOf(KeyJson), ...errorResponses() } } },
    async (req) => listKeys(ctx, req.auth, req.query),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/keys/:id',
    {
      config: { scope: 'keys:write' },
      schema: { tags: ['keys'], params: IdParams, response: { 204: Type.Null(), ...errorResponses(404, 409) } },
    },
    async (req, reply) => {
      await deleteKey(ctx, req.auth, req.params.id);
      return reply.code(204).send();
    },
  );
}
