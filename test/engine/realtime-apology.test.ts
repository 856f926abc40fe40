/**
 * Issue 5, "Bad input": when the realtime provider cannot carry the call, the caller hears the
 * apology (OpenAI-compatible TTS, the fake speech server) before the call ends with its reason;
 * without a working TTS the call ends at once, as before. Playback marks are the test's to give.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APOLOGY_UTTERANCE_ID } from '../../src/engine/realtime-apology.js';
import { createRealtimeEngine } from '../../src/engine/realtime.js';
import { APOLOGY } from '../../src/engine/pipeline.js';
import type { Engine } from '../../src/engine/types.js';
import { ulawDecode } from '../../src/media/index.js';
import { startFakeOpenAiAudio, type FakeOpenAiAudio } from '../fakes/openai-audio.js';
import { startFakeRealtime, waitFor, type FakeRealtimeServer } from '../fakes/openai-realtime.js';
import { makeHost, type TestHost } from './realtime-host.js';

/** Generous: the machine running the suite is shared and loaded. */
const WAIT_MS = 10_000;
/** The fake speech server's audio per input character (its default). */
const MS_PER_CHAR = 20;

let realtime: FakeRealtimeServer;
let tts: FakeOpenAiAudio;
let engine: Engine | null = null;

beforeEach(async () => {
  [realtime, tts] = await Promise.all([startFakeRealtime(), startFakeOpenAiAudio({ msPerChar: MS_PER_CHAR })]);
});
afterEach(async () => {
  await engine?.close();
  engine = null;
  await Promise.all([realtime.close(), tts.close()]);
});

/** A realtime call whose config also names the OpenAI-compatible TTS at `ttsBaseUrl`. */
function callWithTts(ttsBaseUrl: string, opts: { channel?: 'phone' | 'web'; ttsApiKey?: string } = {}): TestHost {
  const host = makeHost({ realtimeUrl: realtime.url, apiKey: realtime.apiKey, channel: opts.channel });
  Object.assign(host.config.providers, { openaiCompatible: { ttsBaseUrl, ttsApiKey: 'ttsApiKey' in opts ? opts.ttsApiKey : 'sk-audio' } });
  engine = createRealtimeEngine(host, { reconnectBackoffMs: [0, 50, 100] });
  return host;
}

const apologyQueued = (host: TestHost) => () => host.playback.utterances.get(APOLOGY_UTTERANCE_ID)?.finished;

/** Bytes of `ms` of audio in the call's format: μ-law 8 kHz (phone) or PCM16 16 kHz (web). */
const bytesFor = (host: TestHost, ms: number): number => ms * (host.outputFormat.encoding === 'mulaw' ? 8 : 32);

