import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRealtimeEngine } from '../../src/engine/realtime.js';
import type { Engine } from '../../src/engine/types.js';
import { startFakeRealtime, waitFor, type FakeRealtimeServer } from '../fakes/openai-realtime.js';
import { makeTool } from '../tools/tool-fixtures.js';
import { makeHost, type TestHost } from './realtime-host.js';
import { say } from './realtime-caller.js';

describe('realtime engine: session set-up, greeting and audio passthrough', () => {
  let fake: FakeRealtimeServer;
  let engine: Engine | null = null;
  beforeEach(async () => {
    fake = await startFakeRealtime();
  });
  afterEach(async () => {
    await engine?.close();
    engine = null;
    await fake.close();
  });

  const start = async (host: TestHost): Promise<void> => {
    engine = createRealtimeEngine(host);
    await engine.prepare();
    await engine.start();
  };

  it('configures a phone session: pcmu both ways, filled instructions, tools, server VAD from turnDetection', async () => {
    const host = makeHost({
      realtimeUrl: fake.url,
      apiKey: fake.apiKey,
      agent: { turnDetection: { vadThreshold: 0.7, silenceMs: 650 }, voiceId: 'marin', firstMessage: null },
      tools: [makeTool()],
      variables: { name: 'Dana' },
    });
    await start(host);
    const conn = fake.latest()!;
    expect(conn.model).toBe('gpt-realtime');
    const update = (await waitFor(() => conn.eventsOf('session.update')[0], 5000, 'session.update')).session;
    expect(update.type).toBe('realtime');
    expect(update.instructions).toBe('You help Dana.');
    expect(update.audio.input.format).toEqual({ type: 'audio/pcmu' });
    expect(update.audio.output.format).toEqual({ type: 'audio/pcmu' });
    expect(update.audio.output.voice).toBe('marin');
    expect(update.audio.input.transcription.model).toBeTruthy();
    expect(update.audio.input.turn_detection).toMatchObject({ type: 'server_vad', threshold: 0.7, silence_duration_ms: 650 });
    expect(update.tools.map((t: { name: string }) => t.name)).toEqual(['end_call', 'transfer_call', 'lookup_booking']);
    expect(update.tools[2]).toMatchObject({ type: 'function', parameters: { required: ['phone'] } });
    await waitFor(() => conn.sent.some((e) => e['type'] === 'session.updated'), 5000, 'session.updated');
    expect(conn.sent.filter((e) => e['type'] === 'error')).toEqual([]);
  });

  it('call overrides win over the agent, and no turnDetection means semantic VAD; web calls get transfer_call-free PCM 24 kHz', async () => {
    const host = makeHost({
      realtimeUrl: fake.url,
      apiKey: fake.apiKey,
      channel: 'web',
      agent: { firstMessage: null },
      call: { overrides: { systemPrompt: 'Override for {{name}}.', voice: 'cedar' } },
    });
    await start(host);
    const update = (await waitFor(() => fake.latest()!.eventsOf('session.update')[0], 5000, 'session.update')).session;
    expect(update.instructions).toBe('Override for friend.');
    expect(update.audio.output.voice).toBe('cedar');
    expect(update.audio.input.format).toEqual({ type: 'audio/pcm', rate: 24000 });
    expect(update.audio.output.format).toEqual({ type: 'audio/pcm', rate: 24000 });
    expect(update.audio.input.turn_detection.type).toBe('semantic_vad');
    expect(update.tools.map((t: { name: string }) => t.name)).toEqual(['end_call']);
  });

  it('speaks firstMessage at call start and writes it to the transcript once played', async () => {
    const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, call: { overrides: { initialGreeting: 'Hi {{name}}, this is Acme.' } } });
    await start(host);
    const conn = fake.latest()!;
    const create = await waitFor(() => conn.eventsOf('response.create')[0], 5000, 'response.create');
    expect(create.response.instructions).toContain('"Hi friend, this is Acme."');
    await waitFor(() => host.transcripts.find((t) => t.role === 'agent'), 5000, 'greeting transcript');
    expect(host.transcripts).toEqual([expect.objectContaining({ role: 'agent', text: 'Hi friend, this is Acme.' })]);
    expect(host.transcripts[0]!.interrupted).toBeUndefined();
  });

  it('passes μ-law through unchanged both ways on phone calls', async () => {
    const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey });
    await start(host);
    const conn = fake.latest()!;
    await waitFor(() => host.transcripts.length === 1, 5000, 'greeting');
    // Provider → caller: the bytes playback got are exactly the deltas' bytes.
    const deltas = conn.sent.filter((e) => e['type'] === 'response.output_audio.delta');
    const itemId = deltas[0]!['item_id'] as string;
    const provided = Buffer.concat(deltas.map((e) => Buffer.from(e['delta'] as string, 'base64')));
    expect(host.playback.audioOf(itemId).equals(provided)).toBe(true);
    // Caller → provider: the frames arrive byte for byte.
    const frames = say(engine!, host.inputFormat, 200);
    await waitFor(() => conn.appendedBytes >= 1600, 5000, 'appended audio');
    expect(Buffer.concat(conn.inputChunks).equals(Buffer.concat(frames))).toBe(true);
  });

  it('caller audio sent before the session is up reaches it once it is, in order, after session.update', async () => {
    const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, agent: { firstMessage: null } });
    engine = createRealtimeEngine(host);
    const prepared = engine.prepare();
    // In this tick: before the provider's WebSocket can be open.
    const frames = say(engine, host.inputFormat, 200);
    await prepared;
    await engine.start();
    const conn = fake.latest()!;
    await waitFor(() => conn.appendedBytes >= 1600, 5000, 'appended audio');
    expect(Buffer.concat(conn.inputChunks).equals(Buffer.concat(frames))).toBe(true);
    const types = conn.received.map((e) => e['type']);
    expect(types.indexOf('session.update')).toBeLessThan(types.indexOf('input_audio_buffer.append'));
  });

  it('web calls: caller PCM 16 kHz reaches the provider at 24 kHz and agent audio comes back at 16 kHz', async () => {
    const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, channel: 'web' });
    await start(host);
    const conn = fake.latest()!;
    await waitFor(() => host.transcripts.length === 1, 5000, 'greeting');
    const deltas = conn.sent.filter((e) => e['type'] === 'response.output_audio.delta');
    const providedBytes = deltas.reduce((n, e) => n + Buffer.from(e['delta'] as string, 'base64').length, 0);
    const played = host.playback.audioOf(deltas[0]!['item_id'] as string).length;
    // 24 kHz → 16 kHz: two thirds of the samples (the resampler holds back its filter delay).
    expect(Math.abs(played - (providedBytes * 2) / 3)).toBeLessThan(200);
    say(engine!, host.inputFormat, 400);
    await waitFor(() => conn.appendedBytes > 0 && conn.inputMs >= 390, 5000, 'resampled input');
    expect(conn.appendedBytes).toBeGreaterThan(400 * 48 - 400);
    await waitFor(() => conn.sent.some((e) => e['type'] === 'input_audio_buffer.speech_started'), 5000, 'speech detected');
  });
});
