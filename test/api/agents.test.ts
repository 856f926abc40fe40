import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { newId } from '../../src/ids.js';

let t: TestApp;
let alice: string;
let aliceRead: string;
let bob: string;
let auditor: string;

const pipeline = { name: 'P', architecture: 'pipeline', systemPrompt: 'Hi {{name}}', model: 'gpt-4o-mini', stt: 'deepgram', tts: 'elevenlabs' };
const realtime = { name: 'R', architecture: 'realtime', systemPrompt: 'p', realtimeProvider: 'openai' };
const text = { name: 'T', architecture: 'text', systemPrompt: 'p', model: 'gpt-4o-mini' };

async function key(owner: string, scopes: string[]): Promise<string> {
  const res = await t.api('POST', '/v1/keys', { owner, scopes });
  return res.body.key;
}

beforeAll(async () => {
  t = await createTestApp();
  alice = await key('alice', ['agents:read', 'agents:write', 'calls:read']);
  aliceRead = await key('alice', ['agents:read']);
  bob = await key('bob', ['agents:read', 'agents:write']);
  auditor = await key('auditor', ['read:all', 'agents:read', 'agents:write']);
});
afterAll(async () => t.close());

describe('agent defaults and shape', () => {
  it('creates a pipeline agent with the defaults of API.md', async () => {
    const res = await t.api('POST', '/v1/agents', pipeline, alice);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^agt_/),
      name: 'P',
      language: 'en',
      voiceMode: 'web_and_phone',
      active: false,
      knowledgeIds: [],
      firstMessage: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(res.body).not.toHaveProperty('owner');
  });

  it('defaults a text agent to voiceMode off', async () => {
    const res = await t.api('POST', '/v1/agents', text, alice);
    expect(res.status).toBe(201);
    expect(res.body.voiceMode).toBe('off');
  });

  it('refuses temperature outside 0..2 and unknown enum values with 422', async () => {
    for (const bad of [{ temperature: 3 }, { stt: 'whisper' }, { voiceMode: 'always' }, { turnDetection: { vadThreshold: 2 } }]) {
      const res = await t.api('POST', '/v1/agents', { ...pipeline, ...bad }, alice);
      expect(res.status, JSON.stringify(bad)).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });
});

describe('architecture table on create', () => {
  const missing = async (body: Record<string, unknown>) => {
    const res = await t.api('POST', '/v1/agents', body, alice);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    return (res.body.error.details as Array<{ field: string }>).map((d) => d.field).sort();
  };
  const without = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

  it('names every field missing for pipeline (model, stt, tts)', async () => {
    expect(await missing(without(pipeline, 'model', 'stt', 'tts'))).toEqual(['model', 'stt', 'tts']);
  });
  it.each(['model', 'stt', 'tts', 'name', 'systemPrompt'])('pipeline without %s is 422', async (f) => {
    expect(await missing(without(pipeline, f))).toEqual([f]);
  });
  it('realtime needs realtimeProvider but not model/stt/tts', async () => {
    expect(await missing(without(realtime, 'realtimeProvider'))).toEqual(['realtimeProvider']);
    expect((await t.api('POST', '/v1/agents', realtime, alice)).status).toBe(201);
  });
  it('realtimeProvider is "openai" or "xai"; anything else is 422', async () => {
    const xai = await t.api('POST', '/v1/agents', { ...realtime, realtimeProvider: 'xai' }, alice);
    expect(xai.status).toBe(201);
    expect(xai.body.realtimeProvider).toBe('xai');
    expect((await t.api('GET', `/v1/agents/${xai.body.id}`, undefined, alice)).body.realtimeProvider).toBe('xai');
    expect((await t.api('POST', '/v1/agents', { ...realtime, realtimeProvider: 'gemini' }, alice)).status).toBe(422);
  });
  it('text needs model but not stt/tts', async () => {
    expect(await missing(without(text, 'model'))).toEqual(['model']);
  });
  it('no architecture names architecture, and every common field', async () => {
    expect(await missing({})).toEqual(['architecture', 'name', 'systemPrompt']);
  });
  it('a text agent with a voice mode is 422', async () => {
    expect(await missing({ ...text, voiceMode: 'web' })).toEqual(['voiceMode']);
  });
  it('unknown knowledge ids are 422', async () => {
    expect(await missing({ ...text, knowledgeIds: [newId('doc')] })).toEqual(['knowledgeIds']);
  });
});

