import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { newId } from '../../src/ids.js';
import { hashKey } from '../../src/api/auth.js';

let t: TestApp;
const text = { name: 'T', architecture: 'text', systemPrompt: 'p', model: 'm' };

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const raw = (method: string, path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  t.app.inject({ method: method as 'POST', url: path, payload: body, headers: { authorization: `Bearer ${t.adminKey}`, ...headers } });

const expectError = (res: { statusCode: number; json(): any }, status: number, code: string) => {
  expect(res.statusCode).toBe(status);
  const body = res.json();
  expect(body).toEqual({ error: { code, message: expect.any(String), details: expect.any(Array) } });
};

describe('bodies', () => {
  it('malformed JSON is 400 invalid_json', async () => {
    expectError(await raw('POST', '/v1/agents', '{"name": ', { 'content-type': 'application/json' }), 400, 'invalid_json');
  });

  it('a body of 1 MiB + 1 byte is 413 payload_too_large', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 0x20);
    expectError(await raw('POST', '/v1/agents', big, { 'content-type': 'application/json' }), 413, 'payload_too_large');
  });

  it('a non-JSON content type is 415', async () => {
    expectError(await raw('POST', '/v1/agents', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    expectError(await raw('POST', '/v1/agents', 'x', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
  });

  it('schema violations are 422 with a path per problem', async () => {
    const res = await raw('POST', '/v1/keys', JSON.stringify({ owner: 'x' }), { 'content-type': 'application/json' });
    expectError(res, 422, 'validation_failed');
    expect(res.json().error.details[0]).toMatchObject({ path: 'body/scopes', message: expect.any(String) });
  });

  it('prototype pollution attempts are refused, not merged', async () => {
    const res = await raw('POST', '/v1/agents', '{"__proto__": {"admin": true}, "name": "x"}', { 'content-type': 'application/json' });
    expect([400, 422]).toContain(res.statusCode);
  });
});

describe('routing', () => {
  it('an unknown /v1 path is 404 not_found', async () => {
    expectError(await t.app.inject({ method: 'GET', url: '/v1/nope', headers: { authorization: `Bearer ${t.adminKey}` } }), 404, 'not_found');
  });

  it('a wrong method on a known path is 405 with Allow', async () => {
    const res = await t.app.inject({ method: 'PUT', url: '/v1/agents', headers: { authorization: `Bearer ${t.adminKey}` } });
    expectError(res, 405, 'method_not_allowed');
    expect(res.headers.allow).toContain('POST');
  });

  it('OpenAPI and docs need no key', async () => {
    const doc = await fetch(`${t.baseUrl}/openapi.json`);
    expect(doc.status).toBe(200);
    const json = await doc.json();
    expect(json.paths['/v1/agents'].post).toBeDefined();
    expect((await fetch(`${t.baseUrl}/docs`)).status).toBe(200);
  });
});

describe('paging', () => {
  it.each(['0', '101', '-1', 'ten'])('limit=%s is 422', async (limit) => {
    const res = await t.api('GET', `/v1/agents?limit=${limit}`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
  });

  it('a cursor that is not one of ours is 422', async () => {
    const res = await t.api('GET', '/v1/agents?cursor=%27%20OR%201%3D1');
    expect(res.status).toBe(422);
  });

  it('pages newest first and stays stable when newer rows are inserted', async () => {
    const mine = (await t.api('POST', '/v1/keys', { owner: 'pager', scopes: ['agents:read', 'agents:write'] })).body.key;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await t.api('POST', '/v1/agents', { ...text, name: `a${i}` }, mine)).body.id);
    const p1 = await t.api('GET', '/v1/agents?limit=3', undefined, mine);
    expect(p1.body.items.map((a: { id: string }) => a.id)).toEqual(ids.slice(4).reverse());
    expect(p1.body.next_cursor).toEqual(expect.any(String));
    // Inserts between pages must not shift the next page.
    await t.api('POST', '/v1/agents', { ...text, name: 'late' }, mine);
    const p2 = await t.api('GET', `/v1/agents?limit=3&cursor=${p1.body.next_cursor}`, undefined, mine);
    expect(p2.body.items.map((a: { id: string }) => a.id)).toEqual(ids.slice(1, 4).reverse());
    const p3 = await t.api('GET', `/v1/agents?limit=3&cursor=${p2.body.next_cursor}`, undefined, mine);
    expect(p3.body.items.map((a: { id: string }) => a.id)).toEqual([ids[0]]);
    expect(p3.body.next_cursor).toBeNull();
  });
});

describe('idempotency', () => {
  it('replays the first response for the same key and body', async () => {
    const h = { 'idempotency-key': 'create-1' };
    const first = await t.api('POST', '/v1/agents', text, undefined, h);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await t.api('POST', '/v1/agents', text, undefined, h);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const list = await t.api('GET', '/v1/agents?limit=100');
    expect(list.body.items.filter((a: { id: string }) => a.id === first.body.id)).toHaveLength(1);
  });

  it('treats key order in the body as the same request', async () => {
    const h = { 'idempotency-key': 'create-order' };
    const a = await t.api('POST', '/v1/agents', { name: 'o', architecture: 'text', systemPrompt: 'p', model: 'm' }, undefined, h);
    const b = await t.api('POST', '/v1/agents', { model: 'm', systemPrompt: 'p', architecture: 'text', name: 'o' }, undefined, h);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(b.body.id).toBe(a.body.id);
  });

  it('the same key with a different body is 422 idempotency_key_reused', async () => {
    const h = { 'idempotency-key': 'create-2' };
    expect((await t.api('POST', '/v1/agents', text, undefined, h)).status).toBe(201);
    const res = await t.api('POST', '/v1/agents', { ...text, name: 'other' }, undefined, h);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('idempotency_key_reused');
  });

  it('keys are per API key: another key may use the same Idempotency-Key', async () => {
    const other = (await t.api('POST', '/v1/keys', { owner: 'idem', scopes: ['agents:write'] })).body.key;
    const h = { 'idempotency-key': 'shared' };
    const a = await t.api('POST', '/v1/agents', text, undefined, h);
    const b = await t.api('POST', '/v1/agents', text, other, h);
    expect(b.status).toBe(201);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.id).not.toBe(a.body.id);
  });

  it('replays an error response too (4xx)', async () => {
    const h = { 'idempotency-key': 'bad-arch' };
    const first = await t.api('POST', '/v1/agents', { name: 'x', architecture: 'pipeline', systemPrompt: 'p' }, undefined, h);
    expect(first.status).toBe(422);
    const again = await t.api('POST', '/v1/agents', { name: 'x', architecture: 'pipeline', systemPrompt: 'p' }, undefined, h);
    expect(again.status).toBe(422);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('concurrent duplicates execute once', async () => {
    const h = { 'idempotency-key': 'race' };
    const results = await Promise.all(Array.from({ length: 5 }, () => t.api('POST', '/v1/agents', { ...text, name: 'race' }, undefined, h)));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(results.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);
  });

  it('an over-long Idempotency-Key is 422', async () => {
    const res = await t.api('POST', '/v1/agents', text, undefined, { 'idempotency-key': 'k'.repeat(300) });
    expect(res.status).toBe(422);
  });
});

describe('rate limit', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await createTestApp({ env: { RATE_LIMIT_RPM: '3' } });
  });
  afterAll(async () => limited.close());

  it('sends x-ratelimit headers on every /v1 response and 429 with Retry-After past the limit', async () => {
    const seen: Array<{ status: number; limit: string | null; remaining: string | null }> = [];
    for (let i = 0; i < 4; i++) {
      const res = await limited.api('GET', '/v1/agents');
      seen.push({ status: res.status, limit: res.headers.get('x-ratelimit-limit'), remaining: res.headers.get('x-ratelimit-remaining') });
      if (i === 3) {
        expect(res.body.error.code).toBe('rate_limited');
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    expect(seen).toEqual([
      { status: 200, limit: '3', remaining: '2' },
      { status: 200, limit: '3', remaining: '1' },
      { status: 200, limit: '3', remaining: '0' },
      { status: 429, limit: '3', remaining: '0' },
    ]);
  });

  it('limits per key: another key still has its budget, and public routes are not limited', async () => {
    // The admin key spent its budget above; a second key (written straight to the store,
    // since the admin key can no longer call POST /v1/keys) is counted separately.
    await limited.ctx.store.createKey({
      id: newId('key'), owner: 'other', scopes: ['agents:read'], name: null, hash: hashKey('vg_second_key_for_rate_limit'),
      createdAt: new Date().toISOString(), revokedAt: null,
    });
    expect((await limited.api('GET', '/v1/agents')).status).toBe(429);
    const res = await limited.api('GET', '/v1/agents', undefined, 'vg_second_key_for_rate_limit');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-remaining')).toBe('2');
    const doc = await limited.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(doc.headers['x-ratelimit-limit']).toBeUndefined();
  });
});
