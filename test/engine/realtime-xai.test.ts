/**
 * The realtime engine on xAI's Grok Voice Agent (issue 17): the same engine, the xAI dialect
 * of the provider (src/providers/realtime/xai.ts) against the fake's xAI mode. What xAI receives
 * on the wire, μ-law passthrough, barge-in without a truncate event, tools, reconnect, and the
 * call's end when XAI_API_KEY is missing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRealtimeEngine } from '../../src/engine/realtime.js';
import type { Engine } from '../../src/engine/types.js';
import { defaultResponder, startFakeRealtime, waitFor, type FakeRealtimeServer, type ScriptedRealtimeResponse } from '../fakes/openai-realtime.js';
import { makeTool } from '../tools/tool-fixtures.js';
import { startFakeOpenAiAudio } from '../fakes/openai-audio.js';
import { APOLOGY_UTTERANCE_ID } from '../../src/engine/realtime-apology.js';
import { APOLOGY } from '../../src/engine/pipeline.js';
import { makeHost, type TestHost } from './realtime-host.js';
import { say } from './realtime-caller.js';

const LONG_GREETING = 'Welcome to Acme support, I can help you with bookings, refunds and anything else you need today.';

describe('realtime engine on xAI', () => {
  let fake: FakeRealtimeServer;
  let engine: Engine | null = null;
  let script: ScriptedRealtimeResponse[] = [];
  beforeEach(async () => {
    script = [];
    fake = await startFakeRealtime({ dialect: 'xai', apiKey: 'xai-fake-key', responder: (ctx) => script.shift() ?? defaultResponder(ctx) });
  });
  afterEach(async () => {
    await engine?.close();
    engine = null;
    await fake.close();
  });

  const start = async (opts: Partial<Parameters<typeof makeHost>[0]> = {}): Promise<TestHost> => {
    const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, provider: 'xai', ...opts });
    engine = createRealtimeEngine(host, { reconnectBackoffMs: [0, 50, 100] });
    await engine.prepare();
    await engine.start();
    return host;
  };
  const errorsFromFake = () => fake.connections.flatMap((c) => c.sent.filter((e) => e['type'] === 'error'));

  it('sends xAI its own session shape for a phone call: μ-law both ways, voice, server VAD and tools at the top level', async () => {
    await start({
      agent: { turnDetection: { vadThreshold: 0.95, silenceMs: 650 }, voiceId: 'Rex', firstMessage: null },
      tools: [makeTool()],
      variables: { name: 'Dana' },
    });
    const conn = fake.latest()!;
    expect(conn.model).toBe('grok-voice-think-fast-1.0');
    const update = (await waitFor(() => conn.eventsOf('session.update')[0], 5000, 'session.update')).session;
    expect(update).toEqual({
      instructions: 'You help Dana.',
      voice: 'Rex',
      // 0.95 is outside xAI's 0.1–0.9: clamped rather than refused.
      turn_detection: { type: 'server_vad', threshold: 0.9, silence_duration_ms: 650 },
      audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } },
      tools: [
        expect.objectContaining({ type: 'function', name: 'end_call' }),
        expect.objectContaining({ type: 'function', name: 'transfer_call' }),
        expect.objectContaining({ type: 'function', name: 'lookup_booking', parameters: expect.objectContaining({ required: ['phone'] }) }),
      ],
    });
    await waitFor(() => conn.sent.some((e) => e['type'] === 'session.updated'), 5000, 'session.updated');
    expect(errorsFromFake()).toEqual([]);
  });

  it('web calls get PCM16 at 24 kHz, and no explicit VAD numbers mean xAI server VAD with its own defaults', async () => {
    const host = await start({ channel: 'web', agent: { firstMessage: null, model: 'grok-voice-latest' } });
    const conn = fake.latest()!;
    expect(conn.model).toBe('grok-voice-latest');
    const update = (await waitFor(() => conn.eventsOf('session.update')[0], 5000, 'session.update')).session;
    expect(update.audio).toEqual({ input: { format: { type: 'audio/pcm', rate: 24000 } }, output: { format: { type: 'audio/pcm', rate: 24000 } } });
    expect(update.turn_detection).toEqual({ type: 'server_vad' });
    expect(update.voice).toBeUndefined();
    expect(update.tools.map((t: { name: string }) => t.name)).toEqual(['end_call']);
    // A turn over the resampled audio is heard and answered.
    say(engine!, host.inputFormat, 400, 600);
    await waitFor(() => host.transcripts.find((t) => t.role === 'agent'), 5000, 'answer');
    expect(errorsFromFake()).toEqual([]);
  });

  it('passes the caller μ-law through byte for byte and plays xAI μ-law untouched; the full greeting lands in the transcript', async () => {
    const host = await start({ agent: { firstMessage: 'Hi there!' } });
    const conn = fake.latest()!;
    const greeting = await waitFor(() => host.transcripts.find((t) => t.role === 'agent'), 5000, 'greeting');
    // xAI's transcript.done carries no text: the dialect assembled it from the deltas.
    expect(greeting.text).toBe('Hi there!');
    const frames = say(engine!, host.inputFormat, 200);
    await waitFor(() => conn.appendedBytes >= 1600, 5000, 'caller audio');
    expect(Buffer.concat(conn.inputChunks)).toEqual(Buffer.concat(frames));
    const item = conn.items.find((i) => i.role === 'assistant')!;
    const played = host.playback.audioOf(item.id);
    const sentByXai = Buffer.concat(
      conn.sent.filter((e) => e['type'] === 'response.output_audio.delta' && e['item_id'] === item.id).map((e) => Buffer.from(String(e['delta']), 'base64')),
    );
    expect(played).toEqual(sentByXai);
  });

  it('barge-in: clears playback and cancels; no truncate event (xAI has none) but the model is told what was heard, and the transcript is cut to it', async () => {
    script = [{ transcript: LONG_GREETING, audioMs: 3000 }, { transcript: 'Of course.' }];
    const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, provider: 'xai', agent: { firstMessage: 'Welcome!' } });
    host.playback.autoPlay = false;
    engine = createRealtimeEngine(host);
    await engine.prepare();
    await engine.start();
    const conn = fake.latest()!;
    const item = await waitFor(() => conn.items.find((i) => i.role === 'assistant' && i.audioMs >= 800), 5000, 'greeting audio');
    host.playback.hear(item.id, 430);
    say(engine, host.inputFormat, 200);
    await waitFor(() => conn.eventsOf('response.cancel').length === 1, 5000, 'cancel');
    expect(host.playback.clears).toHaveLength(1);
    expect(conn.cancels[0]!.responseId).not.toBeNull();

    const agent = await waitFor(() => host.transcripts.find((t) => t.role === 'agent'), 5000, 'interrupted item');
    expect(agent.interrupted).toBe(true);
    expect(LONG_GREETING.startsWith(agent.text)).toBe(true);
    expect(agent.text.length).toBeGreaterThan(0);
    expect(agent.text.length).toBeLessThan(LONG_GREETING.length / 2);

    expect(conn.eventsOf('conversation.item.truncate')).toEqual([]);
    const told = await waitFor(() => conn.eventsOf('conversation.item.create').find((e) => e.item.role === 'system'), 5000, 'heard note');
    expect(told.item.content).toEqual([{ type: 'input_text', text: expect.stringContaining(`"${agent.text.trim()}"`) }]);

    // The caller's turn is answered after the cut, and nothing the fake sent was an error.
    say(engine, host.inputFormat, 200, 600);
    const answer = await waitFor(() => conn.items.find((i) => i.role === 'assistant' && i.text === 'Of course.'), 5000, 'answer after barge-in');
    await waitFor(() => host.playback.utterances.get(answer.id)?.finished, 5000, 'answer audio');
    host.playback.playOut(answer.id);
    await waitFor(() => host.transcripts.find((t) => t.role === 'agent' && t.text === 'Of course.'), 5000, 'answer in the transcript');
    expect(errorsFromFake()).toEqual([]);
  });

  it("a cancel that loses the race gets xAI's own error, which counts as harmless like OpenAI's", async () => {
    const host = await start({ agent: { firstMessage: null } });
    const conn = fake.latest()!;
    await waitFor(() => conn.eventsOf('session.update').length === 1, 5000, 'session.update');
    conn.sendRaw({ type: 'error', error: { type: 'invalid_request_error', message: 'Cancellation failed: no active response found' } });
    conn.sendRaw({ type: 'ping', timestamp: 1 });
    conn.sendRaw({ type: 'error', error: { type: 'invalid_request_error', code: 'bad_thing', message: 'Something else' } });
    await waitFor(() => host.notes.some((n) => n.includes('bad_thing')), 5000, 'the real error noted');
    const errors = await host.metrics.providerErrors.get();
    expect(errors.values.filter((v) => v.value > 0)).toEqual([expect.objectContaining({ labels: { provider: 'xai_realtime', kind: 'bad_thing' }, value: 1 })]);
    expect(host.notes.filter((n) => n.startsWith('realtime provider error'))).toEqual(['realtime provider error: bad_thing: Something else']);
    const malformed = await host.metrics.malformed.get();
    expect(malformed.values.filter((v) => v.value > 0)).toEqual([]);
  });

  it('runs a tool the model calls and answers with its output', async () => {
    script = [{ functionCall: { name: 'end_call', arguments: '{}', callId: 'call_x1' } }, { transcript: 'Goodbye!' }];
    const host = await start({ agent: { firstMessage: null } });
    const conn = fake.latest()!;
    await waitFor(() => conn.eventsOf('session.update').length === 1, 5000, 'session.update');
    conn.simulateTurn();
    await waitFor(() => host.ended.length === 1, 5000, 'hang-up after the goodbye');
    const output = conn.eventsOf('conversation.item.create').find((e) => e.item.type === 'function_call_output');
    expect(output!.item).toMatchObject({ type: 'function_call_output', call_id: 'call_x1' });
    expect(host.transcripts.find((t) => t.role === 'agent' && t.text === 'Goodbye!')).toBeTruthy();
    expect(errorsFromFake()).toEqual([]);
  });

  it('reconnects a dropped xAI session with the xAI session shape and the conversation replayed', async () => {
    fake.userTranscripts.push('I need to reschedule.');
    const host = await start({ variables: { name: 'Sam' } });
    await waitFor(() => host.transcripts.length === 1, 5000, 'greeting');
    say(engine!, host.inputFormat, 400, 600);
    await waitFor(() => host.transcripts.find((t) => t.role === 'agent' && t.text === 'Sure, I can help with that.'), 5000, 'first answer');
    fake.dropSocket();
    await waitFor(() => fake.connections.length === 2 && host.notes.includes('realtime session reconnected'), 5000, 'reconnect');
    const second = fake.connections[1]!;
    await waitFor(() => second.eventsOf('conversation.item.create').length === 3, 5000, 'history replayed');
    expect(second.eventsOf('session.update')[0]!.session).toMatchObject({ instructions: 'You help Sam.', turn_detection: { type: 'server_vad' } });
    expect(second.eventsOf('conversation.item.create').map((e) => e.item.content[0].text)).toEqual(['Hello Sam!', 'I need to reschedule.', 'Sure, I can help with that.']);
    expect(host.ended).toEqual([]);
    const reconnects = await host.metrics.providerReconnects.get();
    expect(reconnects.values).toEqual([expect.objectContaining({ labels: { provider: 'xai_realtime' }, value: 1 })]);
    expect(errorsFromFake()).toEqual([]);
  });

  it('an xAI session that cannot be reopened: the caller hears the apology, then error:realtime_disconnected', async () => {
    const tts = await startFakeOpenAiAudio({ msPerChar: 20 });
    try {
      const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, provider: 'xai' });
      Object.assign(host.config.providers, { openaiCompatible: { ttsBaseUrl: tts.url, ttsApiKey: 'sk-audio' } });
      engine = createRealtimeEngine(host, { reconnectBackoffMs: [0, 50, 100] });
      await engine.prepare();
      await engine.start();
      await waitFor(() => host.transcripts.length === 1, 5000, 'greeting');
      host.playback.autoPlay = false;
      fake.refuseConnections = true;
      fake.dropSocket();
      await waitFor(() => host.playback.utterances.get(APOLOGY_UTTERANCE_ID)?.finished, 10_000, 'the apology handed to playback');
      expect(tts.speech.map((r) => r.body.input)).toEqual([APOLOGY]);
      expect(host.ended).toEqual([]);
      host.playback.playOut(APOLOGY_UTTERANCE_ID);
      await waitFor(() => host.ended.length === 1, 5000, 'end');
      expect(host.ended).toEqual(['error:realtime_disconnected']);
      expect(fake.refused).toBeGreaterThan(0);
    } finally {
      await tts.close();
    }
  });

  it('without XAI_API_KEY the call ends with error:xai_not_configured, and the OpenAI key does not stand in for it', async () => {
    const host = makeHost({ realtimeUrl: fake.url, provider: 'xai' });
    host.config.providers.openai.apiKey = 'sk-openai-is-set';
    engine = createRealtimeEngine(host);
    await engine.prepare();
    await engine.start();
    expect(host.ended).toEqual(['error:xai_not_configured']);
    expect(host.notes).toContain('realtime provider not configured (XAI_API_KEY is not set)');
    expect(fake.connections).toHaveLength(0);
  });

  it('refuses a wrong key at the handshake like xAI (the call cannot open a session)', async () => {
    const host = await start({ apiKey: 'wrong-key', agent: { firstMessage: null } });
    expect(fake.refused).toBeGreaterThan(0);
    expect(host.ended).toEqual(['error:realtime_unavailable']);
  });
});
