/**
 * Issue 15: the closing apology is heard to the end. Caller speech over it (the caller says
 * "hello?" into the silence that came before) must not cut it and end the call at once; the call
 * ends as designed, once the apology has played. Pipeline call on the fakes, level VAD.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { bootEngine, makeHost, say } from '../engine/pipeline-host.js';

const poll = <T>(fn: () => T) => expect.poll(fn, { timeout: 10_000, interval: 20 });

let dg: FakeDeepgram;
let chat: FakeOpenAiChat;
let el: FakeElevenLabs;
let engine: Engine | undefined;

beforeEach(async () => {
  [dg, chat, el] = await Promise.all([startFakeDeepgram({ transcripts: ['hello', 'hello are you there'] }), startFakeOpenAiChat(), startFakeElevenLabs({ msPerChar: 5 })]);
});
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await Promise.all([dg.close(), chat.close(), el.close()]);
});

describe('the pipeline apology', () => {
  it('caller speech over the closing apology does not cut it; the call ends once it has played', async () => {
    chat.respond(() => ({ status: 401 }));
    const h = makeHost(
      { DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_URL: dg.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: chat.url, ELEVENLABS_API_KEY: 'el-test', ELEVENLABS_BASE_URL: el.url },
      { firstMessage: null },
    );
    engine = await bootEngine(h);
    await say(engine, 400, 500);
    await poll(() => h.playback.finished.size).toBe(1);
    h.playback.play(300);
    const clears = h.playback.cleared.length; // fail() clears what was playing before the apology
    // Well past minInterruptionMs (400 ms in the test agent): a barge-in on any other utterance.
    await say(engine, 800, 500);
    expect(h.playback.cleared).toHaveLength(clears);
    expect(h.ended).toEqual([]);
    h.playback.play();
    await poll(() => h.ended).toEqual(['error:openai']);
    const agent = h.transcripts.filter((t) => t.role === 'agent');
    expect(agent.at(-1)).toMatchObject({ text: expect.stringContaining('technical difficulties') });
    expect(agent.at(-1)?.interrupted).toBeUndefined();
  });
});
