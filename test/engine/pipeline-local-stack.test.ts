/**
 * A fully local stack: OpenAI-compatible STT (whisper-style, per utterance) + an OpenAI-compatible
 * chat server + OpenAI-compatible TTS (pcm 24 kHz), all fakes on loopback, no vendor keys.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startFakeOpenAiAudio, type FakeOpenAiAudio } from '../fakes/openai-audio.js';
import { bootEngine, makeHost, say, type TestHost } from './pipeline-host.js';

const poll = <T>(fn: () => T) => expect.poll(fn, { timeout: 10_000, interval: 20 });

let chat: FakeOpenAiChat;
let audio: FakeOpenAiAudio;
let engine: Engine | undefined;

beforeEach(async () => {
  [chat, audio] = await Promise.all([startFakeOpenAiChat({ apiKey: 'local' }), startFakeOpenAiAudio({ apiKey: 'local', msPerChar: 5 })]);
});
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await Promise.all([chat.close(), audio.close()]);
});

function localHost(over: Parameters<typeof makeHost>[1] = {}): TestHost {
  // Only OpenAI-compatible URLs: no Deepgram or ElevenLabs key exists in this configuration.
  const env = { OPENAI_BASE_URL: chat.url, OPENAI_API_KEY: 'local', STT_BASE_URL: audio.url, TTS_BASE_URL: audio.url };
  return makeHost(env, { stt: 'openai-compatible', tts: 'openai-compatible', sttModel: 'small.en', voiceId: 'af_bella', ...over });
}

describe('pipeline on a fully local OpenAI-compatible stack', () => {
  it('greets, transcribes the question as one WAV, answers it, and speaks the answer as μ-law', async () => {
    audio.options.transcripts = ['what are your hours'];
    chat.respond(() => ({ tokens: ['We open ', 'at nine.'] }));
    const h = localHost();
    engine = await bootEngine(h);
    await poll(() => h.playback.finished.size).toBe(1);
    expect(audio.speech[0]!.body).toMatchObject({ input: 'Hi Ada, how can I help?', voice: 'af_bella', response_format: 'pcm' });
    // 23 characters × 5 ms of 24 kHz audio → μ-law 8 kHz: 8 bytes per ms.
    expect(h.playback.audio.get('u1')).toBe(23 * 5 * 8);
    h.playback.play();

    await say(engine, 600, 600);
    await poll(() => h.transcripts.find((t) => t.role === 'user')?.text).toBe('what are your hours');
    const posted = audio.transcriptions[0]!;
    expect(posted.fields).toMatchObject({ model: 'small.en', response_format: 'json', language: 'en' });
    expect(posted.wav).toMatchObject({ sampleRate: 8000, channels: 1, bitsPerSample: 16 });
    // The utterance (600 ms of tone) plus the pre-roll and the silence until the VAD ended it.
    expect(posted.durationMs).toBeGreaterThanOrEqual(600);
    expect(posted.peak).toBeGreaterThan(7000);
    await poll(() => chat.requests.length).toBe(1);
    expect(chat.requests[0]!.body.messages.at(-1)).toEqual({ role: 'user', content: 'what are your hours' });
    await poll(() => h.playback.finished.size).toBe(2);
    expect(audio.speech.map((s) => s.body.input)).toEqual(['Hi Ada, how can I help?', 'We open at nyne.']);
    h.playback.play();
    await poll(() => h.transcripts.filter((t) => t.role === 'agent').map((t) => t.text)).toEqual(['Hi Ada, how can I help?', 'We open at nine.']);
    expect(h.turns).toHaveLength(1);
    expect(h.ended).toEqual([]);
  });

  it('a transcription server that refuses the key ends the call with error:openai-compatible after an apology', async () => {
    const h = localHost({ firstMessage: null });
    audio.options.transcriptionStatus = 401;
    engine = await bootEngine(h);
    await say(engine, 400, 600);
    await poll(() => audio.speech.some((s) => String(s.body.input).includes('technical difficulties'))).toBe(true);
    await poll(() => h.playback.finished.size).toBe(1);
    h.playback.play();
    await poll(() => h.ended).toEqual(['error:openai-compatible']);
    expect(h.notes.some((n) => n.includes('openai-compatible'))).toBe(true);
  });
});
