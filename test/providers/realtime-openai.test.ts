import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiRealtimeSession, parseServerEvent, sessionPayload, type RealtimeEvent } from '../../src/providers/realtime/index.js';
import { startFakeRealtime, waitFor, type FakeRealtimeServer } from '../fakes/openai-realtime.js';

describe('OpenAI Realtime server events (GA names, PROTOCOLS.md §5.4)', () => {
  it('maps the events the bridge needs', () => {
    expect(parseServerEvent({ type: 'input_audio_buffer.speech_started', audio_start_ms: 10240, item_id: 'item_usr1' })).toEqual({
      kind: 'event',
      event: { type: 'speech_started', itemId: 'item_usr1', audioStartMs: 10240 },
    });
    const delta = parseServerEvent({ type: 'response.output_audio.delta', response_id: 'r', item_id: 'i', output_index: 0, content_index: 0, delta: '//////////8=' });
    expect(delta.kind === 'event' && delta.event.type === 'audio_delta' && delta.event.audio.equals(Buffer.alloc(8, 0xff))).toBe(true);
    expect(parseServerEvent({ type: 'response.function_call_arguments.done', response_id: 'r', item_id: 'i', call_id: 'call_abc', name: 'lookup', arguments: '{"a":1}' })).toEqual({
      kind: 'event',
      event: { type: 'function_call', responseId: 'r', itemId: 'i', callId: 'call_abc', name: 'lookup', arguments: '{"a":1}' },
    });
    expect(parseServerEvent({ type: 'response.done', response: { id: 'r', status: 'cancelled', status_details: { type: 'cancelled', reason: 'turn_detected' } } })).toEqual({
      kind: 'event',
      event: { type: 'response_done', responseId: 'r', status: 'cancelled', reason: 'turn_detected' },
    });
    expect(parseServerEvent({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'm', event_id: 'evt_vg_9' } })).toEqual({
      kind: 'event',
      event: { type: 'error', code: 'invalid_value', message: 'm', clientEventId: 'evt_vg_9' },
    });
  });

  it('reports malformed and unknown events, and quietly ignores known ones it does not need', () => {
    expect(parseServerEvent('nope')).toEqual({ kind: 'malformed', reason: 'missing_field' });
    expect(parseServerEvent({ type: 'response.output_audio.delta', item_id: 'i' })).toEqual({ kind: 'malformed', reason: 'missing_field' });
    expect(parseServerEvent({ type: 'response.done', response: {} })).toEqual({ kind: 'malformed', reason: 'missing_field' });
    expect(parseServerEvent({ type: 'conversation.item.input_audio_transcription.completed', item_id: 'i', transcript: 7 })).toEqual({ kind: 'malformed', reason: 'missing_field' });
    expect(parseServerEvent({ type: 'response.brand_new_thing' })).toEqual({ kind: 'malformed', reason: 'unknown_event' });
    expect(parseServerEvent({ type: 'rate_limits.updated', rate_limits: [] })).toEqual({ kind: 'ignored' });
  });
});

describe('OpenAI Realtime session.update (PROTOCOLS.md §5.2)', () => {
  const base = { instructions: 'Be brief.', transcriptionModel: 'gpt-4o-mini-transcribe', tools: [] };

  it('phone: pcmu both ways, server VAD numbers, the server does not cancel on its own', () => {
    const s = sessionPayload({ ...base, format: 'pcmu', voice: 'marin', turnDetection: { type: 'server_vad', threshold: 0.6, silenceMs: 700 } }) as any;
    expect(s.type).toBe('realtime');
    expect(s.output_modalities).toEqual(['audio']);
    expect(s.audio.input.format).toEqual({ type: 'audio/pcmu' });
    expect(s.audio.output).toEqual({ format: { type: 'audio/pcmu' }, voice: 'marin' });
    expect(s.audio.input.transcription).toEqual({ model: 'gpt-4o-mini-transcribe' });
    expect(s.audio.input.turn_detection).toEqual({
      type: 'server_vad', threshold: 0.6, prefix_padding_ms: 300, silence_duration_ms: 700, create_response: true, interrupt_response: false,
    });
  });

  it('web: PCM at 24 kHz; semantic VAD; tools as function tools', () => {
    const tools = [{ name: 'lookup', description: 'Look up', parameters: { type: 'object', properties: {} } }];
    const s = sessionPayload({ ...base, format: 'pcm24k', tools, turnDetection: { type: 'semantic_vad' } }) as any;
    expect(s.audio.input.format).toEqual({ type: 'audio/pcm', rate: 24000 });
    expect(s.audio.output.format).toEqual({ type: 'audio/pcm', rate: 24000 });
    expect(s.audio.output.voice).toBeUndefined();
    expect(s.audio.input.turn_detection).toMatchObject({ type: 'semantic_vad', eagerness: 'auto' });
    expect(s.tools).toEqual([{ type: 'function', name: 'lookup', description: 'Look up', parameters: { type: 'object', properties: {} } }]);
  });
});

