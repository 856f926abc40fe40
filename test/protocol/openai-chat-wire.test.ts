/**
 * What the real Chat Completions API refuses, checked against the gateway's client
 * (PROTOCOLS.md §6; docs/protocols-audit.md): strict Structured Outputs only for schemas the API
 * accepts as strict, tool results that answer the assistant message asking for them, and the
 * usage chunk only when asked for.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLlmClient } from '../../src/providers/llm/index.js';
import { isStrictCompatible } from '../../src/providers/llm/openai.js';
import { startFakeOpenAiChat, validateRequest, type FakeOpenAiChat } from '../fakes/openai-chat.js';

describe('OpenAI chat wire protocol', () => {
  let fake: FakeOpenAiChat;
  beforeEach(async () => {
    fake = await startFakeOpenAiChat();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('sends strict: true only for schemas Structured Outputs accepts as strict', async () => {
    const open = { type: 'object', properties: { outcome: { type: 'string' } }, required: ['outcome'] };
    const closed = { ...open, additionalProperties: false };
    const nestedOpen = { ...closed, properties: { outcome: { type: 'object', properties: { a: { type: 'string' } } } } };
    expect(isStrictCompatible(open)).toBe(false);
    expect(isStrictCompatible(closed)).toBe(true);
    expect(isStrictCompatible(nestedOpen)).toBe(false);
    expect(isStrictCompatible({ ...closed, properties: { a: { type: 'string' }, b: { type: 'number' } }, required: ['a'] })).toBe(false);

    fake.respond(() => ({ json: { outcome: 'booked' } }));
    const llm = createLlmClient({ baseUrl: fake.url, apiKey: 'sk-test' });
    for (const schema of [open, closed]) {
      const text = await llm.complete({ model: 'm', messages: [{ role: 'user', content: 'x' }], jsonSchema: { name: 'call_result', schema }, signal: new AbortController().signal });
      expect(JSON.parse(text)).toEqual({ outcome: 'booked' });
    }
    expect(fake.requests.map((r) => r.body.response_format?.json_schema?.strict)).toEqual([false, true]);
  });

  it('the fake refuses what the real API refuses: strict open schemas, unanswered or orphan tool results', () => {
    const body = (messages: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) => ({ model: 'm', messages, ...extra });
    const call = { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } };
    expect(validateRequest(body([{ role: 'tool', tool_call_id: 'call_1', content: 'x' }]))?.message).toMatch(/must be a response to a preceeding message/);
    expect(validateRequest(body([{ role: 'assistant', content: null, tool_calls: [call] }, { role: 'user', content: 'hi' }]))?.message).toMatch(/did not have response messages: call_1/);
    expect(validateRequest(body([{ role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: 'call_1', content: 'ok' }, { role: 'user', content: 'hi' }]))).toBeNull();
    expect(
      validateRequest(body([{ role: 'user', content: 'x' }], { response_format: { type: 'json_schema', json_schema: { name: 'r', strict: true, schema: { type: 'object', properties: {} } } } }))?.message,
    ).toMatch(/additionalProperties/);
  });

  it('a tool round trip the gateway sends is accepted: assistant tool_calls then one tool message per call', async () => {
    fake.respond((_r, i) => (i === 0 ? { toolCalls: [{ id: 'call_a', name: 'a', arguments: '{"x":1}' }, { id: 'call_b', name: 'b', arguments: '{}' }] } : { tokens: ['Done.'] }));
    const llm = createLlmClient({ baseUrl: fake.url, apiKey: 'sk-test' });
    const signal = new AbortController().signal;
    const events: unknown[] = [];
    for await (const e of llm.stream({ model: 'm', messages: [{ role: 'user', content: 'go' }], tools: [{ name: 'a', description: 'a', parameters: { type: 'object' } }], signal })) events.push(e);
    const calls = (events.find((e) => (e as { type: string }).type === 'tool_calls') as { calls: Array<{ id: string; name: string; arguments: string }> }).calls;
    expect(calls).toEqual([{ id: 'call_a', name: 'a', arguments: '{"x":1}' }, { id: 'call_b', name: 'b', arguments: '{}' }]);
    const out: unknown[] = [];
    for await (const e of llm.stream({
      model: 'm',
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: null, toolCalls: calls },
        { role: 'tool', toolCallId: 'call_a', content: '{"ok":true}' },
        { role: 'tool', toolCallId: 'call_b', content: '{"ok":true}' },
      ],
      signal,
    }))
      out.push(e);
    expect(out).toContainEqual({ type: 'delta', text: 'Done.' });
    const sent = fake.requests[1]!.body.messages;
    expect(sent[1]).toEqual({ role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'a', arguments: '{"x":1}' } }, { id: 'call_b', type: 'function', function: { name: 'b', arguments: '{}' } }] });
    expect(sent[2]).toEqual({ role: 'tool', tool_call_id: 'call_a', content: '{"ok":true}' });
    // No stream_options.include_usage was asked for, so no `choices: []` usage chunk is expected.
    expect(fake.requests[1]!.body['stream_options']).toBeUndefined();
  });
});
