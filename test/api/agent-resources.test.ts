import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { decryptSecret } from '../../src/crypto/secret-box.js';
import { newId } from '../../src/ids.js';

let t: TestApp;
let alice: string;
let bob: string;
let agentId: string;
const pipeline = { name: 'P', architecture: 'pipeline', systemPrompt: 'p', model: 'm', stt: 'deepgram', tts: 'elevenlabs' };

beforeAll(async () => {
  t = await createTestApp();
  const scopes = ['agents:read', 'agents:write', 'numbers:read', 'numbers:write', 'calls:read'];
  alice = (await t.api('POST', '/v1/keys', { owner: 'alice', scopes })).body.key;
  bob = (await t.api('POST', '/v1/keys', { owner: 'bob', scopes })).body.key;
  agentId = (await t.api('POST', '/v1/agents', pipeline, alice)).body.id;
});
afterAll(async () => t.close());

describe('env vars', () => {
  it('stores values encrypted and never returns them', async () => {
    const put = await t.api('PUT', `/v1/agents/${agentId}/env-vars/CRM_TOKEN`, { value: 'secret-123' }, alice);
    expect(put.status).toBe(200);
    expect(JSON.stringify(put.body)).not.toContain('secret-123');
    const list = await t.api('GET', `/v1/agents/${agentId}/env-vars`, undefined, alice);
    expect(list.body).toEqual({ items: [{ name: 'CRM_TOKEN' }] });
    const stored = await t.ctx.store.getEnvVars(agentId);
    expect(stored.CRM_TOKEN).not.toContain('secret-123');
    expect(decryptSecret(t.ctx.secrets.envVarKey, stored.CRM_TOKEN!)).toBe('secret-123');
  });

  it.each(['lower', '1ABC', 'A-B', 'A B'])('refuses the name %s with 422', async (name) => {
    const res = await t.api('PUT', `/v1/agents/${agentId}/env-vars/${encodeURIComponent(name)}`, { value: 'v' }, alice);
    expect(res.status).toBe(422);
  });

  it('deletes, then 404 on a second delete; other owners get 404', async () => {
    await t.api('PUT', `/v1/agents/${agentId}/env-vars/TMP`, { value: 'v' }, alice);
    expect((await t.api('PUT', `/v1/agents/${agentId}/env-vars/TMP`, { value: 'v' }, bob)).status).toBe(404);
    expect((await t.api('GET', `/v1/agents/${agentId}/env-vars`, undefined, bob)).status).toBe(404);
    expect((await t.api('DELETE', `/v1/agents/${agentId}/env-vars/TMP`, undefined, alice)).status).toBe(204);
    expect((await t.api('DELETE', `/v1/agents/${agentId}/env-vars/TMP`, undefined, alice)).status).toBe(404);
  });
});

describe('webhook tools', () => {
  const tool = {
    name: 'lookup_order',
    description: 'Looks up an order',
    parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
    url: 'http://127.0.0.1:9/orders?token={{env.CRM_TOKEN}}',
    headers: { authorization: 'Bearer {{env.CRM_TOKEN}}' },
  };

  it('creates with defaults, lists, and deletes', async () => {
    const res = await t.api('POST', `/v1/agents/${agentId}/tools`, tool, alice);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'lookup_order', method: 'POST', timeoutMs: 5000 });
    const list = await t.api('GET', `/v1/agents/${agentId}/tools`, undefined, alice);
    expect(list.body.items.map((x: { name: string }) => x.name)).toEqual(['lookup_order']);
    expect((await t.api('POST', `/v1/agents/${agentId}/tools`, tool, alice)).status).toBe(409);
    expect((await t.api('DELETE', `/v1/agents/${agentId}/tools/lookup_order`, undefined, alice)).status).toBe(204);
    expect((await t.api('DELETE', `/v1/agents/${agentId}/tools/lookup_order`, undefined, alice)).status).toBe(404);
  });

  it.each(['end_call', 'transfer_call'])('refuses the built-in name %s', async (name) => {
    const res = await t.api('POST', `/v1/agents/${agentId}/tools`, { ...tool, name }, alice);
    expect(res.status).toBe(422);
  });

  it.each([
    ['not an object schema', { type: 'string' }],
    ['an invalid schema', { type: 'object', properties: { a: { type: 'nonsense' } } }],
  ])('refuses parameters that are %s', async (_label, parameters) => {
    const res = await t.api('POST', `/v1/agents/${agentId}/tools`, { ...tool, parameters }, alice);
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].field).toBe('parameters');
  });

  it("another owner's agent is 404", async () => {
    expect((await t.api('POST', `/v1/agents/${agentId}/tools`, tool, bob)).status).toBe(404);
  });
});

