/**
 * What the fuzzer and a newcomer found: inputs the API took that it should have refused, and
 * one it refused that it should have taken. Each block failed before its fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { makeCall } from '../store/fixtures.js';
import type { NewCall } from '../../src/store/types.js';

let t: TestApp;
const voice = { name: 'V', architecture: 'pipeline', systemPrompt: 'p', model: 'm', stt: 'deepgram', tts: 'elevenlabs', voiceMode: 'web_and_phone' };
let numberSeq = 0;
const e164 = () => `+1415555${String(1000 + numberSeq++).padStart(4, '0')}`;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

async function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(t.baseUrl + path, { method, headers: { authorization: `Bearer ${t.adminKey}`, ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('the last admin key', () => {
  it('cannot be deleted (409 last_admin_key); once another admin exists it can', async () => {
    // A gateway of its own: this test revokes the suite's admin key.
    const k = await createTestApp();
    try {
      const me = (await k.api('GET', '/v1/me')).body as { keyId: string };
      const refused = await k.api('DELETE', `/v1/keys/${me.keyId}`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('last_admin_key');
      expect((await k.api('GET', '/v1/me')).status).toBe(200);

      const second = (await k.api('POST', '/v1/keys', { owner: 'admin', scopes: ['admin'] })).body as { id: string; key: string };
      // The second admin revokes the first, with the JSON content type and no body, as SDKs send it.
      const revoked = await fetch(`${k.baseUrl}/v1/keys/${me.keyId}`, { method: 'DELETE', headers: { authorization: `Bearer ${second.key}`, 'content-type': 'application/json' } });
      expect(revoked.status).toBe(204);
      expect((await k.api('GET', '/v1/me')).status).toBe(401);
      // …and is now the last one. A key without admin is no stand-in.
      await k.api('POST', '/v1/keys', { owner: 'admin', scopes: ['keys:write', 'agents:read'] }, second.key);
      const last = await fetch(`${k.baseUrl}/v1/keys/${second.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${second.key}` } });
      expect(last.status).toBe(409);
      expect((await k.api('GET', '/v1/me', undefined, second.key)).status).toBe(200);
    } finally {
      await k.close();
    }
  });
});

describe('an empty body with Content-Type: application/json', () => {
  it('is accepted by a POST that takes no body, and refused (400 invalid_json) by one that does', async () => {
    const agent = (await t.api('POST', '/v1/agents', voice)).body;
    expect(agent.id).toBeTruthy();
    const call = await t.ctx.store.createCall(makeCall('admin', agent.id, { direction: 'web', status: 'completed' } as Partial<NewCall>));
    for (const body of [undefined, '', '  \n']) {
      const ended = await raw('POST', `/v1/calls/${call.id}/end`, { 'content-type': 'application/json' }, body);
      expect(ended.status, JSON.stringify(body)).toBe(200);
      expect(ended.body.id).toBe(call.id);
    }
    const create = await raw('POST', '/v1/agents', { 'content-type': 'application/json' }, '');
    expect(create.status).toBe(400);
    expect(create.body.error.code).toBe('invalid_json');
    const broken = await raw('POST', '/v1/agents', { 'content-type': 'application/json' }, '{"name":');
    expect(broken.body.error.code).toBe('invalid_json');
  });
});

describe('loose validation the fuzzer found', () => {
  it('agentId: false is a type error, not null', async () => {
    const res = await t.api('POST', '/v1/phone-numbers', { phoneNumber: e164(), agentId: false });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(JSON.stringify(res.body.error.details)).toContain('agentId');
    // Nor is a number coerced into a string, or a string into a number.
    expect((await t.api('POST', '/v1/agents', { ...voice, name: 12 })).status).toBe(422);
    expect((await t.api('POST', '/v1/agents', { ...voice, temperature: '0.5' })).status).toBe(422);
    // The query string still converts (everything there is text).
    expect((await t.api('GET', '/v1/agents?limit=5')).status).toBe(200);
  });

  it('"+10" is not an E.164 number anywhere', async () => {
    for (const bad of ['+10', '+123456', '+0123456789', '14155550100']) {
      expect((await t.api('POST', '/v1/phone-numbers', { phoneNumber: bad })).status, bad).toBe(422);
    }
    expect((await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+6834002' })).status).toBe(201); // Niue: 7 digits
    const agent = (await t.api('POST', '/v1/agents', voice)).body;
    expect((await t.api('POST', '/v1/calls', { agentId: agent.id, toNumber: '+10' })).status).toBe(422);
  });

  it('a PATCH cannot turn an agent with numbers into a text agent, or take phone away from a campaign\'s agent', async () => {
    const agent = (await t.api('POST', '/v1/agents', voice)).body;
    const number = (await t.api('POST', '/v1/phone-numbers', { phoneNumber: e164(), agentId: agent.id })).body;
    const toText = await t.api('PATCH', `/v1/agents/${agent.id}`, { architecture: 'text' });
    expect(toText.status).toBe(422);
    expect(toText.body.error.details[0].field).toBe('architecture');
    expect((await t.api('GET', `/v1/agents/${agent.id}`)).body.architecture).toBe('pipeline');

    const withCampaign = (await t.api('POST', '/v1/agents', voice)).body;
    const campaign = await t.api('POST', '/v1/campaigns', { name: 'c', agentId: withCampaign.id, fromNumberId: number.id });
    expect(campaign.status).toBe(201);
    const webOnly = await t.api('PATCH', `/v1/agents/${withCampaign.id}`, { voiceMode: 'web' });
    expect(webOnly.status).toBe(422);
    expect(webOnly.body.error.details[0].field).toBe('voiceMode');
    // Other changes still go through.
    expect((await t.api('PATCH', `/v1/agents/${withCampaign.id}`, { name: 'renamed' })).status).toBe(200);
  });

  it('lists the calls that ended on errors with endReason=error:*', async () => {
    const agent = (await t.api('POST', '/v1/agents', voice)).body;
    const reasons = ['error:deepgram', 'error:twilio:21211', 'caller_hangup', 'agent_hangup', 'errorish_but_not'];
    const ids = new Map<string, string>();
    for (const endReason of reasons) {
      const c = await t.ctx.store.createCall(makeCall('admin', agent.id, { direction: 'web', status: 'completed', endReason }));
      ids.set(endReason, c.id);
    }
    const errors = (await t.api('GET', `/v1/calls?agentId=${agent.id}&endReason=${encodeURIComponent('error:*')}`)).body.items.map((c: { endReason: string }) => c.endReason);
    expect(errors.sort()).toEqual(['error:deepgram', 'error:twilio:21211']);
    const exact = (await t.api('GET', `/v1/calls?agentId=${agent.id}&endReason=agent_hangup`)).body.items;
    expect(exact.map((c: { id: string }) => c.id)).toEqual([ids.get('agent_hangup')]);
    // `_` is no wildcard: "error_*" matches only reasons that start with "error_".
    expect((await t.api('GET', `/v1/calls?agentId=${agent.id}&endReason=error_*`)).body.items).toHaveLength(0);
    expect((await t.api('GET', '/v1/calls?endReason=bad%20reason')).status).toBe(422);
  });
});
