/**
 * `/mcp` counts in the key's one rate-limit budget with `/v1` (API.md: rate limit per API key;
 * `/mcp` is authenticated exactly as `/v1`): an agent cannot go around the limit through MCP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { RATE_LIMIT_RPM: '6' } });
});
afterAll(async () => {
  await t?.close();
});

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'rl-test', version: '1' } } };

function mcp(key: string): Promise<Response> {
  return fetch(`${t.baseUrl}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify(initialize),
  });
}

describe('/mcp and the per-key rate limit', () => {
  it('spends the same budget as /v1, and answers 429 in JSON-RPC shape once it is gone', async () => {
    const key = (await t.api('POST', '/v1/keys', { owner: 'rl', scopes: ['agents:read'] })).body.key as string;
    const remaining: Array<string | null> = [];
    remaining.push((await t.api('GET', '/v1/me', undefined, key)).headers.get('x-ratelimit-remaining'));
    const first = await mcp(key);
    expect(first.status).toBe(200);
    await first.text();
    remaining.push(first.headers.get('x-ratelimit-remaining'));
    remaining.push((await t.api('GET', '/v1/me', undefined, key)).headers.get('x-ratelimit-remaining'));
    expect(remaining).toEqual(['5', '4', '3']);
    for (let i = 0; i < 3; i++) await (await mcp(key)).text();
    const over = await mcp(key);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await over.json()) as { jsonrpc: string; error: { message: string } };
    expect(body.jsonrpc).toBe('2.0');
    expect(body.error.message).toMatch(/^rate_limited: /);
    expect((await t.api('GET', '/v1/me', undefined, key)).status).toBe(429);
  });

  it('still refuses a bad key with its own 401, without counting it', async () => {
    const res = await mcp('vx_not_a_key');
    expect(res.status).toBe(401);
    expect(res.headers.get('x-ratelimit-remaining')).toBeNull();
  });
});
