/**
 * Barge-in rules (src/engine/barge-in.ts) and recovery paths against the Deepgram, chat and
 * ElevenLabs fakes: real words interrupt at minInterruptionMs, backchannel words do not even
 * when long, wordless speech interrupts later and resumes the agent when it carried no words,
 * a dropped STT socket comes back, knowledge reaches the LLM, and nothing stays open after close.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { bootEngine, makeHost, say, type HostOptions, type TestHost } from './pipeline-host.js';
import { isBackchannel } from '../../src/engine/barge-in.js';
import type { Agent } from '../../src/store/types.js';

const poll = <T>(fn: () => T) => expect.poll(fn, { timeout: 10_000, interval: 20 });

let dg: FakeDeepgram;
let chat: FakeOpenAiChat;
let el: FakeElevenLabs;
let engine: Engine | undefined;

beforeEach(async () => {
  [dg, chat, el] = await Promise.all([startFakeDeepgram({ transcripts: [] }), startFakeOpenAiChat(), startFakeElevenLabs({ msPerChar: 5 })]);
});
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await Promise.all([dg.close(), chat.close(), el.close()]);
});

function host(agent: Partial<Agent> = {}, opts: HostOptions = {}): TestHost {
  const env = { DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_URL: dg.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: chat.url, ELEVENLABS_API_KEY: 'el-test', ELEVENLABS_BASE_URL: el.url };
  // Default minInterruptionMs (150) unless a test sets it.
  return makeHost(env, { firstMessage: null, turnDetection: { silenceMs: 400 }, ...agent }, opts);
}

/** Boots, asks a first question and waits until the (long) answer is queued and partly heard. */
async function agentSpeaking(h: TestHost, answer = 'One two three four five six. Seven eight nine ten.'): Promise<Engine> {
  chat.respond(() => ({ tokens: [answer] }));
  engine = await bootEngine(h);
  await say(engine, 400, 500);
  await poll(() => h.playback.finished.size).toBe(1);
  h.playback.play(14 * 5); // "One two three " heard
  return engine;
}