describe('OpenAI Realtime session over ws', () => {
  let fake: FakeRealtimeServer;
  beforeEach(async () => {
    fake = await startFakeRealtime();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('connects with the model in the query and a Bearer key, and resolves on session.created', async () => {
    const session = createOpenAiRealtimeSession({ url: fake.url, apiKey: fake.apiKey, model: 'gpt-realtime-mini' });
    await session.connect(new AbortController().signal);
    expect(session.open).toBe(true);
    expect(fake.latest()!.model).toBe('gpt-realtime-mini');
    const id = session.truncate('item_x', 0, 12.7);
    await waitFor(() => fake.latest()!.eventsOf('conversation.item.truncate')[0], 5000, 'truncate');
    expect(fake.latest()!.eventsOf('conversation.item.truncate')[0]).toMatchObject({ event_id: id, audio_end_ms: 12 });
    session.close();
  });

  it('a wrong key is refused at the handshake and connect rejects', async () => {
    const session = createOpenAiRealtimeSession({ url: fake.url, apiKey: 'wrong', model: 'gpt-realtime' });
    await expect(session.connect(new AbortController().signal)).rejects.toThrow(/401/);
    expect(fake.refused).toBe(1);
  });

  it('tells a drop from its own close', async () => {
    const events: RealtimeEvent[] = [];
    const session = createOpenAiRealtimeSession({ url: fake.url, apiKey: fake.apiKey, model: 'gpt-realtime' });
    session.onEvent((e) => events.push(e));
    await session.connect(new AbortController().signal);
    fake.dropSocket();
    const closed = await waitFor(() => events.find((e) => e.type === 'closed'), 5000, 'closed');
    expect(closed).toMatchObject({ type: 'closed', byClient: false });

    const events2: RealtimeEvent[] = [];
    const own = createOpenAiRealtimeSession({ url: fake.url, apiKey: fake.apiKey, model: 'gpt-realtime' });
    own.onEvent((e) => events2.push(e));
    await own.connect(new AbortController().signal);
    own.close();
    expect(await waitFor(() => events2.find((e) => e.type === 'closed'), 5000, 'closed')).toMatchObject({ byClient: true });
  });

  it('sends each caller frame as its own append by default, byte for byte', async () => {
    const session = createOpenAiRealtimeSession({ url: fake.url, apiKey: fake.apiKey, model: 'gpt-realtime' });
    await session.connect(new AbortController().signal);
    const frames = [0, 1, 2].map((i) => Buffer.alloc(160, 0x10 + i));
    for (const f of frames) session.sendAudio(f);
    const conn = fake.latest()!;
    await waitFor(() => conn.eventsOf('input_audio_buffer.append').length === 3 || undefined, 5000, 'appends');
    expect(conn.eventsOf('input_audio_buffer.append').map((e) => e['bytes'])).toEqual([160, 160, 160]);
    expect(Buffer.concat(conn.inputChunks).equals(Buffer.concat(frames))).toBe(true);
    session.close();
  });

  it('with appendFrames n, sends n frames per append, in order, without keeping the caller buffers', async () => {
    const session = createOpenAiRealtimeSession({ url: fake.url, apiKey: fake.apiKey, model: 'gpt-realtime', appendFrames: 2 });
    await session.connect(new AbortController().signal);
    const scratch = Buffer.alloc(160);
    const sent: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      scratch.fill(0x20 + i); // the caller reuses its buffer: the session must have copied it
      sent.push(Buffer.from(scratch));
      session.sendAudio(scratch);
    }
    const conn = fake.latest()!;
    await waitFor(() => conn.eventsOf('input_audio_buffer.append').length === 2 || undefined, 5000, 'appends');
    // The fifth frame waits for its pair.
    expect(conn.eventsOf('input_audio_buffer.append').map((e) => e['bytes'])).toEqual([320, 320]);
    expect(Buffer.concat(conn.inputChunks).equals(Buffer.concat(sent.slice(0, 4)))).toBe(true);
    session.sendAudio(Buffer.alloc(960, 0x30)); // frames of another size (web PCM) grow the buffer
    await waitFor(() => conn.eventsOf('input_audio_buffer.append').length === 3 || undefined, 5000, 'third append');
    expect(conn.eventsOf('input_audio_buffer.append')[2]!['bytes']).toBe(160 + 960);
    expect(Buffer.concat(conn.inputChunks).equals(Buffer.concat([...sent, Buffer.alloc(960, 0x30)]))).toBe(true);
    session.close();
  });

  it('holds frames that can wait (up to five) and sends them, in order, ahead of the next that cannot', async () => {
    const session = createOpenAiRealtimeSession({ url: fake.url, apiKey: fake.apiKey, model: 'gpt-realtime' });
    await session.connect(new AbortController().signal);
    const frames = Array.from({ length: 8 }, (_, i) => Buffer.alloc(160, 0x40 + i));
    for (let i = 0; i < 7; i++) session.sendAudio(frames[i]!, true); // five go as one, two wait
    const conn = fake.latest()!;
    await waitFor(() => conn.eventsOf('input_audio_buffer.append').length === 1 || undefined, 5000, 'first batch');
    session.sendAudio(frames[7]!, false); // speech: goes now, with the two held before it
    await waitFor(() => conn.eventsOf('input_audio_buffer.append').length === 2 || undefined, 5000, 'flush');
    expect(conn.eventsOf('input_audio_buffer.append').map((e) => e['bytes'])).toEqual([800, 480]);
    expect(Buffer.concat(conn.inputChunks).equals(Buffer.concat(frames))).toBe(true);
    session.close();
  });

  it('counts malformed messages and keeps going', async () => {
    const malformed: string[] = [];
    const events: RealtimeEvent[] = [];
    const session = createOpenAiRealtimeSession({ url: fake.url, apiKey: fake.apiKey, model: 'gpt-realtime', onMalformed: (r) => malformed.push(r) });
    session.onEvent((e) => events.push(e));
    await session.connect(new AbortController().signal);
    const conn = fake.latest()!;
    conn.sendRaw('{{{');
    conn.sendRaw({ type: 'mystery.event' });
    conn.sendRaw({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 5, item_id: 'i' });
    await waitFor(() => events.find((e) => e.type === 'speech_stopped'), 5000, 'speech_stopped');
    expect(malformed).toEqual(['invalid_json', 'unknown_event']);
    session.close();
  });
});
