import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { startFakeCartesia, FAKE_CARTESIA_VOICES, type FakeCartesia } from '../fakes/cartesia.js';
import { listVoices, OPENAI_VOICES } from '../../src/services/voices.js';

let el: FakeElevenLabs;
let car: FakeCartesia;
let t: TestApp;
let clock = new Date('2026-12-01T10:00:00Z').getTime();

type Voice = { id: string; name: string; provider: string; language?: string; gender?: string; previewUrl?: string };

beforeAll(async () => {
  [el, car] = await Promise.all([startFakeElevenLabs(), startFakeCartesia()]);
  // 150 more Cartesia voices: the list takes two pages of 100.
  for (let i = 0; i < 150; i++) {
    car.voices.push({ ...FAKE_CARTESIA_VOICES[0]!, id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, name: `Extra ${i}`, gender: null });
  }
  t = await createTestApp({
    env: { ELEVENLABS_API_KEY: 'el-test', ELEVENLABS_BASE_URL: el.url, CARTESIA_API_KEY: 'sk_car_test', CARTESIA_BASE_URL: car.url, OPENAI_API_KEY: 'sk-test' },
    now: () => new Date(clock),
  });
});
afterAll(async () => {
  await t?.close();
  await Promise.all([el?.close(), car?.close()]);
});

const byProvider = (items: Voice[], p: string) => items.filter((v) => v.provider === p);

describe('GET /v1/voices', () => {
  it('lists ElevenLabs and Cartesia voices from their APIs and the OpenAI table; xAI without a key is unavailable', async () => {
    const res = await t.api('GET', '/v1/voices');
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    const items = res.body.items as Voice[];
    // ElevenLabs: the account's voices without legacy ones, with labels mapped.
    expect(byProvider(items, 'elevenlabs')).toEqual([
      { id: '21m00Tcm4TlvDq8ikWAM', name: 'Rachel', provider: 'elevenlabs', language: 'en', gender: 'female', previewUrl: expect.stringMatching(/^https:\/\//) },
      { id: 'pNInz6obpgDQGcFmaJgB', name: 'Adam', provider: 'elevenlabs', language: 'en', gender: 'male', previewUrl: expect.any(String) },
      { id: 'voice-cloned-1', name: 'My clone', provider: 'elevenlabs', language: 'de', previewUrl: expect.any(String) },
    ]);
    expect(el.voiceRequests[0]!.headers['xi-api-key']).toBe('el-test');
    // Cartesia: every page, gender in the catalogue's words, no auth-only preview URL.
    const cartesia = byProvider(items, 'cartesia');
    expect(cartesia).toHaveLength(FAKE_CARTESIA_VOICES.length + 150);
    expect(cartesia[0]).toEqual({ id: 'f786b574-daa5-4673-aa0c-cbe3e8534c02', name: 'Katie', provider: 'cartesia', language: 'en', gender: 'female' });
    expect(cartesia.find((v) => v.name === 'Sébastien')).toMatchObject({ language: 'fr', gender: 'male' });
    expect(car.voiceRequests[0]!.headers.authorization).toBe('Bearer sk_car_test');
    expect(car.voiceRequests[0]!.headers['cartesia-version']).toBeDefined();
    expect(car.voiceRequests.map((r) => r.query.starting_after ?? null)[0]).toBeNull();
    expect(car.voiceRequests.length).toBeGreaterThanOrEqual(2);
    expect(byProvider(items, 'openai').map((v) => v.id)).toEqual(OPENAI_VOICES);
    expect(res.body.unavailable).toEqual([{ provider: 'xai', reason: 'XAI_API_KEY is not set' }]);
  });

  it('caches each provider list for 10 minutes, then asks again', async () => {
    const elBefore = el.voiceRequests.length;
    const carBefore = car.voiceRequests.length;
    clock += 9 * 60_000;
    expect((await t.api('GET', '/v1/voices')).status).toBe(200);
    expect(el.voiceRequests.length).toBe(elBefore);
    expect(car.voiceRequests.length).toBe(carBefore);
    clock += 2 * 60_000;
    expect((await t.api('GET', '/v1/voices?provider=elevenlabs')).status).toBe(200);
    expect(el.voiceRequests.length).toBe(elBefore + 1);
    expect(car.voiceRequests.length).toBe(carBefore);
  });

  it('?provider= filters; an unknown provider is a 422 naming the parameter', async () => {
    const res = await t.api('GET', '/v1/voices?provider=openai');
    expect(res.status).toBe(200);
    expect(new Set((res.body.items as Voice[]).map((v) => v.provider))).toEqual(new Set(['openai']));
    expect(res.body.unavailable).toEqual([]);
    const bad = await t.api('GET', '/v1/voices?provider=polly');
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ code: 'validation_failed', details: [{ field: 'provider' }] });
    expect(bad.body.error.message).toMatch(/elevenlabs, cartesia, openai, xai/);
  });

  it('a provider whose API fails is listed in unavailable, never a 5xx, and is asked again next time', async () => {
    clock += 11 * 60_000;
    el.options.voicesStatus = 500;
    const res = await t.api('GET', '/v1/voices');
    expect(res.status).toBe(200);
    expect(res.body.unavailable).toEqual([
      { provider: 'elevenlabs', reason: expect.stringMatching(/500/) },
      { provider: 'xai', reason: 'XAI_API_KEY is not set' },
    ]);
    expect(byProvider(res.body.items, 'cartesia').length).toBeGreaterThan(0);
    el.options.voicesStatus = undefined;
    const again = await t.api('GET', '/v1/voices?provider=elevenlabs');
    expect(again.body.unavailable).toEqual([]);
    expect(again.body.items).toHaveLength(3);
  });

  it('needs agents:read', async () => {
    const k = (await t.api('POST', '/v1/keys', { owner: 'o', scopes: ['calls:read'] })).body.key as string;
    expect((await t.api('GET', '/v1/voices', undefined, k)).status).toBe(403);
    const r = (await t.api('POST', '/v1/keys', { owner: 'o', scopes: ['agents:read'] })).body.key as string;
    expect((await t.api('GET', '/v1/voices', undefined, r)).status).toBe(200);
  });

  it('is documented in OpenAPI as listVoices under the voices tag', async () => {
    const doc = (await t.api('GET', '/openapi.json')).body;
    const op = doc.paths['/v1/voices'].get;
    expect(op).toMatchObject({ operationId: 'listVoices', tags: ['voices'], summary: expect.any(String) });
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '422']));
  });

  it('with no provider configured: every provider unavailable, no items, status 200', async () => {
    const bare = await createTestApp();
    try {
      const res = await bare.api('GET', '/v1/voices');
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([]);
      expect((res.body.unavailable as Array<{ provider: string }>).map((u) => u.provider)).toEqual(['elevenlabs', 'cartesia', 'openai', 'xai']);
      // The service the MCP tool calls answers the same.
      expect(await listVoices(bare.ctx, { provider: 'cartesia' })).toEqual({ items: [], next_cursor: null, unavailable: [{ provider: 'cartesia', reason: 'CARTESIA_API_KEY is not set' }] });
    } finally {
      await bare.close();
    }
  });
});

