/**
 * Issue 15, provider faults: an LLM that stalls (after its headers, between chunks, or never
 * answers at all) behind the HTTP fault proxy, in front of the chat fake, on a pipeline call
 * (Deepgram and ElevenLabs fakes, level VAD on tone audio). The caller hears a short phrase
 * within the limit, one retry runs when nothing was said yet, and the call goes on.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.js';
import { HOLD_PHRASE, STALL_APOLOGY } from '../../src/engine/pipeline-reply.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { bootEngine, makeHost, say, type TestHost } from '../engine/pipeline-host.js';
import { startHttpFaultProxy, type HttpFaultProxy } from './http-fault-proxy.js';

/** Generous: the machine running the suite is shared and loaded. */
const poll = <T>(fn: () => T) => expect.poll(fn, { timeout: 10_000, interval: 20 });
/** Short limits keep the test quick; the behaviour does not depend on their size. */
const LIMIT_MS = 400;

let dg: FakeDeepgram;
let chat: FakeOpenAiChat;
let el: FakeElevenLabs;
let proxy: HttpFaultProxy;
let engine: Engine | undefined;

beforeEach(async () => {
  [dg, chat, el] = await Promise.all([startFakeDeepgram({ transcripts: [] }), startFakeOpenAiChat(), startFakeElevenLabs({ msPerChar: 5 })]);
  proxy = await startHttpFaultProxy(chat.url);
});
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await Promise.all([dg.close(), chat.close(), el.close(), proxy.close()]);
});

function host(): TestHost {
  return makeHost(
    {
      DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_URL: dg.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: proxy.url,
      ELEVENLABS_API_KEY: 'el-test', ELEVENLABS_BASE_URL: el.url,
      LLM_FIRST_TOKEN_TIMEOUT_MS: String(LIMIT_MS), LLM_CHUNK_TIMEOUT_MS: String(LIMIT_MS),
    },
    { firstMessage: null },
  );
}

const spoken = () => el.ws.map((c) => c.text).join('');
const agentLines = (h: TestHost) => h.transcripts.filter((t) => t.role === 'agent').map((t) => t.text);

describe('LLM stalls on a pipeline call', () => {
  it('headers then nothing: the caller hears the hold phrase, the one retry answers, the call goes on', async () => {
    dg.options.transcripts = ['what are your hours', 'thanks'];
    chat.respond(() => ({ tokens: ['We open at nine.'] }));
    // The first request's stream sends its role chunk (no token) and then stalls.
    proxy.fault((i) => (i === 0 ? { kind: 'stall_after_events', events: 1 } : { kind: 'pass' }));
    const h = host();
    engine = await bootEngine(h);
    await say(engine, 400, 500);
    await poll(() => spoken()).toContain(HOLD_PHRASE);
    await poll(() => spoken()).toContain('We open at nyne.');
    await poll(() => h.playback.finished.size).toBe(1);
    h.playback.play();
    await poll(() => agentLines(h)).toEqual([`${HOLD_PHRASE} We open at nine.`]);
    expect(proxy.requests).toHaveLength(2);
    expect(proxy.requests[0]!.clientClosedAt).toBeDefined(); // the stalled request was given up
    expect(h.notes.some((n) => /no first token within 400 ms; retried once/.test(n))).toBe(true);
    // The call goes on: the next turn is answered normally.
    await say(engine, 400, 500);
    await poll(() => h.transcripts.filter((t) => t.role === 'user').length).toBe(2);
    await poll(() => proxy.requests.length).toBe(3);
    expect(h.ended).toEqual([]);
  });

  it('an LLM that never answers costs two limits, not 60 s: hold phrase, then the apology, and the call goes on', async () => {
    dg.options.transcripts = ['hello'];
    proxy.fault(() => ({ kind: 'no_answer' }));
    const h = host();
    engine = await bootEngine(h);
    await say(engine, 400, 500);
    await poll(() => spoken()).toContain(STALL_APOLOGY.replace(/\?$/, ''));
    expect(spoken()).toContain(HOLD_PHRASE);
    expect(proxy.requests).toHaveLength(2); // exactly one retry
    await poll(() => h.playback.finished.size).toBe(1);
    h.playback.play();
    await poll(() => agentLines(h)).toEqual([`${HOLD_PHRASE} ${STALL_APOLOGY}`]);
    expect(h.notes.some((n) => n.includes('apologised, the call goes on'))).toBe(true);
    expect(h.ended).toEqual([]);
    const errors = await h.metrics.providerErrors.get();
    expect(errors.values.find((v) => v.labels.kind === 'stall')?.value).toBe(2);
  });

  it('a stall mid-reply: what was said stands, the apology follows, no retry, the call goes on', async () => {
    dg.options.transcripts = ['tell me about it'];
    chat.respond(() => ({ tokens: ['We open at nine. ', 'We close ', 'at five.'] }));
    // Role chunk + two tokens, then the body stops.
    proxy.fault(() => ({ kind: 'stall_after_events', events: 3 }));
    const h = host();
    engine = await bootEngine(h);
    await say(engine, 400, 500);
    await poll(() => spoken()).toContain(STALL_APOLOGY.replace(/\?$/, ''));
    await poll(() => h.playback.finished.size).toBe(1);
    h.playback.play();
    await poll(() => agentLines(h)).toEqual([`We open at nine. We close ${STALL_APOLOGY}`]);
    expect(proxy.requests).toHaveLength(1);
    expect(h.notes.some((n) => /stalled for 400 ms mid-reply; apologised/.test(n))).toBe(true);
    expect(h.ended).toEqual([]);
  });
});