describe('barge-in with words, backchannels and false interruptions', () => {
  it('knows backchannels from turns', () => {
    for (const t of ['uh huh', 'Uh-huh.', 'mm-hmm', 'yeah', 'Okay, right.', 'yeah yeah']) expect(isBackchannel(t), t).toBe(true);
    for (const t of ['', 'wait', 'yeah but no', 'okay stop', 'what about Sunday']) expect(isBackchannel(t), t).toBe(false);
  });

  it('real words interrupt once minInterruptionMs of speech is confirmed', async () => {
    dg.options.transcripts = ['tell me', 'wait stop'];
    const h = host();
    const e = await agentSpeaking(h);
    await say(e, 300, 0); // 300 ms ≥ 150 ms, and the interim already says "wait"
    expect(h.playback.cleared).toHaveLength(1);
    await poll(() => h.transcripts.find((t) => t.role === 'agent')).toMatchObject({ text: 'One two three', interrupted: true });
  });

  it('a long backchannel ("uh huh" for 700 ms) does not interrupt, does not start a reply, and the agent finishes', async () => {
    dg.options.transcripts = ['tell me', 'uh huh'];
    const h = host();
    const e = await agentSpeaking(h);
    await say(e, 700, 600);
    await poll(() => h.transcripts.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(['tell me', 'uh huh']);
    expect(h.playback.cleared).toHaveLength(0);
    expect(chat.requests).toHaveLength(1);
    h.playback.play();
    await poll(() => h.transcripts.find((t) => t.role === 'agent')).toMatchObject({ text: 'One two three four five six. Seven eight nine ten.' });
    expect(h.transcripts.find((t) => t.role === 'agent')?.interrupted).toBeUndefined();
  });

  it('wordless speech interrupts only after the extra guard, and resumes the agent where it was cut when no words come', async () => {
    dg.options.transcripts = ['tell me', ''];
    const h = host();
    const e = await agentSpeaking(h);
    await say(e, 400, 0); // 400 ms < 450 ms without words: no interruption yet
    expect(h.playback.cleared).toHaveLength(0);
    await say(e, 200, 600);
    expect(h.playback.cleared).toHaveLength(1);
    await poll(() => h.notes).toContain('false interruption: resumed the agent');
    await poll(() => el.ws.some((c) => c.text.startsWith('four five six.'))).toBe(true);
    expect(chat.requests).toHaveLength(1); // resumed from the text, no new LLM turn
    await poll(() => h.playback.finished.size).toBe(2);
    h.playback.play();
    await poll(() => h.transcripts.filter((t) => t.role === 'agent').map((t) => [t.text, t.interrupted ?? false])).toEqual([
      ['One two three', true],
      ['four five six. Seven eight nine ten.', false],
    ]);
  });

  it('an interruption that turns out to be "uh huh" also resumes the agent', async () => {
    dg.options.transcripts = ['tell me', 'okay'];
    const h = host({ turnDetection: { silenceMs: 400, minInterruptionMs: 100 } });
    const e = await agentSpeaking(h);
    // "okay" is a backchannel: held until MAX_BACKCHANNEL_MS (1 s) of speech, then it interrupts.
    await say(e, 1100, 600);
    expect(h.playback.cleared).toHaveLength(1);
    await poll(() => h.notes).toContain('false interruption: resumed the agent');
    expect(chat.requests).toHaveLength(1);
  });
});

describe('pipeline resilience', () => {
  it('a Deepgram socket dropped mid-call reconnects, is noted, and the next question is answered', async () => {
    dg.options.transcripts = ['first question', 'second question'];
    chat.respond(() => ({ tokens: ['Sure.'] }));
    const h = host();
    engine = await bootEngine(h);
    await say(engine, 400, 500);
    await poll(() => h.playback.finished.size).toBe(1);
    h.playback.play();
    dg.dropAll();
    await poll(() => h.notes).toContain('deepgram: socket dropped and reconnected');
    expect(dg.connections).toHaveLength(2);
    await say(engine, 400, 500);
    await poll(() => chat.requests.length).toBe(2);
    expect(chat.requests[1]!.body.messages.at(-1)).toEqual({ role: 'user', content: 'second question' });
    expect(h.ended).toEqual([]);
  });

  it('a Deepgram that stays down ends the call with error:deepgram and a note, after an apology', async () => {
    const h = host();
    engine = await bootEngine(h);
    dg.options.refuseStatus = 503;
    dg.dropAll();
    await poll(() => el.ws.some((c) => c.text.includes('technical difficulties'))).toBe(true);
    await poll(() => h.playback.finished.size).toBe(1);
    h.playback.play();
    await poll(() => h.ended).toEqual(['error:deepgram']);
    expect(h.notes.some((n) => n.startsWith('deepgram: stream closed'))).toBe(true);
  });

  it('knowledge passages reach the LLM request as a system message before the question', async () => {
    dg.options.transcripts = ['when do you open'];
    chat.respond(() => ({ tokens: ['At nine.'] }));
    const searches: string[] = [];
    const knowledge = {
      search: async (ids: string[], query: string) => {
        searches.push(`${ids.join(',')}:${query}`);
        return [{ docId: 'kd_1', docName: 'Hours', text: 'The shop opens at 9am on weekdays.', score: 1 }];
      },
    };
    const h = host({ knowledgeIds: ['kd_1'] }, { knowledge: knowledge as never });
    engine = await bootEngine(h);
    await say(engine, 400, 500);
    await poll(() => chat.requests.length).toBe(1);
    expect(searches).toEqual(['kd_1:when do you open']);
    expect(chat.requests[0]!.body.messages.slice(-2)).toEqual([
      { role: 'system', content: 'Relevant knowledge:\n[1] (Hours) The shop opens at 9am on weekdays.' },
      { role: 'user', content: 'when do you open' },
    ]);
  });

  it('leaves no provider socket or request open after the call closes mid-reply', async () => {
    dg.options.transcripts = ['tell me'];
    chat.respond(() => ({ tokens: ['Hello there. '], hang: true }));
    const h = host();
    engine = await bootEngine(h);
    await say(engine, 400, 500);
    await poll(() => el.ws.length).toBeGreaterThan(0);
    await engine.close();
    engine = undefined;
    await poll(() => dg.connections.every((c) => c.closed)).toBe(true);
    await poll(() => el.ws.every((c) => c.closed)).toBe(true);
    await poll(() => chat.requests.every((r) => r.aborted || r.completed)).toBe(true);
    expect(chat.requests[0]!.aborted).toBe(true);
  });
});
