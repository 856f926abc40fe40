import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';

let llm: FakeOpenAiChat;
let t: TestApp;

function parseSse(text: string): Array<{ event: string; data: any }> {
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null');
      return { event, data };
    });
}

beforeAll(async () => {
  llm = await startFakeOpenAiChat({ apiKey: 'sk-test' });
  t = await createTestApp({ env: { OPENAI_BASE_URL: llm.url, OPENAI_API_KEY: 'sk-test' } });
});
afterAll(async () => {
  await t.close();
  await llm.close();
});

const chat = (id: string, body: unknown) =>
  fetch(`${t.baseUrl}/v1/agents/${id}/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('text agent chat', () => {
  it('streams delta events and a final done event, with {{var}} filled', async () => {
    llm.respond(() => ({ tokens: ['Hello', ' Ada', '.'] }));
    const agent = (
      await t.api('POST', '/v1/agents', {
        name: 'T', architecture: 'text', model: 'gpt-test', systemPrompt: 'You help {{name}} at {{company}}. {{unknown}}',
        variables: { name: 'default', company: 'Acme' },
      })
    ).body;
    const res = await chat(agent.id, { messages: [{ role: 'user', content: 'hi' }], variables: { name: 'Ada' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await res.text());
    expect(events.filter((e) => e.event === 'delta').map((e) => e.data.text)).toEqual(['Hello', ' Ada', '.']);
    expect(events.at(-1)).toEqual({ event: 'done', data: { text: 'Hello Ada.', finishReason: 'stop' } });
    const sent = llm.requests.at(-1)!.body;
    expect(sent.model).toBe('gpt-test');
    expect(sent.messages[0]).toMatchObject({ role: 'system', content: 'You help Ada at Acme. {{unknown}}' });
    expect(sent.messages[1]).toMatchObject({ role: 'user', content: 'hi' });
  });

  it('adds the best knowledge passage to the system prompt', async () => {
    llm.respond(() => ({ tokens: ['ok'] }));
    const doc = (await t.api('POST', '/v1/knowledge/text', { name: 'refunds', text: 'Refunds take 14 days to arrive.' })).body.id;
    const agent = (await t.api('POST', '/v1/agents', { name: 'T', architecture: 'text', model: 'm', systemPrompt: 'p', knowledgeIds: [doc] })).body;
    await (await chat(agent.id, { messages: [{ role: 'user', content: 'how long for a refund?' }] })).text();
    expect(llm.requests.at(-1)!.body.messages[0]!.content).toContain('Refunds take 14 days');
  });

  it('a voice agent cannot chat (422)', async () => {
    const agent = (await t.api('POST', '/v1/agents', { name: 'R', architecture: 'realtime', systemPrompt: 'p', realtimeProvider: 'openai' })).body;
    const res = await chat(agent.id, { messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(422);
  });

  it('a provider refusal before the first token is 502 provider_error', async () => {
    llm.respond(() => ({ status: 500, errorMessage: 'boom' }));
    const agent = (await t.api('POST', '/v1/agents', { name: 'T', architecture: 'text', model: 'm', systemPrompt: 'p' })).body;
    const res = await chat(agent.id, { messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(502);
    expect((await res.json()).error.code).toBe('provider_error');
  });

  it('an empty message list is 422', async () => {
    const agent = (await t.api('POST', '/v1/agents', { name: 'T', architecture: 'text', model: 'm', systemPrompt: 'p' })).body;
    expect((await chat(agent.id, { messages: [] })).status).toBe(422);
  });
});
