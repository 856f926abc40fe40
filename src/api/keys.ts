/**
 * `POST/GET/DELETE /v1/keys` (`keys:write`). The secret is returned once, at creation, and
 * stored only as its sha256. A key may not grant scopes it does not hold itself (`admin` holds
 * them all), and may not mint keys for another owner unless it is `admin`: otherwise
 * `keys:write` alone would be a way into anyone's objects.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { ALL_SCOPES, type ApiKeyRecord, type Scope } from '../store/types.js';
import { VoxgateError } from '../errors.js';
import { newId } from '../ids.js';
import { assertWritable, hasScope, ownerFilter } from './auth-context.js';
import { PageOf, PageQuery, pageBody, pageRequest } from './paging.js';
import { errorResponses, IdParams, Nullable } from './schemas.js';
import { generateKeySecret, hashKey, keyCache } from './auth.js';

const ScopeSchema = Type.Union(ALL_SCOPES.map((s) => Type.Literal(s)));

const CreateKey = Type.Object(
  {
    owner: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: ALL_SCOPES.length, uniqueItems: true }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

const KeyJson = Type.Object({
  id: Type.String(),
  owner: Type.String(),
  scopes: Type.Array(Type.String()),
  name: Nullable(Type.String()),
  createdAt: Type.String(),
  revokedAt: Nullable(Type.String()),
});
const CreatedKey = Type.Object({
  id: Type.String(),
  key: Type.String(),
  owner: Type.String(),
  scopes: Type.Array(Type.String()),
  name: Nullable(Type.String()),
  createdAt: Type.String(),
});

const keyToJson = (k: ApiKeyRecord) => ({
  id: k.id,
  owner: k.owner,
  scopes: k.scopes,
  name: k.name,
  createdAt: k.createdAt,
  revokedAt: k.revokedAt,
});

export async function keyRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  app.post<{ Body: Static<typeof CreateKey> }>(
    '/v1/keys',
    { config: { scope: 'keys:write' }, schema: { tags: ['keys'], body: CreateKey, response: { 201: CreatedKey, ...errorResponses() } } },
    async (req, reply) => {
      const auth = req.auth;
      const missing = req.body.scopes.filter((s) => !hasScope(auth, s as Scope) || (s === 'admin' && !auth.scopes.includes('admin')));
      if (missing.length > 0) {
        throw new VoxgateError(
          'forbidden',
          `a key may not grant scopes it does not hold: ${missing.join(', ')}`,
          missing.map((s) => ({ field: 'scopes', message: `not held: ${s}` })),
        );
      }
      if (req.body.owner !== auth.owner && !auth.scopes.includes('admin')) {
        throw new VoxgateError('forbidden', 'only an admin key may create keys for another owner', [{ field: 'owner', message: 'must be your own owner' }]);
      }
      const secret = generateKeySecret();
      const record: ApiKeyRecord = {
        id: newId('key'),
        owner: req.body.owner,
        scopes: req.body.scopes as Scope[],
        name: req.body.name ?? null,
        hash: hashKey(secret),
        createdAt: ctx.now().toISOString(),
        revokedAt: null,
      };
      await ctx.store.createKey(record);
      return reply.code(201).send({ ...keyToJson(record), key: secret });
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/v1/keys',
    { config: { scope: 'keys:write' }, schema: { tags: ['keys'], querystring: PageQuery, response: { 200: PageOf(KeyJson), ...errorResponses() } } },
    async (req) => pageBody(await ctx.store.listKeys(ownerFilter(req.auth), pageRequest(req.query)), keyToJson),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/keys/:id',
    {
      config: { scope: 'keys:write' },
      schema: { tags: ['keys'], params: IdParams, response: { 204: Type.Null(), ...errorResponses(404, 409) } },
    },
    async (req, reply) => {
      const key = await ctx.store.getKey(req.params.id);
      assertWritable(req.auth, key, 'key', req.params.id);
      if (!key.revokedAt) {
        const outcome = await ctx.store.revokeKeyKeepingAdmin(key.id, ctx.now().toISOString());
        if (outcome === 'last_admin') {
          throw new VoxgateError('last_admin_key', 'this is the last key holding admin: deleting it would lock every operator out; create another admin key first');
        }
        // 'not_found': revoked meanwhile by another request; the DELETE still holds.
      }
      keyCache(ctx).forgetKeyId(key.id);
      return reply.code(204).send();
    },
  );
}
