/**
 * `POST/DELETE /v1/agents/:id/tools/calendly` (API.md, "Calendly preset"): the two tools appear
 * and disappear together, are listed with `preset: "calendly"`, and every bad input is a clear
 * 4xx that leaves the agent's tools as they were.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let alice: string;
let reader: string;
let bob: string;
let agentId: string;
const pipeline = { name: 'P', architecture: 'pipeline', systemPrompt: 'p', model: 'm', stt: 'deepgram', tts: 'elevenlabs' };
const EVENT_TYPE = 'https://api.calendly.com/event_types/AAAAAAAAAAAAAAAA';
const body = { eventTypeUri: EVENT_TYPE, tokenEnv: 'CALENDLY_TOKEN', timezone: 'Europe/Berlin' };

beforeAll(async () => {
  t = await createTestApp();
  const scopes = ['agents:read', 'agents:write'];
  alice = (await t.api('POST', '/v1/keys', { owner: 'alice', scopes })).body.key;
  bob = (await t.api('POST', '/v1/keys', { owner: 'bob', scopes })).body.key;
  reader = (await t.api('POST', '/v1/keys', { owner: 'alice', scopes: ['agents:read'] })).body.key;
});
beforeEach(async () => {
  agentId = (await t.api('POST', '/v1/agents', pipeline, alice)).body.id;
});
afterAll(async () => t.close());

const names = async (): Promise<string[]> => (await t.api('GET', `/v1/agents/${agentId}/tools`, undefined, alice)).body.items.map((i: { name: string }) => i.name);

describe('Calendly preset', () => {
  it('adds both tools (201), listed with preset "calendly" and without the internal settings', async () => {
    const res = await t.api('POST', `/v1/agents/${agentId}/tools/calendly`, body, alice);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ preset: 'calendly', eventTypeUri: EVENT_TYPE, tokenEnv: 'CALENDLY_TOKEN', timezone: 'Europe/Berlin' });
    expect(res.body.items.map((i: { name: string }) => i.name)).toEqual(['calendly_availability', 'calendly_book']);
    const list = (await t.api('GET', `/v1/agents/${agentId}/tools`, undefined, reader)).body.items;
    expect(list).toHaveLength(2);
    for (const tool of list) {
      expect(tool).toMatchObject({ preset: 'calendly', url: EVENT_TYPE, headers: { authorization: 'Bearer {{env.CALENDLY_TOKEN}}' } });
      expect(Object.keys(tool.headers)).toEqual(['authorization']);
    }
    expect(list.find((x: { name: string }) => x.name === 'calendly_book').parameters.required).toEqual(['startTime', 'name', 'email']);
    expect(list.find((x: { name: string }) => x.name === 'calendly_availability').parameters.required).toEqual(['startDate', 'endDate']);
  });

  it('timezone defaults to UTC; a second preset is 409; webhook tools are listed with preset null', async () => {
    await t.api('POST', `/v1/agents/${agentId}/tools`, { name: 'lookup', description: 'd', parameters: { type: 'object' }, url: 'http://127.0.0.1:9/x' }, alice);
    const res = await t.api('POST', `/v1/agents/${agentId}/tools/calendly`, { eventTypeUri: EVENT_TYPE, tokenEnv: 'CAL' }, alice);
    expect(res.status).toBe(201);
    expect(res.body.timezone).toBe('UTC');
    const again = await t.api('POST', `/v1/agents/${agentId}/tools/calendly`, body, alice);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
    const list = (await t.api('GET', `/v1/agents/${agentId}/tools`, undefined, alice)).body.items;
    expect(list.find((x: { name: string }) => x.name === 'lookup').preset).toBeNull();
    expect(await names()).toEqual(['lookup', 'calendly_availability', 'calendly_book']);
  });

  it('DELETE …/tools/calendly removes both; deleting either tool by name removes both too', async () => {
    await t.api('POST', `/v1/agents/${agentId}/tools/calendly`, body, alice);
    expect((await t.api('DELETE', `/v1/agents/${agentId}/tools/calendly`, undefined, alice)).status).toBe(204);
    expect(await names()).toEqual([]);
    expect((await t.api('DELETE', `/v1/agents/${agentId}/tools/calendly`, undefined, alice)).status).toBe(404);

    await t.api('POST', `/v1/agents/${agentId}/tools/calendly`, body, alice);
    expect((await t.api('DELETE', `/v1/agents/${agentId}/tools/calendly_book`, undefined, alice)).status).toBe(204);
    expect(await names()).toEqual([]);
  });

  it.each([
    [{ ...body, eventTypeUri: 'https://api.calendly.com/users/ME' }, 'eventTypeUri'],
    [{ ...body, eventTypeUri: 'not a url' }, 'eventTypeUri'],
    [{ ...body, tokenEnv: 'lower-case' }, 'tokenEnv'],
    [{ ...body, timezone: 'Mars/Olympus' }, 'timezone'],
  ])('refuses %j with 422 naming the field', async (bad, field) => {
    const res = await t.api('POST', `/v1/agents/${agentId}/tools/calendly`, bad, alice);
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(await names()).toEqual([]);
  });

  it('missing fields are 422; a malformed body is 400', async () => {
    const missing = await t.api('POST', `/v1/agents/${agentId}/tools/calendly`, { tokenEnv: 'X' }, alice);
    expect(missing.status).toBe(422);
    expect(missing.body.error.code).toBe('validation_failed');
    const raw = await fetch(`${t.baseUrl}/v1/agents/${agentId}/tools/calendly`, { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' }, body: '{nope' });
    expect(raw.status).toBe(400);
  });

  it('a webhook tool may not take a preset tool name or an x-voxgate-* header; an existing one blocks the preset (409)', async () => {
    const hook = { description: 'd', parameters: { type: 'object' }, url: 'http://127.0.0.1:9/x' };
    expect((await t.api('POST', `/v1/agents/${agentId}/tools`, { ...hook, name: 'calendly_book' }, alice)).status).toBe(422);
    const sneaky = await t.api('POST', `/v1/agents/${agentId}/tools`, { ...hook, name: 'cal', headers: { 'X-Voxgate-Preset': 'calendly' } }, alice);
    expect(sneaky.status).toBe(422);
    // A tool named "calendly" (from before the preset) is still deletable by name.
    expect((await t.api('POST', `/v1/agents/${agentId}/tools`, { ...hook, name: 'calendly' }, alice)).status).toBe(201);
    expect((await t.api('DELETE', `/v1/agents/${agentId}/tools/calendly`, undefined, alice)).status).toBe(204);
    expect(await names()).toEqual([]);
  });

  it('needs agents:write and the agent’s owner (others get 404)', async () => {
    expect((await t.api('POST', `/v1/agents/${agentId}/tools/calendly`, body, reader)).status).toBe(403);
    expect((await t.api('POST', `/v1/agents/${agentId}/tools/calendly`, body, bob)).status).toBe(404);
    expect((await t.api('DELETE', `/v1/agents/${agentId}/tools/calendly`, undefined, bob)).status).toBe(404);
    expect((await t.api('POST', '/v1/agents/agt_missing/tools/calendly', body, alice)).status).toBe(404);
    expect(await names()).toEqual([]);
  });
});