describe('realtime engine: the apology when the provider cannot carry the call', () => {
  it('a provider unreachable at start: the caller hears the apology in μ-law 8 kHz, then the call ends with error:realtime_unavailable', async () => {
    realtime.refuseConnections = true;
    const host = callWithTts(tts.url);
    host.playback.autoPlay = false;
    await engine!.prepare();
    const started = engine!.start();

    await waitFor(apologyQueued(host), WAIT_MS, 'the apology handed to playback');
    expect(tts.speech).toHaveLength(1);
    expect(tts.speech[0]!.body).toMatchObject({ input: APOLOGY, response_format: 'pcm' });
    expect(tts.speech[0]!.headers.authorization).toBe('Bearer sk-audio');
    // The fake's tone for the apology's length, converted to the phone format: ~1 byte per 0.125 ms.
    const audio = host.playback.audioOf(APOLOGY_UTTERANCE_ID);
    const expected = bytesFor(host, APOLOGY.length * MS_PER_CHAR);
    expect(Math.abs(audio.length - expected)).toBeLessThan(expected * 0.02);
    const peak = ulawDecode(audio).reduce((m, s) => Math.max(m, Math.abs(s)), 0);
    expect(peak).toBeGreaterThan(0.25 * 32767);
    expect(peak).toBeLessThan(0.35 * 32767);
    // Not played yet: the call waits for the apology's last mark.
    expect(host.ended).toEqual([]);

    host.playback.playOut(APOLOGY_UTTERANCE_ID);
    await started;
    expect(host.ended).toEqual(['error:realtime_unavailable']);
    expect(host.notes[0]).toMatch(/realtime provider unavailable: .*503/);
    expect(host.notes).toContain('apology spoken to the caller');
  });

  it('a session that cannot be reopened: the web caller hears the apology in PCM16 16 kHz, then error:realtime_disconnected', async () => {
    const host = callWithTts(tts.url, { channel: 'web' });
    await engine!.prepare();
    await engine!.start();
    await waitFor(() => host.transcripts.length === 1, WAIT_MS, 'greeting');
    host.playback.autoPlay = false;

    realtime.refuseConnections = true;
    realtime.dropSocket();
    await waitFor(apologyQueued(host), WAIT_MS, 'the apology handed to playback');
    expect(tts.speech.map((r) => r.body.input)).toEqual([APOLOGY]);
    const audio = host.playback.audioOf(APOLOGY_UTTERANCE_ID);
    const expected = bytesFor(host, APOLOGY.length * MS_PER_CHAR);
    expect(Math.abs(audio.length - expected)).toBeLessThan(expected * 0.02);
    expect(host.ended).toEqual([]);

    host.playback.playOut(APOLOGY_UTTERANCE_ID);
    await waitFor(() => host.ended.length === 1, WAIT_MS, 'end');
    expect(host.ended).toEqual(['error:realtime_disconnected']);
    const notes = host.notes.join('\n');
    expect(notes).toMatch(/could not be reopened[\s\S]*apology spoken to the caller/);
  });

  it('a TTS that is down too: the call ends with error:realtime_unavailable at once, with nothing played', async () => {
    const down = await startFakeOpenAiAudio();
    const downUrl = down.url;
    await down.close(); // nothing listens on that port now
    realtime.refuseConnections = true;
    const host = callWithTts(downUrl);
    await engine!.prepare();
    await engine!.start();

    expect(host.ended).toEqual(['error:realtime_unavailable']);
    expect(host.playback.utterances.size).toBe(0);
    expect(host.notes.join('\n')).toMatch(/apology not spoken: /);
    expect(host.notes).not.toContain('apology spoken to the caller');
  });

  it('a TTS that refuses the request: the dropped call ends with error:realtime_disconnected, with nothing played', async () => {
    tts.options.speechStatus = 500;
    const host = callWithTts(tts.url);
    await engine!.prepare();
    await engine!.start();
    await waitFor(() => host.transcripts.length === 1, WAIT_MS, 'greeting');
    const greetingPlayback = host.playback.utterances.size;

    realtime.refuseConnections = true;
    realtime.dropSocket();
    await waitFor(() => host.ended.length === 1, WAIT_MS, 'end');
    expect(host.ended).toEqual(['error:realtime_disconnected']);
    expect(tts.speech.map((r) => r.body.input)).toEqual([APOLOGY]);
    expect(host.playback.utterances.size).toBe(greetingPlayback);
    expect(host.notes.join('\n')).toMatch(/apology not spoken: .*500/);
  });

  it('a TTS slower than its budget is abandoned: the call ends unspoken and the request is aborted', async () => {
    tts.options.firstByteDelayMs = 20_000;
    realtime.refuseConnections = true;
    const host = callWithTts(tts.url);
    await engine!.prepare();
    await engine!.start();

    expect(host.ended).toEqual(['error:realtime_unavailable']);
    expect(host.playback.utterances.size).toBe(0);
    expect(host.notes.join('\n')).toMatch(/apology not spoken: the TTS took longer than/);
    await waitFor(() => tts.speech[0]?.aborted, WAIT_MS, 'the speech request aborted');
  });

  it('no TTS configured (api.openai.com without a key): ends at once without asking anyone', async () => {
    realtime.refuseConnections = true;
    const host = callWithTts('https://api.openai.com/v1', { ttsApiKey: undefined });
    await engine!.prepare();
    await engine!.start();

    expect(host.ended).toEqual(['error:realtime_unavailable']);
    expect(host.playback.utterances.size).toBe(0);
    expect(host.notes).toContain('apology not spoken: no TTS configured (TTS_API_KEY is not set)');
  });
});
