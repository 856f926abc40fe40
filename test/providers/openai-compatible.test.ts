/**
 * The OpenAI-compatible STT and TTS on the real `openai` SDK against the fake speech server:
 * what goes over the wire (multipart WAV, JSON speech request, auth), the conversions (μ-law 8 kHz
 * and PCM16 16 kHz out of 24 kHz PCM split mid-sample), ordering, refusals and aborts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OpenAiCompatibleStt } from '../../src/providers/stt/openai-compatible.js';
import { OpenAiCompatibleTts, PcmConverter } from '../../src/providers/tts/openai-compatible.js';
import type { SttEvent } from '../../src/providers/stt/types.js';
import { Resampler, pcm16FromBytes, ulawEncode, ulawEncodeSample } from '../../src/media/index.js';
import { MULAW_8K, PCM16_16K } from '../../src/transport/types.js';
import { fakeSpeechPcm, startFakeOpenAiAudio, type FakeOpenAiAudio } from '../fakes/openai-audio.js';

/** Generous: the machine running the suite is shared and loaded. */
const poll = <T>(fn: () => T) => expect.poll(fn, { timeout: 10_000, interval: 20 });

let fake: FakeOpenAiAudio | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function tone(n: number): Buffer {
  const b = Buffer.alloc(160);
  for (let i = 0; i < 160; i++) b[i] = ulawEncodeSample(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (n * 160 + i)) / 8000)));
  return b;
}
const silence = () => Buffer.alloc(160, 0xff);

async function sttWith(f: FakeOpenAiAudio, over: Partial<ConstructorParameters<typeof OpenAiCompatibleStt>[0]> = {}) {
  const stt = new OpenAiCompatibleStt({ baseUrl: f.url, apiKey: 'sk-audio', format: MULAW_8K, language: 'en-US', ...over });
  const events: SttEvent[] = [];
  stt.onEvent((e) => events.push(e));
  await stt.connect(new AbortController().signal);
  return { stt, events };
}

describe('OpenAI-compatible STT (per utterance, cut by the VAD)', () => {
  it('posts the utterance with its pre-roll as a 16-bit WAV and emits one speech-final', async () => {
    fake = await startFakeOpenAiAudio({ transcripts: ['what are your hours'] });
    const { stt, events } = await sttWith(fake, { preRollMs: 200 });
    for (let i = 0; i < 50; i++) stt.write(silence()); // 1 s before speech: only 200 ms is kept
    stt.speechStarted();
    for (let i = 0; i < 40; i++) stt.write(tone(i)); // 800 ms of speech
    stt.finalize();
    await poll(() => events.length).toBe(1);
    expect(events[0]).toEqual({ type: 'final', text: 'what are your hours', speechFinal: true, fromFinalize: true });
    const req = fake.transcriptions[0]!;
    expect(req.headers.authorization).toBe('Bearer sk-audio');
    expect(req.fields).toMatchObject({ model: 'whisper-1', response_format: 'json', language: 'en' });
    expect(req.fileName).toBe('utterance.wav');
    expect(req.wav).toMatchObject({ audioFormat: 1, sampleRate: 8000, channels: 1, bitsPerSample: 16 });
    expect(req.durationMs).toBe(1000);
    expect(req.peak).toBeGreaterThan(7000);
    await stt.close();
    expect(events.at(-1)).toEqual({ type: 'closed', reason: 'closed' });
  });

  it('keeps finals in utterance order when an earlier request answers last, and uses the agent model', async () => {
    fake = await startFakeOpenAiAudio({ transcripts: ['first', 'second'], transcriptionDelayMs: 50 });
    const { stt, events } = await sttWith(fake, { model: 'large-v3' });
    for (const _ of [1, 2]) {
      stt.speechStarted();
      for (let i = 0; i < 10; i++) stt.write(tone(i));
      stt.finalize();
    }
    await poll(() => events.length).toBe(2);
    expect(events.map((e) => e.type === 'final' && e.text)).toEqual(['first', 'second']);
    expect(fake.transcriptions.map((t) => t.fields.model)).toEqual(['large-v3', 'large-v3']);
    await stt.close();
  });

  it('a stray finalize with nothing buffered answers an empty final at once, without a request', async () => {
    fake = await startFakeOpenAiAudio();
    const { stt, events } = await sttWith(fake);
    stt.finalize();
    expect(events).toEqual([{ type: 'final', text: '', speechFinal: true, fromFinalize: true }]);
    expect(fake.transcriptions).toHaveLength(0);
    await stt.close();
  });

  it('a refusal (401) ends the stream; a server error loses only that utterance', async () => {
    fake = await startFakeOpenAiAudio({ transcriptionStatus: 500 });
    const { stt, events } = await sttWith(fake);
    stt.speechStarted();
    stt.write(tone(0));
    stt.finalize();
    await poll(() => events.length).toBe(2);
    expect(events[0]).toMatchObject({ type: 'error', error: { provider: 'openai-compatible', status: 500, retryable: true } });
    expect(events[1]).toEqual({ type: 'final', text: '', speechFinal: true, fromFinalize: true });

    const bad = await sttWith(fake, { apiKey: 'wrong' });
    bad.stt.speechStarted();
    bad.stt.write(tone(0));
    bad.stt.finalize();
    await poll(() => bad.events.length).toBe(2);
    expect(bad.events[0]).toMatchObject({ type: 'error', error: { status: 401, retryable: false } });
    expect(bad.events[1]).toMatchObject({ type: 'closed' });
    await Promise.all([stt.close(), bad.stt.close()]);
  });
});

