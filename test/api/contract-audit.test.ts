/**
 * Regressions from the black-box contract audit against docs/API.md: each block is one
 * difference the running gateway had, pinned to the behaviour of the contract.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
const text = { name: 'T', architecture: 'text', systemPrompt: 'p', model: 'm' };
const pipeline = { name: 'P', architecture: 'pipeline', systemPrompt: 'p', model: 'm', stt: 'deepgram', tts: 'elevenlabs' };

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const key = async (owner: string, scopes: string[]): Promise<string> => {
  const res = await t.api('POST', '/v1/keys', { owner, scopes });
  expect(res.status).toBe(201);
  return res.body.key as string;
};

const errorShape = (code: string) => ({ error: { code, message: expect.any(String), details: expect.any(Array) } });

describe('read:all is read-only access to every owner on its own', () => {
  it('a key with only read:all reads any owner, and every write is 403', async () => {
    const alice = await key('audit-alice', ['agents:read', 'agents:write', 'calls:read', 'numbers:read', 'knowledge:read', 'campaigns:read']);
    const auditor = await key('audit-ro', ['read:all']);
    const agent = (await t.api('POST', '/v1/agents', text, alice)).body;
    for (const path of [`/v1/agents/${agent.id}`, '/v1/agents', '/v1/calls', '/v1/phone-numbers', '/v1/knowledge', '/v1/campaigns']) {
      const res = await t.api('GET', path, undefined, auditor);
      expect(res.status, path).toBe(200);
    }
    expect((await t.api('GET', '/v1/agents?limit=100', undefined, auditor)).body.items.map((a: { id: string }) => a.id)).toContain(agent.id);
    const patch = await t.api('PATCH', `/v1/agents/${agent.id}`, { name: 'x' }, auditor);
    expect(patch.status).toBe(403);
    expect(patch.body).toEqual(errorShape('forbidden'));
    expect((await t.api('POST', '/v1/agents', text, auditor)).status).toBe(403);
    expect((await t.api('GET', '/v1/keys', undefined, auditor)).status).toBe(403);
    expect((await t.api('GET', '/v1/approvals', undefined, auditor)).status).toBe(403);
  });

  it('read:all does not count as holding a read scope when granting keys', async () => {
    const granter = await key('audit-granter', ['read:all', 'keys:write']);
    const res = await t.api('POST', '/v1/keys', { owner: 'audit-granter', scopes: ['agents:read'] }, granter);
    expect(res.status).toBe(403);
  });
});

describe('text the stores cannot hold is 422, never stored (PostgreSQL rejects it)', () => {
  it('NUL in a body string, a nested value or an object key', async () => {
    for (const body of [
      { ...text, name: 'a\u0000b' },
      { ...text, metadata: { a: { b: [1, { c: 'x\u0000' }] } } },
      { ...text, metadata: { 'k\u0000': 1 } },
      { ...text, name: 'lone \ud800 surrogate' },
    ]) {
      const res = await t.api('POST', '/v1/agents', body);
      expect(res.status).toBe(422);
      expect(res.body).toEqual(errorShape('validation_failed'));
      expect(res.body.error.details.length).toBeGreaterThan(0);
    }
    const first = (await t.api('POST', '/v1/agents', { ...text, metadata: { a: { b: [1, { c: 'x\u0000' }] } } })).body;
    expect(first.error.details[0]).toMatchObject({ path: 'body/metadata/a/b/1/c', field: 'metadata.a.b.1.c' });
  });

  it('NUL in path parameters and query strings', async () => {
    const p = await t.api('GET', '/v1/agents/agt_%00');
    expect(p.status).toBe(422);
    expect(p.body).toEqual(errorShape('validation_failed'));
    const q = await t.api('GET', '/v1/calls?agentId=%00');
    expect(q.status).toBe(422);
    expect(q.body.error.details[0]).toMatchObject({ path: 'querystring/agentId' });
  });

  it('NUL in env-var values, contacts and web-call variables', async () => {
    const agent = (await t.api('POST', '/v1/agents', pipeline)).body;
    expect((await t.api('PUT', `/v1/agents/${agent.id}/env-vars/TOKEN`, { value: 'a\u0000' })).status).toBe(422);
    expect((await t.api('POST', '/v1/web-calls', { agentId: agent.id, variables: { x: '\u0000' } })).status).toBe(422);
    expect((await t.api('POST', '/v1/knowledge/text', { name: 'd', text: 'hello\u0000world' })).status).toBe(422);
  });

  it('ordinary unicode is fine', async () => {
    const res = await t.api('POST', '/v1/agents', { ...text, name: 'Zoë 😀 日本語' });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('Zoë 😀 日本語');
  });
});

describe('unknown /v1 routes pass the same auth and rate-limit hooks', () => {
  it('404 and 405 carry x-ratelimit headers', async () => {
    const nf = await t.api('GET', '/v1/no-such-thing');
    expect(nf.status).toBe(404);
    expect(nf.body).toEqual(errorShape('not_found'));
    expect(nf.headers.get('x-ratelimit-limit')).toBeTruthy();
    expect(nf.headers.get('x-ratelimit-remaining')).toBeTruthy();
    const na = await t.api('PUT', '/v1/agents', {});
    expect(na.status).toBe(405);
    expect(na.body).toEqual(errorShape('method_not_allowed'));
    expect(na.headers.get('allow')).toContain('POST');
    expect(na.headers.get('x-ratelimit-limit')).toBeTruthy();
  });

  it('without a key an unknown /v1 route is 401 like every /v1 route', async () => {
    const res = await fetch(`${t.baseUrl}/v1/no-such-thing`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(errorShape('unauthorized'));
  });

  it('a malformed body on an unknown route is still 404, and on a wrong method 405', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/nope',
      payload: '{bad',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual(errorShape('not_found'));
  });

  it('the catch-all is not listed as a method of any path', async () => {
    const res = await t.api('DELETE', '/v1/me');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('every error path has the error body', () => {
  it('a plain GET on a WebSocket path is a JSON 404, not an empty body', async () => {
    for (const path of ['/web/media?token=x', '/twilio/media']) {
      const res = await fetch(t.baseUrl + path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(await res.json()).toEqual(errorShape('not_found'));
    }
  });
});

describe('validation details name a union once', () => {
  it('an enum query value gives one detail listing the allowed values', async () => {
    const res = await t.api('GET', '/v1/calls?status=bogus');
    expect(res.status).toBe(422);
    const details = res.body.error.details.filter((d: { path: string }) => d.path === 'querystring/status');
    expect(details).toHaveLength(1);
    expect(details[0].message).toContain('"in-progress"');
  });

  it('a nullable object field given a number says which types it takes', async () => {
    const res = await t.api('POST', '/v1/agents', { ...text, metadata: 5 });
    expect(res.status).toBe(422);
    const details = res.body.error.details.filter((d: { path: string }) => d.path === 'body/metadata');
    expect(details).toHaveLength(1);
    expect(details[0].message).toMatch(/null/);
  });
});

describe('deleting a knowledge document detaches it from agents', () => {
  it('the agent no longer lists it, and a PATCH round-trip of the agent still works', async () => {
    const doc = (await t.api('POST', '/v1/knowledge/text', { name: 'd', text: 'some facts' })).body;
    const agent = (await t.api('POST', '/v1/agents', { ...pipeline, knowledgeIds: [doc.id] })).body;
    expect(agent.knowledgeIds).toEqual([doc.id]);
    expect((await t.api('DELETE', `/v1/knowledge/${doc.id}`)).status).toBe(204);
    const after = (await t.api('GET', `/v1/agents/${agent.id}`)).body;
    expect(after.knowledgeIds).toEqual([]);
    expect((await t.api('PATCH', `/v1/agents/${agent.id}`, { knowledgeIds: after.knowledgeIds })).status).toBe(200);
  });
});

describe('OpenAPI documents every route with its media types', () => {
  it('lists every /v1 route with request and response schemas, and the public routes', async () => {
    const res = await fetch(`${t.baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, any>> };
    const paths = doc.paths;
    for (const p of ['/healthz', '/readyz', '/metrics', '/twilio/voice', '/twilio/status', '/twilio/media', '/web/media']) {
      expect(paths[p], p).toBeDefined();
    }
    expect(Object.keys(paths['/v1/agents/{id}/chat']!.post.responses['200'].content)).toEqual(['text/event-stream']);
    expect(Object.keys(paths['/v1/calls/{id}/transcript/stream']!.get.responses['200'].content)).toEqual(['text/event-stream']);
    expect(Object.keys(paths['/v1/calls/{id}/recording']!.get.responses['200'].content)).toEqual(['audio/wav']);
    expect(Object.keys(paths['/v1/calls/{id}/recording']!.get.responses['206'].content)).toEqual(['audio/wav']);
    expect(paths['/v1/approvals/{id}/reject']!.post.requestBody.content['application/json'].schema.properties.reason).toBeDefined();
    // Every /v1 operation: a 2xx response, error responses with the error body, and a request
    // body schema where the method takes one.
    const noBody = new Set(['/v1/calls/{id}/end', '/v1/campaigns/{id}/start', '/v1/campaigns/{id}/pause', '/v1/campaigns/{id}/stop']);
    for (const [path, ops] of Object.entries(paths)) {
      if (!path.startsWith('/v1')) continue;
      for (const [method, op] of Object.entries(ops)) {
        const statuses = Object.keys(op.responses);
        expect(statuses.some((s) => s.startsWith('2')), `${method} ${path}`).toBe(true);
        expect(op.responses['401'], `${method} ${path}`).toBeDefined();
        if ((method === 'post' || method === 'patch' || method === 'put') && !noBody.has(path)) {
          expect(op.requestBody, `${method} ${path}`).toBeDefined();
        }
      }
    }
  });
});
