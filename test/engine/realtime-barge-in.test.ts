import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRealtimeEngine } from '../../src/engine/realtime.js';
import type { Engine } from '../../src/engine/types.js';
import { startFakeRealtime, waitFor, type FakeRealtimeServer } from '../fakes/openai-realtime.js';
import { makeHost, type TestHost } from './realtime-host.js';
import { say } from './realtime-caller.js';

const LONG_GREETING = 'Welcome to Acme support, I can help you with bookings, refunds and anything else you need today.';

describe('realtime engine: barge-in', () => {
  let fake: FakeRealtimeServer;
  let engine: Engine | null = null;
  let host: TestHost;
  beforeEach(async () => {
    // 3 s of greeting audio produced at 2x real time, so the caller can cut in while it streams.
    fake = await startFakeRealtime({
      responder: (ctx) => (ctx.trigger === 'response.create' ? { transcript: LONG_GREETING, audioMs: 3000 } : { transcript: 'Of course.' }),
    });
  });
  afterEach(async () => {
    await engine?.close();
    engine = null;
    await fake.close();
  });

  const startCall = async (agent: Parameters<typeof makeHost>[0]['agent'] = {}): Promise<void> => {
    host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, agent: { firstMessage: 'Welcome!', ...agent } });
    host.playback.autoPlay = false;
    engine = createRealtimeEngine(host);
    await engine.prepare();
    await engine.start();
  };

  it('clears playback, cancels the live response and truncates to exactly what was heard', async () => {
    await startCall();
    const conn = fake.latest()!;
    const item = await waitFor(() => conn.items.find((i) => i.role === 'assistant' && i.audioMs >= 800), 5000, 'greeting audio');
    host.playback.hear(item.id, 430); // marks say the caller heard 430 ms
    say(engine!, host.inputFormat, 200);
    const truncation = await waitFor(() => conn.truncations[0], 5000, 'truncate');
    expect(host.playback.clears).toHaveLength(1);
    expect(conn.eventsOf('response.cancel')).toHaveLength(1);
    expect(conn.cancels[0]!.responseId).not.toBeNull(); // it was live: no error from the fake
    expect(truncation).toEqual({ itemId: item.id, audioEndMs: 430, accepted: true });
    expect(conn.eventsOf('conversation.item.truncate')[0]).toMatchObject({ item_id: item.id, content_index: 0, audio_end_ms: 430 });
    const bargeIns = await host.metrics.bargeIns.get();
    expect(bargeIns.values).toEqual([expect.objectContaining({ labels: { engine: 'realtime' }, value: 1 })]);

    const agent = await waitFor(() => host.transcripts.find((t) => t.role === 'agent'), 5000, 'interrupted item');
    expect(agent.interrupted).toBe(true);
    expect(agent.text.length).toBeGreaterThan(0);
    expect(LONG_GREETING.startsWith(agent.text)).toBe(true);
    expect(agent.text.length).toBeLessThan(LONG_GREETING.length / 2);
  });

  it('never truncates past the audio the provider produced, whatever playback claims', async () => {
    await startCall();
    const conn = fake.latest()!;
    const item = await waitFor(() => conn.items.find((i) => i.role === 'assistant' && i.audioMs >= 500), 5000, 'greeting audio');
    // A playback position beyond the produced audio (e.g. a resampler's rounding) must be clamped.
    const u = host.playback.utterances.get(item.id)!;
    host.playback.hear(item.id, 10_000);
    u.bytes += 8 * 5000; // claims 5 s more was sent than was produced
    host.playback.hear(item.id, 10_000);
    say(engine!, host.inputFormat, 100);
    const truncation = await waitFor(() => conn.truncations[0], 5000, 'truncate');
    expect(truncation.accepted).toBe(true);
    expect(truncation.audioEndMs).toBeLessThanOrEqual(Math.floor(item.audioMs));
    expect(conn.sent.filter((e) => e['type'] === 'error')).toEqual([]);
  });

  it('drops late audio of the cancelled response and answers the caller afterwards', async () => {
    fake.deltasAfterCancel = 3;
    await startCall();
    const conn = fake.latest()!;
    const item = await waitFor(() => conn.items.find((i) => i.role === 'assistant' && i.audioMs >= 300), 5000, 'greeting audio');
    host.playback.hear(item.id, 100);
    say(engine!, host.inputFormat, 300, 600);
    await waitFor(() => conn.truncations[0], 5000, 'truncate');
    const bytesAtBargeIn = host.playback.utterances.get(item.id)!.bytes;
    host.playback.autoPlay = true;
    const reply = await waitFor(() => host.transcripts.find((t) => t.role === 'agent' && t.text === 'Of course.'), 5000, 'reply');
    expect(reply.interrupted).toBeUndefined();
    expect(host.playback.utterances.get(item.id)!.bytes).toBe(bytesAtBargeIn);
    expect(host.playback.lateEnqueues).toBe(0);
    expect(conn.sent.filter((e) => e['type'] === 'response.output_audio.delta' && e['item_id'] === item.id).length).toBeGreaterThan(
      host.playback.utterances.get(item.id)!.bytes / (8 * fake.options.chunkMs),
    );
    expect(host.transcripts.find((t) => t.role === 'user')).toMatchObject({ text: 'hello' });
  });

  it('an agent that is not interruptible keeps talking over the caller', async () => {
    await startCall({ turnDetection: { interruptible: false } });
    const conn = fake.latest()!;
    await waitFor(() => conn.items.find((i) => i.role === 'assistant' && i.audioMs >= 300), 5000, 'greeting audio');
    say(engine!, host.inputFormat, 200);
    await waitFor(() => conn.sent.some((e) => e['type'] === 'input_audio_buffer.speech_started'), 5000, 'speech_started');
    await waitFor(() => conn.sent.some((e) => e['type'] === 'response.done'), 5000, 'greeting done');
    expect(host.playback.clears).toHaveLength(0);
    expect(conn.eventsOf('response.cancel')).toHaveLength(0);
    expect(conn.truncations).toHaveLength(0);
  });

  it('a rejected truncate is noted and the call goes on', async () => {
    await startCall();
    fake.rejectTruncates = true;
    const conn = fake.latest()!;
    const item = await waitFor(() => conn.items.find((i) => i.role === 'assistant' && i.audioMs >= 300), 5000, 'greeting audio');
    host.playback.hear(item.id, 200);
    host.playback.autoPlay = true;
    say(engine!, host.inputFormat, 300, 600);
    await waitFor(() => host.notes.find((n) => n.startsWith('realtime truncate rejected')), 5000, 'note');
    await waitFor(() => host.transcripts.find((t) => t.text === 'Of course.'), 5000, 'reply after the rejection');
    expect(host.ended).toEqual([]);
  });
});
