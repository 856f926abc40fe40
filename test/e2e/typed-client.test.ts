/**
 * The typed client (`voxgate/client`, src/client) against a running gateway: the main flows an
 * integrator writes — keys, an agent of each architecture, knowledge, a number, a web call, a
 * campaign up to its approval request — compile against the generated types and work against
 * the server, so the types are proven, not only generated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { createVoxgateClient, type Agent, type VoxgateClient } from '../../src/client/index.js';

let t: TestApp;
let admin: VoxgateClient;
let acme: VoxgateClient;

beforeAll(async () => {
  t = await createTestApp();
  admin = createVoxgateClient({ baseUrl: t.baseUrl, apiKey: t.adminKey });
  const { data: key, error } = await admin.POST('/v1/keys', {
    body: { owner: 'acme', scopes: ['agents:read', 'agents:write', 'numbers:read', 'numbers:write', 'calls:read', 'calls:write', 'knowledge:read', 'knowledge:write', 'campaigns:read', 'campaigns:write', 'campaigns:execute'] },
  });
  expect(error).toBeUndefined();
  acme = createVoxgateClient({ baseUrl: `${t.baseUrl}/`, apiKey: key!.key });
});
afterAll(async () => t?.close());

describe('typed client, main flows', () => {
  it('identifies the key', async () => {
    const { data } = await acme.GET('/v1/me');
    expect(data?.owner).toBe('acme');
    expect(data?.scopes).toContain('agents:write');
  });

  it('creates, reads, updates and lists agents; errors come back typed', async () => {
    const created = await acme.POST('/v1/agents', {
      body: { name: 'Desk', architecture: 'realtime', systemPrompt: 'Be brief.', realtimeProvider: 'openai' },
    });
    expect(created.response.status).toBe(201);
    const agent: Agent = created.data!;
    expect(agent.voiceMode).toBe('web_and_phone');

    const got = await acme.GET('/v1/agents/{id}', { params: { path: { id: agent.id } } });
    expect(got.data?.name).toBe('Desk');

    const patched = await acme.PATCH('/v1/agents/{id}', { params: { path: { id: agent.id } }, body: { temperature: 0.4, firstMessage: 'Hello!' } });
    expect(patched.data).toMatchObject({ temperature: 0.4, firstMessage: 'Hello!' });

    const list = await acme.GET('/v1/agents', { params: { query: { limit: 10 } } });
    expect(list.data?.items.map((a) => a.id)).toContain(agent.id);

    // The server's per-architecture rule, as the typed error body.
    const bad = await acme.POST('/v1/agents', { body: { name: 'P', architecture: 'pipeline', systemPrompt: 'p', model: 'm', stt: 'deepgram' } as never });
    expect(bad.response.status).toBe(422);
    expect(bad.error?.error.code).toBe('validation_failed');
    expect(bad.error?.error.details.map((d) => d.field)).toContain('tts');

    const missing = await acme.GET('/v1/agents/{id}', { params: { path: { id: 'agt_00000000000000000000000000' } } });
    expect(missing.error?.error.code).toBe('not_found');
  });

  it('adds knowledge, registers and attaches a number, starts a web call', async () => {
    const { data: agent } = await acme.POST('/v1/agents', {
      body: { name: 'Pipe', architecture: 'pipeline', systemPrompt: 'p', model: 'gpt-4o-mini', stt: 'deepgram', tts: 'elevenlabs', voiceMode: 'web_and_phone' },
    });
    const { data: docu } = await acme.POST('/v1/knowledge/text', { body: { name: 'Hours', text: 'Open 9 to 5 on weekdays.' } });
    expect(docu?.chunks).toBeGreaterThan(0);
    const withDocs = await acme.PATCH('/v1/agents/{id}/knowledge', { params: { path: { id: agent!.id } }, body: { documentIds: [docu!.id] } });
    expect(withDocs.data?.knowledgeIds).toEqual([docu!.id]);

    const { data: num } = await acme.POST('/v1/phone-numbers', { body: { phoneNumber: '+14155550142', label: 'Main' } });
    const attached = await acme.POST('/v1/agents/{id}/phone', { params: { path: { id: agent!.id } }, body: { phoneNumberId: num!.id } });
    expect(attached.data?.agentId).toBe(agent!.id);

    const web = await acme.POST('/v1/web-calls', { body: { agentId: agent!.id, variables: { name: 'Ada' } } });
    expect(web.response.status).toBe(201);
    expect(web.data?.websocketUrl).toContain('/web/media?token=');
    const call = await acme.GET('/v1/calls/{id}', { params: { path: { id: web.data!.callId } } });
    expect(call.data).toMatchObject({ direction: 'web', variables: { name: 'Ada' } });
    const ended = await acme.POST('/v1/calls/{id}/end', { params: { path: { id: web.data!.callId } } });
    expect(ended.data?.endReason).toBe('api_end');
    const calls = await acme.GET('/v1/calls', { params: { query: { agentId: agent!.id, direction: 'web' } } });
    expect(calls.data?.items).toHaveLength(1);
  });

  it('creates a campaign, uploads contacts and requests a start that waits for a person', async () => {
    const { data: agent } = await acme.POST('/v1/agents', { body: { name: 'Out', architecture: 'realtime', systemPrompt: 'p', realtimeProvider: 'openai' } });
    const { data: num } = await acme.POST('/v1/phone-numbers', { body: { phoneNumber: '+14155550143', agentId: agent!.id } });
    const { data: campaign } = await acme.POST('/v1/campaigns', {
      body: { name: 'Renewals', agentId: agent!.id, fromNumberId: num!.id, schedule: { timezone: 'America/New_York', callingHours: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] } } },
    });
    expect(campaign?.status).toBe('draft');
    const upload = await acme.POST('/v1/campaigns/{id}/contacts', {
      params: { path: { id: campaign!.id } },
      body: { contacts: [{ phone: '+14155550101', name: 'Ada', externalId: 'c1' }, { phone: 'nope' }] },
    });
    expect(upload.data).toMatchObject({ created: 1, failed: 1 });
    const start = await acme.POST('/v1/campaigns/{id}/start', { params: { path: { id: campaign!.id } } });
    expect(start.response.status).toBe(202);
    expect(start.data?.status).toBe('awaiting_approval');
    const action = await acme.GET('/v1/actions/{id}', { params: { path: { id: start.data!.actionId } } });
    expect(action.data).toMatchObject({ action: 'start', status: 'awaiting_approval', requestedBy: 'acme' });
    // The agent's own key cannot approve: it lacks the scope.
    const approve = await acme.POST('/v1/approvals/{id}/approve', { params: { path: { id: start.data!.actionId } } });
    expect(approve.response.status).toBe(403);
    const results = await acme.GET('/v1/campaigns/{id}/results', { params: { path: { id: campaign!.id } } });
    expect(results.data?.rows.map((r) => r.phone)).toEqual(['+14155550101']);
  });
});