async function collect(s: AsyncIterable<{ audio: Buffer }>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c.audio);
  return Buffer.concat(parts);
}

describe('OpenAI-compatible TTS (/v1/audio/speech, pcm 24 kHz)', () => {
  it('streams each clause as μ-law 8 kHz, identical to resampling the whole reply at once', async () => {
    fake = await startFakeOpenAiAudio({ msPerChar: 10, chunkBytes: 999 });
    const tts = new OpenAiCompatibleTts({ baseUrl: fake.url, apiKey: 'sk-audio', voiceId: 'af_bella', format: MULAW_8K });
    await tts.prepare();
    const s = tts.stream(new AbortController().signal);
    s.push('Hello there.');
    s.push('How can I help?');
    s.end();
    const out = await collect(s);
    expect(fake.speech.map((r) => r.body)).toEqual([
      { model: 'tts-1', voice: 'af_bella', input: 'Hello there.', response_format: 'pcm' },
      { model: 'tts-1', voice: 'af_bella', input: 'How can I help?', response_format: 'pcm' },
    ]);
    expect(fake.speech[0]!.headers.authorization).toBe('Bearer sk-audio');
    const whole = Buffer.concat([fakeSpeechPcm(12, 10), fakeSpeechPcm(15, 10)]);
    const expected = ulawEncode(new Resampler(24000, 8000).process(pcm16FromBytes(Buffer.from(whole))));
    expect(out.length).toBe(expected.length);
    expect(out.equals(expected)).toBe(true);
  });

  it('gives browsers PCM16 at 16 kHz', async () => {
    fake = await startFakeOpenAiAudio({ msPerChar: 10 });
    const tts = new OpenAiCompatibleTts({ baseUrl: fake.url, apiKey: 'sk-audio', voiceId: 'alloy', format: PCM16_16K, model: 'kokoro' });
    const s = tts.stream(new AbortController().signal);
    s.push('Hi.');
    s.end();
    const out = await collect(s);
    expect(fake.speech[0]!.body.model).toBe('kokoro');
    expect(out.length).toBe(3 * 10 * 16 * 2); // 30 ms at 16 kHz, 2 bytes a sample
  });

  it('carries a half sample across chunk boundaries', () => {
    const pcm = fakeSpeechPcm(5, 10);
    const conv = new PcmConverter(24000, false);
    const parts = [pcm.subarray(0, 1), pcm.subarray(1, 4), pcm.subarray(4, 1001), pcm.subarray(1001)];
    const out = Buffer.concat(parts.map((p) => conv.push(p)));
    expect(out.equals(pcm)).toBe(true);
  });

  it('abort stops the request in flight and ends iteration quietly; a refusal surfaces as a ProviderError', async () => {
    fake = await startFakeOpenAiAudio({ msPerChar: 50, chunkDelayMs: 30, chunkBytes: 480 });
    const tts = new OpenAiCompatibleTts({ baseUrl: fake.url, apiKey: 'sk-audio', voiceId: 'alloy', format: MULAW_8K });
    const s = tts.stream(new AbortController().signal);
    s.push('A long sentence that takes a while to speak.');
    s.end();
    let chunks = 0;
    for await (const _ of s) {
      if (++chunks === 2) s.abort();
    }
    await poll(() => fake!.speech[0]!.aborted).toBe(true);

    fake.options.speechStatus = 401;
    const r = tts.stream(new AbortController().signal);
    r.push('Hello.');
    r.end();
    await expect(collect(r)).rejects.toMatchObject({ provider: 'openai-compatible', status: 401, retryable: false });
  });
});
