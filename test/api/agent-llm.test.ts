/**
 * The agent field `llm` (API.md, "bring your own brain"): validated per provider with a 422
 * naming the field, PATCHable, `model` not required for conversation servers, URLs under the
 * private-address rule; and a text agent's `/chat` through each brain: a webhook (one signed
 * `turn` POST, SSE chunks → `delta` events), a WebSocket (one connection), and an
 * OpenAI-compatible server of the agent's own with its key from an agent env var.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { answer, expectedSignature, startFakeBrain, type FakeBrain } from '../fakes/brain-server.js';
import { callBrain } from '../../src/engine/pipeline-brain.js';
import type { Agent, Call } from '../../src/store/types.js';

let t: TestApp;
let brain: FakeBrain;
let global: FakeOpenAiChat;
let own: FakeOpenAiChat;

beforeAll(async () => {
  [brain, global, own] = await Promise.all([startFakeBrain(), startFakeOpenAiChat({ apiKey: 'sk-global' }), startFakeOpenAiChat({ apiKey: 'sk-own-key' })]);
  t = await createTestApp({ env: { OPENAI_BASE_URL: global.url, OPENAI_API_KEY: 'sk-global' } });
});
afterAll(async () => {
  await t?.close();
  await Promise.all([brain?.close(), global?.close(), own?.close()]);
});

const pipeline = (over: Record<string, unknown>) => ({ name: 'P', architecture: 'pipeline', systemPrompt: 'p', stt: 'deepgram', tts: 'elevenlabs', ...over });

function parseSse(text: string): Array<{ event: string; data: any }> {
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1] ?? 'message', data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') }));
}
const chat = (id: string, body: unknown) =>
  fetch(`${t.baseUrl}/v1/agents/${id}/chat`, { method: 'POST', headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('agent llm field', () => {
  it('a webhook brain needs no model; the field round-trips, is PATCHable, and null brings the model rule back', async () => {
    const created = await t.api('POST', '/v1/agents', pipeline({ llm: { provider: 'webhook', url: 'http://127.0.0.1:9/turn', secretEnv: 'BRAIN_SECRET', timeoutMs: 3000 } }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ model: null, llm: { provider: 'webhook', url: 'http://127.0.0.1:9/turn', secretEnv: 'BRAIN_SECRET', timeoutMs: 3000 } });
    expect((await t.api('GET', `/v1/agents/${created.body.id}`)).body.llm).toEqual(created.body.llm);

    const patched = await t.api('PATCH', `/v1/agents/${created.body.id}`, { llm: { provider: 'websocket', url: 'ws://127.0.0.1:9/ws' } });
    expect(patched.status).toBe(200);
    expect(patched.body.llm).toEqual({ provider: 'websocket', url: 'ws://127.0.0.1:9/ws' });

    const back = await t.api('PATCH', `/v1/agents/${created.body.id}`, { llm: null });
    expect(back.status).toBe(422);
    expect(back.body.error.details).toContainEqual(expect.objectContaining({ field: 'model' }));
    const withModel = await t.api('PATCH', `/v1/agents/${created.body.id}`, { llm: null, model: 'gpt-4o-mini' });
    expect(withModel.status).toBe(200);
    expect(withModel.body.llm).toBeNull();
  });

  it('agents without llm show null (the built-in LLM)', async () => {
    const a = await t.api('POST', '/v1/agents', pipeline({ model: 'gpt-4o-mini' }));
    expect(a.status).toBe(201);
    expect(a.body.llm).toBeNull();
  });

  it.each([
    [{ provider: 'webhook' }, 'llm.url', /required for provider "webhook"/],
    [{ provider: 'websocket', url: 'http://127.0.0.1:9/x' }, 'llm.url', /must use ws or wss/],
    [{ provider: 'webhook', url: 'ws://127.0.0.1:9/x' }, 'llm.url', /must use http or https/],
    [{ provider: 'webhook', url: 'not a url' }, 'llm.url', /not a valid URL/],
    [{ provider: 'webhook', url: 'http://user:pw@127.0.0.1:9/x' }, 'llm.url', /credentials/],
    [{ provider: 'webhook', url: 'http://127.0.0.1:9/x', baseUrl: 'http://127.0.0.1:9' }, 'llm.baseUrl', /not a setting of provider "webhook"/],
    [{ provider: 'openai-compatible' }, 'llm.baseUrl', /required/],
    [{ provider: 'websocket', url: 'ws://127.0.0.1:9/x', timeoutMs: 500 }, 'llm.timeoutMs', /not a setting/],
  ])('refuses %j with a 422 naming %s', async (llm, field, message) => {
    const res = await t.api('POST', '/v1/agents', pipeline({ llm }));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, message: expect.stringMatching(message) }));
  });

  it('refuses an unknown provider and a bad env var name through the schema', async () => {
    for (const llm of [{ provider: 'gemini' }, { provider: 'webhook', url: 'http://127.0.0.1:9/x', secretEnv: 'lower-case' }]) {
      const res = await t.api('POST', '/v1/agents', pipeline({ llm }));
      expect(res.status).toBe(422);
      expect(JSON.stringify(res.body.error.details)).toMatch(/llm/);
    }
  });

  it('an openai-compatible brain is still a chat-completions model: model stays required', async () => {
    const res = await t.api('POST', '/v1/agents', pipeline({ llm: { provider: 'openai-compatible', baseUrl: own.url } }));
    expect(res.status).toBe(422);
    expect(res.body.error.details).toContainEqual(expect.objectContaining({ field: 'model' }));
  });

  it('a call with its own systemPrompt keeps the built-in LLM', () => {
    const agent = { llm: { provider: 'webhook', url: 'http://x' } } as Agent;
    expect(callBrain({ agent, call: { overrides: {} } as Call })).toEqual(agent.llm);
    expect(callBrain({ agent, call: { overrides: { systemPrompt: 'be brief' } } as Call })).toBeNull();
    expect(callBrain({ agent: { llm: { provider: 'openai' } } as Agent, call: { overrides: {} } as Call })).toBeNull();
  });
});

describe('private-address rule (ALLOW_PRIVATE_URLS off)', () => {
  let strict: TestApp;
  beforeAll(async () => {
    strict = await createTestApp({ env: { ALLOW_PRIVATE_URLS: 'false' } });
  });
  afterAll(async () => strict?.close());

  it.each([
    [{ provider: 'webhook', url: 'http://127.0.0.1:8080/turn' }, 'llm.url'],
    [{ provider: 'websocket', url: 'ws://10.0.0.7/ws' }, 'llm.url'],
    [{ provider: 'openai-compatible', baseUrl: 'http://169.254.169.254/v1' }, 'llm.baseUrl'],
  ])('refuses %j', async (llm, field) => {
    const res = await strict.api('POST', '/v1/agents', pipeline({ llm, model: 'm' }));
    expect(res.status).toBe(422);
    expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, message: expect.stringMatching(/private address/) }));
  });
});

describe('text agent chat through its brain', () => {
  it('webhook: one signed turn POST; SSE chunks become delta events', async () => {
    brain.onTurn = (_req, res) => {
      answer.sseStart(res);
      answer.sse(res, { text: 'Hello ' });
      answer.sse(res, { text: 'from the webhook.' });
      res.end();
    };
    const agent = (await t.api('POST', '/v1/agents', { name: 'T', architecture: 'text', systemPrompt: 'p', llm: { provider: 'webhook', url: `${brain.url}/chat`, secretEnv: 'CHAT_SECRET' } })).body;
    expect((await t.api('PUT', `/v1/agents/${agent.id}/env-vars/CHAT_SECRET`, { value: 's3cret' })).status).toBeLessThan(300);
    const before = brain.requests.length;
    const res = await chat(agent.id, { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hey' }, { role: 'user', content: 'how are you?' }], variables: { name: 'Ada' } });
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    expect(events.filter((e) => e.event === 'delta').map((e) => e.data.text)).toEqual(['Hello ', 'from the webhook.']);
    expect(events.at(-1)).toEqual({ event: 'done', data: { text: 'Hello from the webhook.', finishReason: 'stop' } });
    const sent = brain.requests.slice(before);
    expect(sent).toHaveLength(1); // one turn, no lifecycle notices for a chat
    expect(sent[0]!.json).toMatchObject({
      type: 'turn',
      agentId: agent.id,
      text: 'how are you?',
      direction: 'chat',
      variables: { name: 'Ada' },
      transcript: [
        { role: 'user', text: 'hi' },
        { role: 'agent', text: 'hey' },
        { role: 'user', text: 'how are you?' },
      ],
    });
    expect(sent[0]!.headers['x-voxgate-signature']).toBe(expectedSignature('s3cret', String(sent[0]!.headers['x-voxgate-timestamp']), sent[0]!.body));
    expect(global.requests).toHaveLength(0);
  });

  it('webhook failure: 502 provider_error naming the conversation server', async () => {
    brain.onTurn = (_req, res) => answer.json(res, { nope: true }, 503);
    const agent = (await t.api('POST', '/v1/agents', { name: 'T', architecture: 'text', systemPrompt: 'p', llm: { provider: 'webhook', url: `${brain.url}/chat` } })).body;
    const res = await chat(agent.id, { messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(502);
    const body = await res.json();
    expect(body.error.code).toBe('provider_error');
    expect(body.error.message).toMatch(/conversation_server: the webhook answered HTTP 503/);
  });

  it('websocket: one connection, call_started, the turn, response chunks as deltas, call_ended', async () => {
    brain.onSocket = (s) =>
      s.ws.on('message', (raw) => {
        const m = JSON.parse(String(raw));
        if (m.type !== 'turn') return;
        s.send({ type: 'response', turnId: m.turnId, text: 'Socket ', final: false });
        s.send({ type: 'response', turnId: m.turnId, text: 'says hi.', final: true });
      });
    const agent = (await t.api('POST', '/v1/agents', { name: 'T', architecture: 'text', systemPrompt: 'p', llm: { provider: 'websocket', url: `${brain.wsUrl}/chat` } })).body;
    const res = await chat(agent.id, { messages: [{ role: 'user', content: 'hello' }] });
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    expect(events.filter((e) => e.event === 'delta').map((e) => e.data.text)).toEqual(['Socket ', 'says hi.']);
    const s = brain.sockets.at(-1)!;
    await expect.poll(() => s.closed).toBe(true);
    expect(s.messages.map((m) => m.type)).toEqual(['call_started', 'turn', 'call_ended']);
    expect(s.messages[0]!.call).toMatchObject({ agentId: agent.id, direction: 'chat' });
    expect(s.messages[1]).toMatchObject({ text: 'hello', transcript: [{ role: 'user', text: 'hello' }] });
  });

  it('openai-compatible: the agent’s own server and key (from its env var), with its model', async () => {
    own.respond(() => ({ tokens: ['Own', ' server.'] }));
    const agent = (await t.api('POST', '/v1/agents', { name: 'T', architecture: 'text', systemPrompt: 'p', model: 'llama-3', llm: { provider: 'openai-compatible', baseUrl: own.url, apiKeyEnv: 'OWN_KEY' } })).body;
    expect((await t.api('PUT', `/v1/agents/${agent.id}/env-vars/OWN_KEY`, { value: 'sk-own-key' })).status).toBeLessThan(300);
    const globalBefore = global.requests.length;
    const res = await chat(agent.id, { messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(200);
    expect(parseSse(await res.text()).at(-1)).toEqual({ event: 'done', data: { text: 'Own server.', finishReason: 'stop' } });
    expect(own.requests.at(-1)!.headers.authorization).toBe('Bearer sk-own-key');
    expect(own.requests.at(-1)!.body.model).toBe('llama-3');
    expect(global.requests.length).toBe(globalBefore);
  });
});
