/**
 * The adaptive end of turn in the engine (turn-taking.ts) against the Deepgram, chat and
 * ElevenLabs fakes: a complete-sounding question is finalized and speculated at the short pause,
 * before its final arrives, and the speculated reply is what plays once the final commits it; an
 * unfinished turn asks for its final only when silenceMs of (VAD-clock) silence has passed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { bootEngine, makeHost, say, type TestHost } from './pipeline-host.js';

const poll = <T>(fn: () => T) => expect.poll(fn, { timeout: 10_000, interval: 20 });

let dg: FakeDeepgram;
let chat: FakeOpenAiChat;
let el: FakeElevenLabs;
let engine: Engine | undefined;

beforeEach(async () => {
  // A slow final (1 s): what happens before it is the speculation.
  [dg, chat, el] = await Promise.all([startFakeDeepgram({ transcripts: [], finalDelayMs: 1000 }), startFakeOpenAiChat(), startFakeElevenLabs({ msPerChar: 5 })]);
  chat.respond(() => ({ tokens: ['We open at ten.'] }));
});
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await Promise.all([dg.close(), chat.close(), el.close()]);
});

function host(): TestHost {
  const env = { DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_URL: dg.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: chat.url, ELEVENLABS_API_KEY: 'el-test', ELEVENLABS_BASE_URL: el.url };
  // Deepgram's own endpointing (300) never fires inside the short silences below.
  return makeHost(env, { firstMessage: null, turnDetection: { silenceMs: 400 } });
}

describe('adaptive end of turn', () => {
  it('a complete question: Finalize and the reply at the short pause, heard once the final confirms it', async () => {
    dg.options.fallbackTranscript = 'When do you open?';
    const h = host();
    engine = await bootEngine(h);
    await say(engine, 1100, 160); // the interim is the whole question by now; 160 ms ≥ the 100 ms pause
    await poll(() => dg.connections[0]!.controls).toContain('Finalize');
    await poll(() => chat.requests.length).toBe(1);
    expect(chat.requests[0]!.body.messages.at(-1)).toEqual({ role: 'user', content: 'When do you open?' });
    expect(h.transcripts).toEqual([]); // the final has not come: nothing committed, nothing heard
    expect(h.playback.audio.size).toBe(0);
    await poll(() => h.playback.audio.size).toBe(1);
    expect(chat.requests).toHaveLength(1);
    expect(h.transcripts.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(['When do you open?']);
  });

  it('an unfinished turn: no Finalize and no reply until silenceMs has passed on the VAD clock', async () => {
    dg.options.fallbackTranscript = 'I would like to book';
    const h = host();
    engine = await bootEngine(h);
    await say(engine, 1100, 280); // a pause, but 280 ms < silenceMs 400 (and < Deepgram's 300 ms endpointing)
    expect(dg.connections[0]!.controls).not.toContain('Finalize');
    expect(chat.requests).toHaveLength(0);
    await say(engine, 0, 120);
    await poll(() => dg.connections[0]!.controls).toContain('Finalize');
    await poll(() => h.transcripts.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(['I would like to book']);
    await poll(() => chat.requests.length).toBe(1);
  });
});
