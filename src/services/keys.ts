/**
 * API keys (API.md, Keys and identity): the implementation behind `/v1/keys`. The secret is
 * returned once, at creation, and stored only as its sha256. A key may not grant scopes it does
 * not hold itself (`admin` holds them all), and may not mint keys for another owner unless it is
 * `admin`: otherwise `keys:write` alone would be a way into anyone's objects. The last key
 * holding `admin` cannot be revoked (409 `last_admin_key`).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { ALL_SCOPES, type ApiKeyRecord, type Scope } from '../store/types.js';
import { VoxgateError } from '../errors.js';
import { newId } from '../ids.js';
import { assertWritable, hasScope, ownerFilter, type AuthContext } from '../api/auth-context.js';
import { pageBody, pageRequest, type PageQuery } from '../api/paging.js';
import { Nullable } from '../api/schemas.js';
import { generateKeySecret, hashKey, keyCache } from '../api/auth.js';

const ScopeSchema = Type.Union(ALL_SCOPES.map((s) => Type.Literal(s)));

export const CreateKey = Type.Object(
  {
    owner: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: ALL_SCOPES.length, uniqueItems: true }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const KeyJson = Type.Object({
  id: Type.String(),
  owner: Type.String(),
  scopes: Type.Array(Type.String()),
  name: Nullable(Type.String()),
  createdAt: Type.String(),
  revokedAt: Nullable(Type.String()),
});
export const CreatedKey = Type.Object({
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

export type CreateKey = Static<typeof CreateKey>;

export async function createKey(ctx: AppContext, auth: AuthContext, body: CreateKey) {
  const missing = body.scopes.filter((s) => !hasScope(auth, s as Scope) || (s === 'admin' && !auth.scopes.includes('admin')));
  if (missing.length > 0) {
    throw new VoxgateError(
      'forbidden',
      `a key may not grant scopes it does not hold: ${missing.join(', ')}`,
      missing.map((s) => ({ field: 'scopes', message: `not held: ${s}` })),
    );
  }
  if (body.owner !== auth.owner && !auth.scopes.includes('admin')) {
    throw new VoxgateError('forbidden', 'only an admin key may create keys for another owner', [{ field: 'owner', message: 'must be your own owner' }]);
  }
  const secret = generateKeySecret();
  const record: ApiKeyRecord = {
    id: newId('key'),
    owner: body.owner,
    scopes: body.scopes as Scope[],
    name: body.name ?? null,
    hash: hashKey(secret),
    createdAt: ctx.now().toISOString(),
    revokedAt: null,
  };
  await ctx.store.createKey(record);
  return { ...keyToJson(record), key: secret };
}

export async function listKeys(ctx: AppContext, auth: AuthContext, query: PageQuery) {
  return pageBody(await ctx.store.listKeys(ownerFilter(auth), pageRequest(query)), keyToJson);
}

export async function deleteKey(ctx: AppContext, auth: AuthContext, id: string): Promise<void> {
  const key = await ctx.store.getKey(id);
  assertWritable(auth, key, 'key', id);
  if (!key.revokedAt) {
    const outcome = await ctx.store.revokeKeyKeepingAdmin(key.id, ctx.now().toISOString());
    if (outcome === 'last_admin') {
      throw new VoxgateError('last_admin_key', 'this is the last key holding admin: deleting it would lock every operator out; create another admin key first');
    }
    // 'not_found': revoked meanwhile by another request; the DELETE still holds.
  }
  keyCache(ctx).forgetKeyId(key.id);
}
