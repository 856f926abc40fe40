/**
 * The chat client's stall limits (providers/llm/stall.ts) on the wire: what moves the clock and
 * what does not, against the chat fake (directly and behind the HTTP fault proxy).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLlmClient, LlmStallError } from '../../src/providers/llm/index.js';
import type { LlmEvent } from '../../src/providers/llm/types.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startHttpFaultProxy, type HttpFaultProxy } from './http-fault-proxy.js';

let fake: FakeOpenAiChat;
let proxy: HttpFaultProxy;
beforeEach(async () => {
  fake = await startFakeOpenAiChat({ apiKey: 'sk-test' });
  proxy = await startHttpFaultProxy(fake.url);
});
afterEach(async () => {
  await Promise.all([fake.close(), proxy.close()]);
});

const limits = { firstTokenMs: 300, chunkMs: 300 };
async function run(signal = new AbortController().signal): Promise<{ events: LlmEvent[]; error: unknown }> {
  const llm = createLlmClient({ baseUrl: proxy.url, apiKey: 'sk-test' });
  const events: LlmEvent[] = [];
  try {
    for await (const e of llm.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], signal, stallLimits: limits })) events.push(e);
    return { events, error: null };
  } catch (error) {
    return { events, error };
  }
}

describe('chat stream stall limits', () => {
  it('a role-only first chunk is not a first token: headers plus role, then silence, is a first-token stall', async () => {
    fake.respond(() => ({ tokens: ['Hi.'] }));
    proxy.fault(() => ({ kind: 'stall_after_events', events: 1 }));
    const { events, error } = await run();
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(LlmStallError);
    expect(error).toMatchObject({ phase: 'first_token', afterMs: 300, retryable: true, provider: 'openai' });
    await expect.poll(() => proxy.requests[0]!.clientClosedAt).toBeDefined(); // the request is given up, not left open
  });

  it('a gap between tokens longer than the chunk limit is a between-chunk stall, after the tokens that came', async () => {
    fake.respond(() => ({ tokens: ['One. ', { text: 'Two.', delayMs: 2000 }] }));
    const { events, error } = await run();
    expect(events).toEqual([{ type: 'delta', text: 'One. ' }]);
    expect(error).toMatchObject({ phase: 'between_chunks', afterMs: 300 });
  });

  it('tool-call argument fragments keep the clock alive: a long call that streams steadily is no stall', async () => {
    // 15 fragments 100 ms apart: 1.5 s in all, never 300 ms without one.
    fake.respond(() => ({ toolCalls: [{ id: 'call_1', name: 'lookup', arguments: JSON.stringify({ q: 'x'.repeat(100) }) }], tokenDelayMs: 100 }));
    const { events, error } = await run();
    expect(error).toBeNull();
    expect(events.map((e) => e.type)).toEqual(['tool_calls', 'done']);
  });

  it('the caller aborting is not a stall: the stream just ends', async () => {
    fake.respond(() => ({ tokens: ['One. '], hang: true }));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const { events, error } = await run(ac.signal);
    expect(error).toBeNull();
    expect(events).toEqual([{ type: 'delta', text: 'One. ' }]);
  });
});
