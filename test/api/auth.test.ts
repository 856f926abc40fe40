import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import type { FastifyRequest } from 'fastify';
import { hashKey, scopeHook } from '../../src/api/auth.js';
import { VoxgateError } from '../../src/errors.js';
import { trackedRoutes } from '../../src/api/method-guard.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

async function makeKey(owner: string, scopes: string[], by = t.adminKey): Promise<string> {
  const res = await t.api('POST', '/v1/keys', { owner, scopes }, by);
  expect(res.status).toBe(201);
  return res.body.key as string;
}

describe('authentication', () => {
  it('refuses a request without a key with 401 unauthorized', async () => {
    const res = await fetch(`${t.baseUrl}/v1/agents`);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
  });

  it('refuses an unknown key with 401', async () => {
    const res = await t.api('GET', '/v1/agents', undefined, 'vg_not_a_real_key');
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'unauthorized', details: [] });
  });

  it('accepts Bearer and X-API-Key alike', async () => {
    const bearer = await t.api('GET', '/v1/me');
    expect(bearer.status).toBe(200);
    const res = await fetch(`${t.baseUrl}/v1/me`, { headers: { 'x-api-key': t.adminKey } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ owner: 'admin', keyId: bearer.body.keyId });
  });

  it('GET /v1/me names the key, owner, scopes and rate limit', async () => {
    const key = await makeKey('alice', ['agents:read']);
    const res = await t.api('GET', '/v1/me', undefined, key);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ keyId: expect.stringMatching(/^key_/), owner: 'alice', scopes: ['agents:read'], rateLimit: { rpm: 600 } });
  });

  it('stores keys only as their sha256', async () => {
    const res = await t.api('POST', '/v1/keys', { owner: 'bob', scopes: ['agents:read'], name: 'ci' });
    expect(res.body.key).toMatch(/^vg_/);
    const rec = await t.ctx.store.getKey(res.body.id);
    expect(rec!.hash).toBe(hashKey(res.body.key));
    expect(JSON.stringify(rec)).not.toContain(res.body.key);
    const list = await t.api('GET', '/v1/keys');
    expect(JSON.stringify(list.body)).not.toContain(res.body.key);
    expect(JSON.stringify(list.body)).not.toContain(rec!.hash);
  });

  it('refuses a revoked key with 401', async () => {
    const created = await t.api('POST', '/v1/keys', { owner: 'carol', scopes: ['agents:read'] });
    expect((await t.api('GET', '/v1/agents', undefined, created.body.key)).status).toBe(200);
    expect((await t.api('DELETE', `/v1/keys/${created.body.id}`)).status).toBe(204);
    const res = await t.api('GET', '/v1/agents', undefined, created.body.key);
    expect(res.status).toBe(401);
  });
});

describe('scopes', () => {
  it('refuses a key lacking the route scope with 403 forbidden', async () => {
    const key = await makeKey('dave', ['agents:read']);
    const res = await t.api('POST', '/v1/agents', { name: 'a', architecture: 'text', systemPrompt: 'p', model: 'm' }, key);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });

  it('lets admin use every route', async () => {
    const res = await t.api('POST', '/v1/agents', { name: 'a', architecture: 'text', systemPrompt: 'p', model: 'm' });
    expect(res.status).toBe(201);
  });

  it('refuses a /v1 route that declares no scope (deny by default)', async () => {
    const req = {
      routeOptions: { url: '/v1/forgotten', config: {} },
      auth: { keyId: 'key_x', owner: 'admin', scopes: ['admin'], rpm: 600 },
    } as unknown as FastifyRequest;
    const err = await (scopeHook as unknown as (r: FastifyRequest) => Promise<void>)(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VoxgateError);
    expect((err as VoxgateError).code).toBe('forbidden');
  });

  it('every registered /v1 route declares a scope', () => {
    const routes = trackedRoutes(t.app.server);
    expect(routes.length).toBeGreaterThan(10);
    expect(routes.filter((r) => !r.scope).map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });
});

describe('keys cannot grant scopes they lack', () => {
  it('403 when asking for a scope the caller does not hold', async () => {
    const limited = await makeKey('erin', ['keys:write', 'agents:read']);
    const res = await t.api('POST', '/v1/keys', { owner: 'erin', scopes: ['agents:read', 'agents:write'] }, limited);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect(res.body.error.message).toContain('agents:write');
  });

  it('403 for admin or read:all when not held', async () => {
    const limited = await makeKey('erin', ['keys:write', 'agents:read']);
    for (const scope of ['admin', 'read:all']) {
      const res = await t.api('POST', '/v1/keys', { owner: 'erin', scopes: [scope] }, limited);
      expect(res.status).toBe(403);
    }
  });

  it('allows a subset of its own scopes for its own owner, but not for another owner', async () => {
    const limited = await makeKey('erin', ['keys:write', 'agents:read']);
    expect((await t.api('POST', '/v1/keys', { owner: 'erin', scopes: ['agents:read'] }, limited)).status).toBe(201);
    expect((await t.api('POST', '/v1/keys', { owner: 'mallory', scopes: ['agents:read'] }, limited)).status).toBe(403);
  });

  it('422 for an unknown scope', async () => {
    const res = await t.api('POST', '/v1/keys', { owner: 'x', scopes: ['agents:everything'] });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
  });
});
