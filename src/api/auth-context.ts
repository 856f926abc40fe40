/**
 * The contract every `/v1` route relies on. A route names its scope in its options:
 *   app.get('/v1/calls', { config: { scope: 'calls:read' }, schema }, handler)
 * The auth hook (auth.ts) authenticates the key, checks the scope (a `/v1` route without one
 * is refused: deny by default), applies the rate limit and sets `req.auth`.
 * Ownership: a key sees its owner's objects; `read:all` reads everything, `admin` does anything.
 * Objects of other owners are 404, never 403 (API.md, Conventions).
 */
import type { Scope } from '../store/types.js';
import { notFound } from '../errors.js';

export interface AuthContext {
  keyId: string;
  owner: string;
  scopes: Scope[];
  /** The key's rate limit, requests per minute. */
  rpm: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The scope a `/v1` route requires; 'public' for routes that need no key; 'any' for routes
     * any valid key may call (`GET /v1/me`).
     */
    scope?: Scope | 'public' | 'any';
    /** The `/v1` catch-all route that answers unknown paths (404) and wrong methods (405). */
    catchAll?: boolean;
  }
  interface FastifyRequest {
    auth: AuthContext;
  }
}

export function hasScope(auth: AuthContext, scope: Scope): boolean {
  return auth.scopes.includes('admin') || auth.scopes.includes(scope);
}

/**
 * Whether the key may call a route that requires `scope`. `read:all` is "read only" over every
 * owner (API.md, Conventions), so it satisfies every `*:read` scope on its own; it never
 * satisfies a write, execute or approval scope. (Granting scopes still uses `hasScope`: a
 * `read:all` key does not thereby hold `agents:read` to hand out.)
 */
export function routeAllows(auth: AuthContext, scope: Scope): boolean {
  return hasScope(auth, scope) || (scope.endsWith(':read') && auth.scopes.includes('read:all'));
}

/** The owner to filter lists by: undefined (everyone's) for `read:all` and `admin`. */
export function ownerFilter(auth: AuthContext): string | undefined {
  return auth.scopes.includes('admin') || auth.scopes.includes('read:all') ? undefined : auth.owner;
}

/** Throws 404 unless the record exists and the key may read it. */
export function assertReadable<T extends { owner: string }>(auth: AuthContext, record: T | null | undefined, what: string, id: string): asserts record is T {
  if (!record || (record.owner !== auth.owner && ownerFilter(auth) !== undefined)) throw notFound(what, id);
}

/** Throws 404 unless the record exists and the key may change it (own owner, or `admin`). */
export function assertWritable<T extends { owner: string }>(auth: AuthContext, record: T | null | undefined, what: string, id: string): asserts record is T {
  if (!record || (record.owner !== auth.owner && !auth.scopes.includes('admin'))) throw notFound(what, id);
}
