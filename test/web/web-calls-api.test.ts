/**
 * `POST /v1/web-calls`: the 201 shape and what it sets up (a queued web call, its session,
 * URLs built from PUBLIC_URL), and the refusals (text agent, phone-only agent, another owner's
 * agent, missing scope).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyWebToken } from '../../src/transport/web/index.js';
import { seedKey } from '../api/calls-fixtures.js';
import { startWebGateway, webAgent, type WebGateway } from './web-fixtures.js';

let g: WebGateway;
beforeEach(async () => {
  g = await startWebGateway();
});
afterEach(async () => {
  await g.close();
});

describe('POST /v1/web-calls', () => {
  it('creates a queued web call, announces its session and returns a 5-minute token with both URLs', async () => {
    const agent = await webAgent(g.t, 'acme');
    const key = await seedKey(g.t, 'acme', ['calls:write', 'calls:read']);
    const before = Date.now();
    const res = await g.t.api('POST', '/v1/web-calls', { agentId: agent.id, variables: { name: 'Ada' }, metadata: { source: 'site' } }, key);
    expect(res.status).toBe(201);
    const body = res.body as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['callId', 'expiresAt', 'pageUrl', 'token', 'warnings', 'websocketUrl']);
    const wsBase = g.t.baseUrl.replace('http://', 'ws://');
    expect(body.websocketUrl).toBe(`${wsBase}/web/media?token=${encodeURIComponent(body.token!)}`);
    expect(body.pageUrl).toBe(`${g.t.baseUrl}/web/call?token=${encodeURIComponent(body.token!)}`);
    // Five minutes from when the handler ran (somewhere between before and now), carried to
    // whole seconds (rounded down).
    const expiresAt = Date.parse(body.expiresAt!);
    expect(expiresAt).toBeGreaterThan(before + 5 * 60_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 5 * 60_000);
    const check = verifyWebToken(g.t.ctx.secrets.tokenKey, body.token, new Date());
    expect(check).toMatchObject({ ok: true, callId: body.callId });

    const call = (await g.t.ctx.store.getCall(body.callId!))!;
    expect(call).toMatchObject({ direction: 'web', status: 'queued', owner: 'acme', agentId: agent.id, record: true, variables: { name: 'Ada' }, metadata: { source: 'site' } });
    // Announced at once: the engine (and its provider sockets) exists before the browser connects.
    expect(g.t.ctx.calls.get(body.callId!)).toBeDefined();
    expect(g.engines.has(body.callId!)).toBe(true);
    const read = await g.t.api('GET', `/v1/calls/${body.callId}`, undefined, key);
    expect(read.body).toMatchObject({ id: body.callId, direction: 'web', status: 'queued' });
  });

  it('accepts an agent whose voiceMode is web_and_phone', async () => {
    const agent = await webAgent(g.t, 'admin', { voiceMode: 'web_and_phone' });
    expect((await g.t.api('POST', '/v1/web-calls', { agentId: agent.id })).status).toBe(201);
  });

  it.each([
    ['a phone-only agent', { voiceMode: 'phone' as const }, /does not take web calls/],
    ['an agent with voice off', { voiceMode: 'off' as const }, /does not take web calls/],
    ['a text agent', { architecture: 'text' as const, voiceMode: 'web' as const }, /text agent/],
  ])('refuses %s with 422 validation_failed', async (_name, over, message) => {
    const agent = await webAgent(g.t, 'admin', over);
    const res = await g.t.api('POST', '/v1/web-calls', { agentId: agent.id });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toMatch(message);
    expect(res.body.error.details[0]).toMatchObject({ field: 'agentId' });
    expect(g.t.ctx.calls.size).toBe(0);
  });

  it("answers 404 for another owner's agent and for an unknown one", async () => {
    const agent = await webAgent(g.t, 'acme');
    const key = await seedKey(g.t, 'globex', ['calls:write']);
    const res = await g.t.api('POST', '/v1/web-calls', { agentId: agent.id }, key);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect((await g.t.api('POST', '/v1/web-calls', { agentId: 'agt_missing' })).status).toBe(404);
  });

  it('needs calls:write and a well-formed body', async () => {
    const agent = await webAgent(g.t, 'acme');
    const reader = await seedKey(g.t, 'acme', ['calls:read']);
    expect((await g.t.api('POST', '/v1/web-calls', { agentId: agent.id }, reader)).status).toBe(403);
    expect((await g.t.api('POST', '/v1/web-calls', { agentId: agent.id, variables: ['x'] })).status).toBe(422);
    expect((await g.t.api('POST', '/v1/web-calls', {})).status).toBe(422);
    expect((await g.t.api('POST', '/v1/web-calls', { agentId: '' })).status).toBe(422);
  });
});