describe('agent voiceId checked against the catalogue', () => {
  const pipeline = { name: 'P', architecture: 'pipeline', systemPrompt: 'p', model: 'gpt-4o-mini', stt: 'deepgram' };

  it('refuses a voice of another provider with 422 naming voiceId, accepts its own and unknown ids', async () => {
    const openaiOnEl = await t.api('POST', '/v1/agents', { ...pipeline, tts: 'elevenlabs', voiceId: 'alloy' });
    expect(openaiOnEl.status).toBe(422);
    expect(openaiOnEl.body.error).toMatchObject({ code: 'validation_failed', details: [{ field: 'voiceId', path: 'body/voiceId' }] });
    expect(openaiOnEl.body.error.message).toMatch(/openai voice/);
    const cartesiaOnEl = await t.api('POST', '/v1/agents', { ...pipeline, tts: 'elevenlabs', voiceId: 'a0e99841-438c-4a64-b679-ae501e7d6091' });
    expect(cartesiaOnEl.status).toBe(422);
    const elOnCartesia = await t.api('POST', '/v1/agents', { ...pipeline, tts: 'cartesia', voiceId: '21m00Tcm4TlvDq8ikWAM' });
    expect(elOnCartesia.status).toBe(422);
    expect((await t.api('POST', '/v1/agents', { ...pipeline, tts: 'cartesia', voiceId: 'a0e99841-438c-4a64-b679-ae501e7d6091' })).status).toBe(201);
    expect((await t.api('POST', '/v1/agents', { ...pipeline, tts: 'elevenlabs', voiceId: 'a-library-voice-not-listed' })).status).toBe(201);
    // OpenAI-compatible servers take any voice name.
    expect((await t.api('POST', '/v1/agents', { ...pipeline, tts: 'openai-compatible', voiceId: 'af_bella' })).status).toBe(201);
  });

  it('a realtime agent takes the documented OpenAI voices only', async () => {
    const realtime = { name: 'R', architecture: 'realtime', systemPrompt: 'p', realtimeProvider: 'openai' };
    expect((await t.api('POST', '/v1/agents', { ...realtime, voiceId: 'marin' })).status).toBe(201);
    const bad = await t.api('POST', '/v1/agents', { ...realtime, voiceId: 'Rachel' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0]).toMatchObject({ field: 'voiceId', message: expect.stringMatching(/not an OpenAI Realtime voice/) });
  });

  it('PATCH checks the merged agent when the voice or its provider changes', async () => {
    const a = await t.api('POST', '/v1/agents', { ...pipeline, tts: 'elevenlabs', voiceId: '21m00Tcm4TlvDq8ikWAM' });
    expect(a.status).toBe(201);
    const moved = await t.api('PATCH', `/v1/agents/${a.body.id}`, { tts: 'cartesia' });
    expect(moved.status).toBe(422);
    expect(moved.body.error.details[0].field).toBe('voiceId');
    const both = await t.api('PATCH', `/v1/agents/${a.body.id}`, { tts: 'cartesia', voiceId: 'a0e99841-438c-4a64-b679-ae501e7d6091', ttsModel: 'sonic-3' });
    expect(both.status).toBe(200);
    expect(both.body).toMatchObject({ tts: 'cartesia', ttsModel: 'sonic-3' });
    expect((await t.api('PATCH', `/v1/agents/${a.body.id}`, { name: 'Renamed' })).status).toBe(200);
  });

  it('allows an id unknown to the catalogue when the provider list is unavailable', async () => {
    const bare = await createTestApp();
    try {
      expect((await bare.api('POST', '/v1/agents', { ...pipeline, tts: 'cartesia', voiceId: 'some-cartesia-voice' })).status).toBe(201);
    } finally {
      await bare.close();
    }
  });
});
