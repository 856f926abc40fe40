import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRealtimeEngine } from '../../src/engine/realtime.js';
import type { Engine } from '../../src/engine/types.js';
import { startFakeRealtime, waitFor, type FakeRealtimeServer } from '../fakes/openai-realtime.js';
import { makeHost, type TestHost } from './realtime-host.js';
import { say } from './realtime-caller.js';

describe('realtime engine: dropped sessions, provider errors, no provider', () => {
  let fake: FakeRealtimeServer;
  let engine: Engine | null = null;
  let host: TestHost;
  beforeEach(async () => {
    fake = await startFakeRealtime();
  });
  afterEach(async () => {
    await engine?.close();
    engine = null;
    await fake.close();
  });

  const startCall = async (opts: Partial<Parameters<typeof makeHost>[0]> = {}): Promise<void> => {
    host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, ...opts });
    engine = createRealtimeEngine(host, { reconnectBackoffMs: [0, 50, 100] });
    await engine.prepare();
    await engine.start();
  };

  it('reconnects after the provider drops the socket, restoring instructions and the conversation', async () => {
    fake.userTranscripts.push('I need to reschedule.');
    await startCall({ variables: { name: 'Sam' } });
    await waitFor(() => host.transcripts.length === 1, 5000, 'greeting');
    say(engine!, host.inputFormat, 400, 600);
    await waitFor(() => host.transcripts.find((t) => t.role === 'agent' && t.text === 'Sure, I can help with that.'), 5000, 'first answer');

    fake.dropSocket();
    await waitFor(() => fake.connections.length === 2 && host.notes.includes('realtime session reconnected'), 5000, 'reconnect');
    const second = fake.connections[1]!;
    await waitFor(() => second.eventsOf('conversation.item.create').length === 3, 5000, 'history replayed');
    expect(second.eventsOf('session.update')[0]!.session.instructions).toBe('You help Sam.');
    const replayed = second.eventsOf('conversation.item.create').map((e) => [e.item.role, e.item.content[0].type, e.item.content[0].text]);
    expect(replayed).toEqual([
      ['assistant', 'output_text', 'Hello Sam!'],
      ['user', 'input_text', 'I need to reschedule.'],
      ['assistant', 'output_text', 'Sure, I can help with that.'],
    ]);
    expect(host.ended).toEqual([]);

    // The call goes on over the new session.
    fake.userTranscripts.push('Next Tuesday.');
    say(engine!, host.inputFormat, 400, 600);
    await waitFor(() => host.transcripts.filter((t) => t.role === 'agent').length === 3, 5000, 'answer on the new session');
    expect(second.appendedBytes).toBeGreaterThan(0);
    const reconnects = await host.metrics.providerReconnects.get();
    expect(reconnects.values[0]!.value).toBe(1);
  });

  it('ends the call with a clear reason when the session cannot be reopened', async () => {
    await startCall();
    await waitFor(() => host.transcripts.length === 1, 5000, 'greeting');
    fake.refuseConnections = true;
    fake.dropSocket();
    await waitFor(() => host.ended.length === 1, 5000, 'end');
    expect(host.ended).toEqual(['error:realtime_disconnected']);
    expect(host.notes.join('\n')).toMatch(/could not be reopened/);
  });

  it('a socket that never opens ends the call with error:realtime_unavailable and a note', async () => {
    fake.refuseConnections = true;
    await startCall();
    expect(host.ended).toEqual(['error:realtime_unavailable']);
    expect(host.notes.join('\n')).toMatch(/realtime provider unavailable: .*503/);
    expect(fake.refused).toBe(3);
  });

  it('no API key ends the call with error:realtime_not_configured without dialling the provider', async () => {
    await startCall({ apiKey: undefined });
    expect(host.ended).toEqual(['error:realtime_not_configured']);
    expect(fake.connections).toHaveLength(0);
  });

  it('provider error events, malformed and unknown events are noted or counted, and the call goes on', async () => {
    await startCall({ agent: { firstMessage: null } });
    const conn = fake.latest()!;
    await waitFor(() => conn.eventsOf('session.update').length === 1, 5000, 'session.update');
    conn.sendRaw({ type: 'error', error: { type: 'server_error', code: 'server_error', message: 'The server had an error' } });
    conn.sendRaw('{not json');
    conn.sendRaw({ type: 'response.something_new', foo: 1 });
    conn.sendRaw({ type: 'response.output_audio.delta' }); // missing fields
    await waitFor(() => host.notes.find((n) => n.includes('server_error')), 5000, 'error note');
    const malformed = await host.metrics.malformed.get();
    const byReason = Object.fromEntries(malformed.values.map((v) => [v.labels.reason, v.value]));
    expect(byReason).toEqual({ invalid_json: 1, unknown_event: 1, missing_field: 1 });
    say(engine!, host.inputFormat, 400, 600);
    await waitFor(() => host.transcripts.find((t) => t.role === 'agent'), 5000, 'a normal turn afterwards');
    expect(host.ended).toEqual([]);
  });

  it('records the turn latency: speech stopped → first audio delta → first audio sent', async () => {
    await startCall({ agent: { firstMessage: null } });
    const conn = fake.latest()!;
    await waitFor(() => conn.eventsOf('session.update').length === 1, 5000, 'session.update');
    say(engine!, host.inputFormat, 400, 600);
    await waitFor(() => host.turns.length === 1, 5000, 'turn latency');
    const turn = host.turns[0]!;
    expect(turn.firstAudioDeltaMs).toBeGreaterThanOrEqual(0);
    expect(turn.firstAudioSentMs).toBeGreaterThanOrEqual(0);
    expect(turn.voiceToVoiceMs).toBe(turn.firstAudioDeltaMs! + turn.firstAudioSentMs!);
    expect(host.transcripts.find((t) => t.role === 'user')).toMatchObject({ text: 'hello' });
  });
});

describe('realtime engine: response races', () => {
  it('a greeting that loses the race to a VAD response is spoken once that response is done', async () => {
    const fake = await startFakeRealtime();
    const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey });
    const engine = createRealtimeEngine(host);
    try {
      await engine.prepare();
      const conn = fake.latest()!;
      await waitFor(() => conn.eventsOf('session.update').length === 1, 5000, 'session.update');
      conn.respond('vad', null, 'hi'); // the server's VAD answered first
      await engine.start();
      await waitFor(() => host.transcripts.find((t) => t.text === 'Hello friend!'), 5000, 'greeting after the race');
      const creates = conn.eventsOf('response.create');
      expect(creates).toHaveLength(2);
      expect(creates[1]!.response.instructions).toContain('"Hello friend!"');
      expect(host.notes).toEqual([]);
    } finally {
      await engine.close();
      await fake.close();
    }
  });
});
