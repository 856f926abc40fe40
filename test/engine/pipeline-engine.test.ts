/**
 * The pipeline engine against the protocol fakes (Deepgram, OpenAI chat, ElevenLabs) with a
 * recording EngineHost whose playback marks the test controls. Caller audio is a tone (speech)
 * or silence; a small level VAD on the same audio keeps the test deterministic.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.js';
import type { ToolRunner } from '../../src/tools/types.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { LevelVad, bootEngine, frame, makeHost, say, type TestHost } from './pipeline-host.js';
import { createPipelineEngine } from '../../src/engine/pipeline.js';
import type { VadOptions } from '../../src/vad/index.js';

/** Generous: the machine running the suite is shared and loaded. */
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

function env(): Record<string, string> {
  return { DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_URL: dg.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: chat.url, ELEVENLABS_API_KEY: 'el-test', ELEVENLABS_BASE_URL: el.url };
}

async function boot(h: TestHost): Promise<Engine> {
  engine = await bootEngine(h);
  return engine;
}

describe('pipeline engine', () => {
  it('greets with {{var}} filled and pronunciations only on the TTS side', async () => {
    const h = makeHost(env(), { firstMessage: 'Hi {{name}}, we open at nine.' });
    await boot(h);
    await poll(() => h.playback.finished.size).toBe(1);
    expect(el.ws[0]!.text).toContain('Hi Ada, we open at nyne.');
    h.playback.play();
    await poll(() => h.transcripts.find((t) => t.role === 'agent')?.text).toBe('Hi Ada, we open at nine.');
  });

  it('a call whose media arrives during the announce-time set-up waits for it: one STT socket, not two', async () => {
    const h = makeHost(env(), { firstMessage: null });
    const e = createPipelineEngine(h.host, { createVad: async (o: VadOptions) => new LevelVad(o.silenceMs ?? 500) });
    engine = e;
    const announced = e.prepare(); // the webhook
    await e.start(); // the media socket, before the STT handshake is done
    await announced;
    await new Promise((r) => setTimeout(r, 200));
    expect(dg.connections).toHaveLength(1);
    await say(e, 200, 0);
    await poll(() => dg.connections[0]!.audioBytes).toBeGreaterThan(0);
  });

  it('caller audio that arrives before the STT and the VAD are ready reaches both, in order, from the first frame', async () => {
    dg.options.transcripts = ['hello'];
    const h = makeHost(env(), { firstMessage: null });
    let vad: LevelVad | null = null;
    let releaseVad!: () => void;
    const vadGate = new Promise<void>((r) => (releaseVad = r));
    const e = createPipelineEngine(h.host, {
      createVad: async (o: VadOptions) => {
        await vadGate;
        return (vad = new LevelVad(o.silenceMs ?? 500));
      },
    });
    engine = e;
    const prepared = e.prepare();
    // "Hello?" the moment the call is picked up: 300 ms of speech, then 200 ms of silence, all
    // in this tick, so before the Deepgram handshake can be done and before the VAD exists.
    for (let n = 0; n < 25; n++) e.onAudio(frame(n < 15, n));
    releaseVad();
    await prepared;
    await e.start();
    // The VAD's clock starts at the first frame: 25 frames of 20 ms were kept for it.
    expect(vad!.nowMs).toBe(500);
    await poll(() => dg.connections[0]?.audioBytes).toBe(25 * 160);
    // The speech in the backlog is a caller turn like any other.
    await say(e, 0, 600);
    await poll(() => h.transcripts.find((t) => t.role === 'user')?.text).toBe('hello');
  });

  it('beyond 5 s of early audio the oldest is dropped, and the call record says so', async () => {
    const h = makeHost(env(), { firstMessage: null });
    let vad: LevelVad | null = null;
    let releaseVad!: () => void;
    const vadGate = new Promise<void>((r) => (releaseVad = r));
    const e = createPipelineEngine(h.host, {
      createVad: async (o: VadOptions) => {
        await vadGate;
        return (vad = new LevelVad(o.silenceMs ?? 500));
      },
    });
    engine = e;
    const prepared = e.prepare();
    for (let n = 0; n < 260; n++) e.onAudio(frame(false, n)); // 5.2 s
    releaseVad();
    await prepared;
    expect(vad!.nowMs).toBe(5000);
    expect(h.notes.some((n) => n.includes('VAD was ready late: the first 0.2 s of caller audio were not heard'))).toBe(true);
  });

  it('answers a question with TTS started before the LLM finished, and records the turn latency', async () => {
    dg.options.transcripts = ['what are your hours'];
    chat.respond(() => ({ tokens: ['We open at nine. ', 'We close ', { text: 'at five.', delayMs: 400 }] }));
    const h = makeHost(env(), { firstMessage: null });
    const e = await boot(h);
    await say(e, 600, 600);
    await poll(() => h.transcripts.find((t) => t.role === 'user')?.text).toBe('what are your hours');
    await poll(() => el.ws.some((c) => c.text.includes('We open at nyne.'))).toBe(true);
    expect(chat.requests.at(-1)!.completed).toBe(false);
    await poll(() => h.playback.finished.size).toBe(1);
    h.playback.play();
    await poll(() => h.transcripts.find((t) => t.role === 'agent')?.text).toBe('We open at nine. We close at five.');
    expect(chat.requests.at(-1)!.body.messages).toEqual([
      { role: 'system', content: 'You help Ada.' },
      { role: 'user', content: 'what are your hours' },
    ]);
    expect(h.turns).toHaveLength(1);
    expect(h.turns[0]!.voiceToVoiceMs).toBeGreaterThanOrEqual(0);
    expect(h.turns[0]!.llmFirstTokenMs).toBeDefined();
  });

  it('barge-in mid-answer clears playback, aborts LLM and TTS, and truncates the agent item to what was heard', async () => {
    dg.options.transcripts = ['tell me everything', 'stop'];
    chat.respond(() => ({ tokens: ['One two three four five six. ', 'Seven eight nine ten. '], hang: true }));
    const h = makeHost(env(), { firstMessage: null });
    const e = await boot(h);
    await say(e, 400, 500);
    await poll(() => h.playback.audio.size).toBe(1);
    await poll(() => (h.playback.audio.get('u1') ?? 0) >= 29 * 5 * 8).toBe(true);
    // The caller heard "One two three " (14 characters × 5 ms) and then talks over the agent.
    h.playback.play(14 * 5);
    await say(e, 500, 0);
    expect(h.playback.cleared).toHaveLength(1);
    await poll(() => h.transcripts.find((t) => t.role === 'agent')).toMatchObject({ text: 'One two three', interrupted: true });
    await poll(() => chat.requests[0]!.aborted).toBe(true);
    await poll(() => el.ws.find((c) => c.text.startsWith('One'))?.closed).toBe(true);
    expect(await h.metrics.bargeIns.get()).toMatchObject({ values: [{ value: 1 }] });
  });

  it('a backchannel shorter than minInterruptionMs does not interrupt', async () => {
    dg.options.transcripts = ['go on', 'uh huh'];
    chat.respond(() => ({ tokens: ['A fairly long answer that keeps going for a while. '] }));
    const h = makeHost(env(), { firstMessage: null });
    const e = await boot(h);
    await say(e, 400, 500);
    await poll(() => h.playback.finished.size).toBe(1);
    h.playback.play(100);
    await say(e, 300, 0);
    expect(h.playback.cleared).toHaveLength(0);
    expect(h.playback.active).toBe(true);
  });

  it('runs a tool call round trip and hangs up after the goodbye when the tool ends the call', async () => {
    dg.options.transcripts = ['bye now'];
    let n = 0;
    chat.respond(() => (n++ === 0 ? { toolCalls: [{ id: 'call_1', name: 'end_call', arguments: '{"reason":"done"}' }] } : { tokens: ['Goodbye!'] }));
    const runs: string[] = [];
    const tools: ToolRunner = {
      specs: [{ name: 'end_call', description: 'Hang up', parameters: { type: 'object', properties: {} } }],
      run: async (name, args) => {
        runs.push(`${name} ${args}`);
        return { ok: true, output: '{"ok":true}', endsCall: true };
      },
    };
    const h = makeHost(env(), { firstMessage: null }, { tools });
    const e = await boot(h);
    await say(e, 400, 500);
    await poll(() => h.playback.finished.size).toBe(1);
    expect(runs).toEqual(['end_call {"reason":"done"}']);
    expect(chat.requests[1]!.body.messages.slice(-2)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'end_call', arguments: '{"reason":"done"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"ok":true}' },
    ]);
    expect(h.ended).toEqual([]);
    h.playback.play();
    await poll(() => h.ended).toEqual(['agent_hangup']);
    expect(h.transcripts.some((t) => t.role === 'tool' && t.text.startsWith('end_call'))).toBe(true);
  });

  it('cancels an early LLM start when the caller continues after a stable final', async () => {
    dg.options.transcripts = ['I want', 'to book a table'];
    chat.respond(() => ({ tokens: ['Sure.'], firstTokenDelayMs: 300 }));
    // Deepgram endpoints after 200 ms; the turn needs 600 ms of silence: the pause in between starts a speculative reply.
    const h = makeHost(env(), { firstMessage: null, turnDetection: { silenceMs: 600, minInterruptionMs: 400 } });
    const e = await boot(h);
    await say(e, 400, 360);
    await poll(() => chat.requests.length).toBe(1);
    await say(e, 400, 700);
    await poll(() => h.transcripts.find((t) => t.role === 'user')?.text).toBe('I want to book a table');
    await poll(() => chat.requests[0]!.aborted).toBe(true);
    await poll(() => chat.requests.length).toBe(2);
    expect(chat.requests[1]!.body.messages.at(-1)).toEqual({ role: 'user', content: 'I want to book a table' });
  });

  it('an LLM failure gets an apology and ends the call with error:openai', async () => {
    dg.options.transcripts = ['hello'];
    chat.respond(() => ({ status: 401 }));
    const h = makeHost(env(), { firstMessage: null });
    const e = await boot(h);
    await say(e, 400, 500);
    await poll(() => el.ws.some((c) => c.text.includes('technical difficulties'))).toBe(true);
    await poll(() => h.playback.finished.size).toBe(1);
    h.playback.play();
    await poll(() => h.ended).toEqual(['error:openai']);
    expect(h.notes.some((n) => n.startsWith('openai'))).toBe(true);
  });

  it('an LLM failure on a speculative reply is not undone when the turn then commits', async () => {
    dg.options.transcripts = ['hello there'];
    chat.respond(() => ({ status: 401 }));
    // Deepgram endpoints after 200 ms, the turn commits after 600 ms of silence: the speculative
    // reply fails first, and the commit that follows must leave the apology playing.
    const h = makeHost(env(), { firstMessage: null, turnDetection: { silenceMs: 600, minInterruptionMs: 400 } });
    const e = await boot(h);
    await say(e, 400, 360);
    await poll(() => el.ws.some((c) => c.text.includes('technical difficulties'))).toBe(true);
    await say(e, 0, 400);
    await poll(() => h.transcripts.find((t) => t.role === 'user')?.text).toBe('hello there');
    expect(chat.requests).toHaveLength(1);
    await poll(() => h.playback.finished.size).toBe(1);
    h.playback.play();
    await poll(() => h.ended).toEqual(['error:openai']);
  });

  it('missing credentials end the call with a clear reason', async () => {
    const h = makeHost(env(), {}, { env: { DEEPGRAM_API_KEY: '' } });
    await boot(h);
    expect(h.ended).toEqual(['error:deepgram_not_configured']);
    expect(h.notes).toEqual(['deepgram: DEEPGRAM_API_KEY is not set']);
  });
});
