/**
 * API keys and the `/v1` auth hook (the implementation of auth-context.ts).
 * Secrets look like `vg_<random>` and are stored only as their sha256; the hook accepts
 * `Authorization: Bearer <key>` or `X-API-Key: <key>`, refuses routes that name no scope
 * (deny by default), checks the route's scope and sets `req.auth`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest, onRequestAsyncHookHandler, preParsingAsyncHookHandler } from 'fastify';
import type { AppContext } from '../context.js';
import type { ApiKeyRecord } from '../store/types.js';
import { VoxgateError } from '../errors.js';
import { routeAllows, type AuthContext } from './auth-context.js';

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** 24 random bytes: 192 bits, far beyond guessing, and sha256 needs no salt at that entropy. */
export function generateKeySecret(): string {
  return `vg_${randomBytes(24).toString('base64url')}`;
}

/** The key the request presents, or null. `Authorization` wins when both are sent. */
export function presentedKey(req: FastifyRequest): string | null {
  const authz = req.headers.authorization;
  if (typeof authz === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
    return m ? m[1]! : null;
  }
  const xKey = req.headers['x-api-key'];
  if (typeof xKey === 'string' && xKey.trim() !== '') return xKey.trim();
  return null;
}

/**
 * A short-lived cache of key lookups: every `/v1` request authenticates, and a store round
 * trip per request would dominate cheap GETs. Revocation on this node clears the entry at once;
 * other nodes see it within CACHE_TTL_MS.
 */
const CACHE_TTL_MS = 5_000;
const CACHE_MAX = 10_000;

export class KeyCache {
  private readonly entries = new Map<string, { record: ApiKeyRecord | null; expiresAt: number }>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  get(hash: string): ApiKeyRecord | null | undefined {
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (e.expiresAt <= this.nowMs()) {
      this.entries.delete(hash);
      return undefined;
    }
    return e.record;
  }

  set(hash: string, record: ApiKeyRecord | null): void {
    if (this.entries.size >= CACHE_MAX) this.entries.clear();
    this.entries.set(hash, { record, expiresAt: this.nowMs() + CACHE_TTL_MS });
  }

  forgetKeyId(id: string): void {
    for (const [hash, e] of this.entries) if (e.record?.id === id) this.entries.delete(hash);
  }
}

const caches = new WeakMap<AppContext, KeyCache>();
export function keyCache(ctx: AppContext): KeyCache {
  let c = caches.get(ctx);
  if (!c) caches.set(ctx, (c = new KeyCache()));
  return c;
}

export async function authenticate(ctx: AppContext, secret: string): Promise<ApiKeyRecord | null> {
  const hash = hashKey(secret);
  const cache = keyCache(ctx);
  let record = cache.get(hash);
  if (record === undefined) {
    record = await ctx.store.getKeyByHash(hash);
    cache.set(hash, record);
  }
  return record && !record.revokedAt ? record : null;
}

/** True for paths the auth hook guards. */
export function isV1(url: string | undefined): boolean {
  return url !== undefined && (url === '/v1' || url.startsWith('/v1/'));
}

export function isMcp(url: string | undefined): boolean {
  return url === '/mcp';
}

/**
 * Authentication, in `onRequest`: missing, unknown or revoked keys are 401 before anything else
 * runs. The scope check is `scopeHook` (in `preParsing`), so it runs after the per-key rate
 * limit has counted the request and set its headers, and before the body is read.
 */
export function authHook(ctx: AppContext): onRequestAsyncHookHandler {
  return async function auth(req) {
    if (isMcp(req.routeOptions.url)) {
      // /mcp answers a bad key itself, in JSON-RPC shape (mcp/http.ts); a good one is known
      // here so that the per-key rate limit counts MCP requests in the same budget as /v1.
      const secret = presentedKey(req);
      const record = secret ? await authenticate(ctx, secret) : null;
      if (record) req.auth = authContextOf(ctx, record);
      return;
    }
    if (!isV1(req.routeOptions.url) || req.routeOptions.config?.scope === 'public') return;
    const secret = presentedKey(req);
    if (!secret) throw new VoxgateError('unauthorized', 'missing API key: send Authorization: Bearer <key> or X-API-Key');
    const record = await authenticate(ctx, secret);
    if (!record) throw new VoxgateError('unauthorized', 'unknown or revoked API key');
    req.auth = authContextOf(ctx, record);
  };
}

function authContextOf(ctx: AppContext, record: ApiKeyRecord): AuthContext {
  return { keyId: record.id, owner: record.owner, scopes: record.scopes, rpm: ctx.config.rateLimitRpm };
}

export const scopeHook: preParsingAsyncHookHandler = async function scope(req) {
  if (!isV1(req.routeOptions.url)) return;
  const scope = req.routeOptions.config?.scope;
  if (scope === 'public') return;
  if (!scope) {
    // Deny by default: a /v1 route that forgot to declare its scope is never reachable.
    throw new VoxgateError('forbidden', 'this route declares no scope and is refused');
  }
  if (scope !== 'any' && !routeAllows(req.auth, scope)) {
    throw new VoxgateError('forbidden', `this key lacks the scope ${scope}`, [{ field: 'scope', message: `requires ${scope}` }]);
  }
};
