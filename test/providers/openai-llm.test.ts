import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLlmClient } from '../../src/providers/llm/index.js';
import type { LlmEvent } from '../../src/providers/llm/types.js';
import { ProviderError } from '../../src/errors.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';

let fake: FakeOpenAiChat;
beforeEach(async () => {
  fake = await startFakeOpenAiChat({ apiKey: 'sk-test' });
});
afterEach(async () => {
  await fake.close();
});

async function collect(it: AsyncIterable<LlmEvent>): Promise<LlmEvent[]> {
  const out: LlmEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('OpenAI chat client against the fake', () => {
  it('streams text deltas then done', async () => {
    fake.respond(() => ({ tokens: ['Your booking', ' is Tuesday.'] }));
    const llm = createLlmClient({ baseUrl: fake.url, apiKey: 'sk-test' });
    const events = await collect(
      llm.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], signal: new AbortController().signal }),
    );
    expect(events).toEqual([
      { type: 'delta', text: 'Your booking' },
      { type: 'delta', text: ' is Tuesday.' },
      { type: 'done', finishReason: 'stop' },
    ]);
    expect(fake.requests[0]!.body.stream).toBe(true);
  });

  it('assembles tool-call argument deltas per index and sends tools + tool messages', async () => {
    fake.respond(() => ({
      toolCalls: [
        { id: 'call_abc', name: 'lookup_booking', arguments: '{"phone":"+14155550100"}' },
        { id: 'call_def', name: 'get_time', arguments: '{}' },
      ],
    }));
    const llm = createLlmClient({ baseUrl: fake.url, apiKey: 'sk-test' });
    const events = await collect(
      llm.stream({
        model: 'm',
        messages: [
          { role: 'system', content: 's' },
          { role: 'assistant', content: null, toolCalls: [{ id: 'c0', name: 'x', arguments: '{}' }] },
          { role: 'tool', toolCallId: 'c0', content: '{"ok":true}' },
        ],
        tools: [{ name: 'lookup_booking', description: 'Find', parameters: { type: 'object', properties: {} } }],
        signal: new AbortController().signal,
      }),
    );
    expect(events).toEqual([
      {
        type: 'tool_calls',
        calls: [
          { id: 'call_abc', name: 'lookup_booking', arguments: '{"phone":"+14155550100"}' },
          { id: 'call_def', name: 'get_time', arguments: '{}' },
        ],
      },
      { type: 'done', finishReason: 'tool_calls' },
    ]);
    const body = fake.requests[0]!.body;
    expect(body.tools?.[0]?.function.name).toBe('lookup_booking');
    expect(body.messages[1]).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'c0', type: 'function' }] });
    expect(body.messages[2]).toEqual({ role: 'tool', tool_call_id: 'c0', content: '{"ok":true}' });
  });

  it('ends the iteration quietly on abort and the server sees the disconnect', async () => {
    fake.respond(() => ({ tokens: ['one ', 'two '], hang: true }));
    const llm = createLlmClient({ baseUrl: fake.url, apiKey: 'sk-test' });
    const ac = new AbortController();
    const seen: string[] = [];
    for await (const e of llm.stream({ model: 'm', messages: [{ role: 'user', content: 'x' }], signal: ac.signal })) {
      if (e.type === 'delta') seen.push(e.text);
      if (seen.length === 2) ac.abort();
    }
    expect(seen).toEqual(['one ', 'two ']);
    await expect.poll(() => fake.requests[0]!.aborted).toBe(true);
  });

  it('maps HTTP errors to ProviderError with retryable from the status', async () => {
    const llm = createLlmClient({ baseUrl: fake.url, apiKey: 'sk-test' });
    fake.respond(() => ({ status: 503 }));
    const err = await collect(llm.stream({ model: 'm', messages: [], signal: new AbortController().signal })).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ status: 503, retryable: true });
    const bad = createLlmClient({ baseUrl: fake.url, apiKey: 'wrong' });
    const err2 = await bad.complete({ model: 'm', messages: [], signal: new AbortController().signal }).catch((e) => e);
    expect(err2).toMatchObject({ status: 401, retryable: false });
  });

  it('complete() sends json_schema response_format and returns the scripted JSON', async () => {
    fake.respond(() => ({ json: { outcome: 'booked' } }));
    const llm = createLlmClient({ baseUrl: fake.url, apiKey: 'sk-test' });
    const text = await llm.complete({
      model: 'm',
      messages: [{ role: 'user', content: 'summarise' }],
      jsonSchema: { name: 'summary', schema: { type: 'object', properties: { outcome: { type: 'string' } } } },
      signal: new AbortController().signal,
    });
    expect(JSON.parse(text)).toEqual({ outcome: 'booked' });
    expect(fake.requests[0]!.body.response_format).toEqual({
      type: 'json_schema',
      // Not strict: the real API answers 400 to `strict: true` with an open object schema.
      json_schema: { name: 'summary', schema: { type: 'object', properties: { outcome: { type: 'string' } } }, strict: false },
    });
  });
});