describe('architecture table on the merged PATCH result', () => {
  it('switching pipeline → realtime without realtimeProvider is 422', async () => {
    const a = (await t.api('POST', '/v1/agents', pipeline, alice)).body;
    const res = await t.api('PATCH', `/v1/agents/${a.id}`, { architecture: 'realtime' }, alice);
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(['realtimeProvider']);
    const ok = await t.api('PATCH', `/v1/agents/${a.id}`, { architecture: 'realtime', realtimeProvider: 'openai' }, alice);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ architecture: 'realtime', model: 'gpt-4o-mini', name: 'P' });
  });

  it('accepts stt "deepgram-flux" (Flux turn-taking) on create and patch', async () => {
    const a = await t.api('POST', '/v1/agents', { ...pipeline, stt: 'deepgram-flux' }, alice);
    expect(a.status).toBe(201);
    expect(a.body.stt).toBe('deepgram-flux');
    const b = (await t.api('POST', '/v1/agents', pipeline, alice)).body;
    const ok = await t.api('PATCH', `/v1/agents/${b.id}`, { stt: 'deepgram-flux' }, alice);
    expect(ok.status).toBe(200);
    expect(ok.body.stt).toBe('deepgram-flux');
  });

  it('clearing a required field with null is 422; an unrelated field patch keeps the rest', async () => {
    const a = (await t.api('POST', '/v1/agents', pipeline, alice)).body;
    const res = await t.api('PATCH', `/v1/agents/${a.id}`, { stt: null, tts: null }, alice);
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['stt', 'tts']);
    const ok = await t.api('PATCH', `/v1/agents/${a.id}`, { firstMessage: 'Hello', active: true }, alice);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ firstMessage: 'Hello', active: true, stt: 'deepgram', systemPrompt: 'Hi {{name}}' });
    const cleared = await t.api('PATCH', `/v1/agents/${a.id}`, { firstMessage: null }, alice);
    expect(cleared.body.firstMessage).toBeNull();
  });

  it('switching to text without a model is 422, and turns voice off when it succeeds', async () => {
    const r = (await t.api('POST', '/v1/agents', realtime, alice)).body;
    const res = await t.api('PATCH', `/v1/agents/${r.id}`, { architecture: 'text' }, alice);
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(['model']);
    const ok = await t.api('PATCH', `/v1/agents/${r.id}`, { architecture: 'text', model: 'm' }, alice);
    expect(ok.status).toBe(200);
    expect(ok.body.voiceMode).toBe('off');
  });
});

describe('owner isolation', () => {
  it("another owner's agent is 404 for read, patch and delete", async () => {
    const a = (await t.api('POST', '/v1/agents', text, alice)).body;
    expect((await t.api('GET', `/v1/agents/${a.id}`, undefined, bob)).status).toBe(404);
    expect((await t.api('PATCH', `/v1/agents/${a.id}`, { name: 'x' }, bob)).status).toBe(404);
    const del = await t.api('DELETE', `/v1/agents/${a.id}`, undefined, bob);
    expect(del.status).toBe(404);
    expect(del.body.error.code).toBe('not_found');
    const list = await t.api('GET', '/v1/agents?limit=100', undefined, bob);
    expect(list.body.items.map((x: { id: string }) => x.id)).not.toContain(a.id);
  });

  it('read:all reads every owner but cannot write others', async () => {
    const a = (await t.api('POST', '/v1/agents', text, alice)).body;
    expect((await t.api('GET', `/v1/agents/${a.id}`, undefined, auditor)).status).toBe(200);
    const list = await t.api('GET', '/v1/agents?limit=100', undefined, auditor);
    expect(list.body.items.map((x: { id: string }) => x.id)).toContain(a.id);
    expect((await t.api('PATCH', `/v1/agents/${a.id}`, { name: 'x' }, auditor)).status).toBe(404);
  });

  it('admin writes any owner', async () => {
    const a = (await t.api('POST', '/v1/agents', text, alice)).body;
    const res = await t.api('PATCH', `/v1/agents/${a.id}`, { name: 'renamed' });
    expect(res.status).toBe(200);
    expect((await t.api('GET', `/v1/agents/${a.id}`, undefined, alice)).body.name).toBe('renamed');
  });

  it('a read-only key gets 403 on writes', async () => {
    const res = await t.api('POST', '/v1/agents', text, aliceRead);
    expect(res.status).toBe(403);
  });
});

describe('delete', () => {
  it('deleting an agent keeps its calls', async () => {
    const a = (await t.api('POST', '/v1/agents', pipeline, alice)).body;
    const call = await t.ctx.store.createCall({
      id: newId('call'), owner: 'alice', agentId: a.id, direction: 'web', status: 'completed', fromNumber: null, toNumber: null,
      phoneNumberId: null, twilioCallSid: null, startedAt: null, answeredAt: null, endedAt: null, durationSeconds: null,
      endReason: null, variables: {}, metadata: {}, overrides: {}, record: false, recordingAvailable: false,
      latency: { turns: 0, p50Ms: null, p95Ms: null, recent: [] }, notes: [], campaignId: null, contactId: null,
    });
    expect((await t.api('DELETE', `/v1/agents/${a.id}`, undefined, alice)).status).toBe(204);
    expect((await t.api('GET', `/v1/agents/${a.id}`, undefined, alice)).status).toBe(404);
    expect(await t.ctx.store.getCall(call.id)).not.toBeNull();
  });
});
