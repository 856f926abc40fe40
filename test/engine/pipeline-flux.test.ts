/**
 * The pipeline engine with `stt: "deepgram-flux"`: Flux decides the turn. A speculative reply
 * starts on EagerEndOfTurn and is heard only once EndOfTurn commits it (one LLM request); a
 * TurnResumed drops it and the turn's real end starts the reply afresh. Real SDKs against the
 * Flux, chat and ElevenLabs fakes; the level VAD (still there for barge-in) on tone audio.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.js';
import { startFakeFlux, type FakeFlux } from '../fakes/deepgram-flux.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { bootEngine, makeHost, say, type TestHost } from './pipeline-host.js';

const poll = <T>(fn: () => T) => expect.poll(fn, { timeout: 10_000, interval: 20 });

let flux: FakeFlux;
let chat: FakeOpenAiChat;
let el: FakeElevenLabs;
let engine: Engine | undefined;

beforeEach(async () => {
  // EndOfTurn well after EagerEndOfTurn, so the test sees the speculative reply held in between.
  [flux, chat, el] = await Promise.all([startFakeFlux({ transcripts: ['When do you open?'], eagerSilenceMs: 100, endSilenceMs: 600 }), startFakeOpenAiChat(), startFakeElevenLabs({ msPerChar: 5 })]);
  chat.respond(() => ({ tokens: ['We open at ten.'] }));
});
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await Promise.all([flux.close(), chat.close(), el.close()]);
});

function host(): TestHost {
  const env = { DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_URL: flux.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: chat.url, ELEVENLABS_API_KEY: 'el-test', ELEVENLABS_BASE_URL: el.url };
  return makeHost(env, { firstMessage: null, stt: 'deepgram-flux', turnDetection: { silenceMs: 800 } });
}

describe('pipeline with Deepgram Flux turn-taking', () => {
  it('speculates on EagerEndOfTurn, plays the reply only at EndOfTurn, with one LLM request', async () => {
    const h = host();
    engine = await bootEngine(h);
    expect(flux.connections[0]!.query).toMatchObject({ model: 'flux-general-en', encoding: 'mulaw', sample_rate: '8000', eot_timeout_ms: '800' });
    await say(engine, 1000, 300); // past the eager point (100 ms), short of the end (600 ms)
    await poll(() => chat.requests.length).toBe(1);
    expect(chat.requests[0]!.body.messages.at(-1)).toEqual({ role: 'user', content: 'When do you open?' });
    await poll(() => el.ws.some((c) => c.text.includes('We open at ten.'))).toBe(true);
    expect(h.playback.audio.size).toBe(0); // held: the turn is not over
    expect(h.transcripts).toEqual([]);
    await say(engine, 0, 400);
    await poll(() => h.playback.audio.size).toBe(1);
    expect(chat.requests).toHaveLength(1);
    expect(h.transcripts.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(['When do you open?']);
  });

  it('drops the speculative reply on TurnResumed and answers the whole turn at its end', async () => {
    flux.options.transcripts = ['I want to book a table.'];
    const h = host();
    engine = await bootEngine(h);
    await say(engine, 1000, 300);
    await poll(() => chat.requests.length).toBe(1);
    await say(engine, 500, 800); // the caller goes on: TurnResumed, then the turn really ends
    await poll(() => h.playback.audio.size).toBe(1);
    expect(chat.requests).toHaveLength(2); // the speculative reply was dropped, never heard
    expect([...h.playback.audio.keys()]).toEqual(['u2']);
    expect(h.transcripts.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(['I want to book a table.']);
  });
});