describe('SSRF guard at create time (ALLOW_PRIVATE_URLS off)', () => {
  let strict: TestApp;
  let sAgent: string;
  beforeAll(async () => {
    strict = await createTestApp({ env: { ALLOW_PRIVATE_URLS: 'false' } });
    sAgent = (await strict.api('POST', '/v1/agents', pipeline)).body.id;
  });
  afterAll(async () => strict.close());

  it.each([
    'http://127.0.0.1/hook',
    'http://10.0.0.5/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/hook',
    'http://localhost/hook',
    'file:///etc/passwd',
  ])('refuses a webhook tool at %s', async (url) => {
    const res = await strict.api('POST', `/v1/agents/${sAgent}/tools`, { name: 't', description: 'd', parameters: { type: 'object' }, url });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
  });

  it.each(['http://127.0.0.1/doc', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/'])('refuses a knowledge URL at %s', async (url) => {
    const res = await strict.api('POST', '/v1/knowledge/url', { name: 'd', url });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/private address/);
  });
});

describe('phone numbers', () => {
  it('registers an E.164 number and refuses invalid ones with 422', async () => {
    const res = await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550100', label: 'main' }, alice);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.stringMatching(/^num_/), phoneNumber: '+14155550100', label: 'main', agentId: null });
    for (const bad of ['4155550100', '+0123', '+1415555010012345', '+1 415 555', 'abc']) {
      expect((await t.api('POST', '/v1/phone-numbers', { phoneNumber: bad }, alice)).status, bad).toBe(422);
    }
  });

  it('a duplicate number is 409 conflict, even for another owner', async () => {
    await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550101' }, alice);
    const res = await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550101' }, bob);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
  });

  it('attaches to a voice agent, refuses text agents and voiceMode without phone', async () => {
    const num = (await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550102' }, alice)).body;
    const ok = await t.api('POST', `/v1/agents/${agentId}/phone`, { phoneNumberId: num.id }, alice);
    expect(ok.status).toBe(200);
    expect(ok.body.agentId).toBe(agentId);
    const textAgent = (await t.api('POST', '/v1/agents', { name: 't', architecture: 'text', systemPrompt: 'p', model: 'm' }, alice)).body.id;
    expect((await t.api('POST', `/v1/agents/${textAgent}/phone`, { phoneNumberId: num.id }, alice)).status).toBe(422);
    const webOnly = (await t.api('POST', '/v1/agents', { ...pipeline, voiceMode: 'web' }, alice)).body.id;
    expect((await t.api('POST', `/v1/agents/${webOnly}/phone`, { phoneNumberId: num.id }, alice)).status).toBe(422);
    expect((await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550109', agentId: textAgent }, alice)).status).toBe(422);
  });

  it('one agent per number: attaching elsewhere moves it', async () => {
    const num = (await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550103' }, alice)).body;
    const other = (await t.api('POST', '/v1/agents', pipeline, alice)).body.id;
    await t.api('POST', `/v1/agents/${agentId}/phone`, { phoneNumberId: num.id }, alice);
    await t.api('POST', `/v1/agents/${other}/phone`, { phoneNumberId: num.id }, alice);
    expect((await t.ctx.store.getNumber(num.id))!.agentId).toBe(other);
  });

  it("isolates owners: bob cannot see, attach or delete alice's number", async () => {
    const num = (await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550104' }, alice)).body;
    const bobAgent = (await t.api('POST', '/v1/agents', pipeline, bob)).body.id;
    expect((await t.api('GET', `/v1/phone-numbers/${num.id}`, undefined, bob)).status).toBe(404);
    expect((await t.api('POST', `/v1/agents/${bobAgent}/phone`, { phoneNumberId: num.id }, bob)).status).toBe(404);
    expect((await t.api('DELETE', `/v1/phone-numbers/${num.id}`, undefined, bob)).status).toBe(404);
    expect((await t.api('GET', `/v1/phone-numbers/${num.id}/calls`, undefined, bob)).status).toBe(404);
    expect((await t.api('DELETE', `/v1/phone-numbers/${num.id}`, undefined, alice)).status).toBe(204);
  });

  it('lists the calls of a number, newest first, in the public call shape', async () => {
    const num = (await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550105' }, alice)).body;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const call = await t.ctx.store.createCall({
        id: newId('call'), owner: 'alice', agentId, direction: 'inbound', status: 'completed', fromNumber: '+14155559999',
        toNumber: num.phoneNumber, phoneNumberId: num.id, twilioCallSid: null, startedAt: null, answeredAt: null, endedAt: null,
        durationSeconds: 3, endReason: 'caller_hangup', variables: {}, metadata: {}, overrides: { systemPrompt: 'secret' }, record: true,
        recordingAvailable: false, latency: { turns: 0, p50Ms: null, p95Ms: null, recent: [] }, notes: ['x'], campaignId: null, contactId: null,
      });
      ids.push(call.id);
    }
    const page = await t.api('GET', `/v1/phone-numbers/${num.id}/calls?limit=2`, undefined, alice);
    expect(page.status).toBe(200);
    expect(page.body.items.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
    expect(page.body.items[0]).toMatchObject({ direction: 'inbound', phoneNumberId: num.id, latency: { turns: 0, p50Ms: null, p95Ms: null } });
    expect(page.body.items[0]).not.toHaveProperty('owner');
    expect(page.body.items[0]).not.toHaveProperty('overrides');
    const next = await t.api('GET', `/v1/phone-numbers/${num.id}/calls?limit=2&cursor=${page.body.next_cursor}`, undefined, alice);
    expect(next.body.items.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
  });
});
