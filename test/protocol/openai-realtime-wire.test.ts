/**
 * OpenAI Realtime GA on the wire (PROTOCOLS.md §5; docs/protocols-audit.md): everything the
 * bridge sends is accepted by a fake that refuses what the GA API refuses (unknown session
 * parameters, wrong content part types per role), and every GA server event is either mapped
 * or knowingly ignored — none is counted as malformed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiRealtimeSession, parseServerEvent, sessionPayload } from '../../src/providers/realtime/index.js';
import { startFakeRealtime, waitFor, type FakeRealtimeServer } from '../fakes/openai-realtime.js';

describe('OpenAI Realtime GA wire protocol', () => {
  let fake: FakeRealtimeServer;
  beforeEach(async () => {
    fake = await startFakeRealtime();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('session.update, items of every role, tool output, cancel and truncate draw no error but the expected ones', async () => {
    const session = createOpenAiRealtimeSession({ url: fake.url, apiKey: fake.apiKey, model: 'gpt-realtime' });
    await session.connect(new AbortController().signal);
    const conn = fake.latest()!;
    session.updateSession({
      instructions: 'Be brief.',
      voice: 'marin',
      format: 'pcmu',
      turnDetection: { type: 'server_vad', threshold: 0.6, silenceMs: 400 },
      transcriptionModel: 'gpt-4o-mini-transcribe',
      tools: [{ name: 'lookup', description: 'Find', parameters: { type: 'object', properties: {} } }],
    });
    await waitFor(() => conn.sent.find((e) => e['type'] === 'session.updated'), 5000, 'session.updated');
    session.createItem({ type: 'message', role: 'system', text: 'Earlier: hi' });
    session.createItem({ type: 'message', role: 'user', text: 'hello' });
    session.createItem({ type: 'message', role: 'assistant', text: 'hi there' });
    session.createItem({ type: 'function_call_output', callId: 'call_1', output: '{"ok":true}' });
    const cancelId = session.cancelResponse(); // nothing live: the API's harmless error
    await waitFor(() => conn.sent.filter((e) => e['type'] === 'conversation.item.done').length === 4 && conn.sent.some((e) => e['type'] === 'error'), 5000, 'items');
    const errors = conn.sent.filter((e) => e['type'] === 'error') as Array<{ error: { code: string; event_id: string } }>;
    expect(errors.map((e) => [e.error.code, e.error.event_id])).toEqual([['response_cancel_not_active', cancelId]]);
    expect(conn.session['audio']).toMatchObject({ input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' }, voice: 'marin' } });
    session.close();
  });

  it('the fake refuses a beta-shaped session and wrong content types, as the GA API does', async () => {
    const session = createOpenAiRealtimeSession({ url: fake.url, apiKey: fake.apiKey, model: 'gpt-realtime' });
    await session.connect(new AbortController().signal);
    const conn = fake.latest()!;
    conn['onMessage'](JSON.stringify({ type: 'session.update', event_id: 'b1', session: { type: 'realtime', voice: 'alloy', input_audio_format: 'g711_ulaw' } }));
    conn['onMessage'](JSON.stringify({ type: 'conversation.item.create', event_id: 'b2', item: { type: 'message', role: 'assistant', content: [{ type: 'input_text', text: 'x' }] } }));
    const errors = conn.sent.filter((e) => e['type'] === 'error') as Array<{ error: { code: string; message: string } }>;
    expect(errors.map((e) => e.error.code)).toEqual(['unknown_parameter', 'invalid_value']);
    expect(errors[0]!.error.message).toBe("Unknown parameter: 'session.voice'.");
    session.close();
  });

  it('GA session.update shape: type realtime, audio.input/output, no beta keys', () => {
    const s = sessionPayload({ instructions: 'x', format: 'pcm24k', turnDetection: { type: 'semantic_vad', eagerness: 'auto' }, transcriptionModel: 'm', tools: [] });
    expect(Object.keys(s).sort()).toEqual(['audio', 'instructions', 'output_modalities', 'tool_choice', 'tools', 'type']);
    expect(s['type']).toBe('realtime');
    expect((s['audio'] as { output: { format: unknown } }).output.format).toEqual({ type: 'audio/pcm', rate: 24000 });
  });

  it('every server event type in openai-node GA RealtimeServerEvent is mapped or ignored, never malformed', () => {
    const ga = [
      'conversation.created', 'conversation.item.created', 'conversation.item.deleted', 'conversation.item.input_audio_transcription.completed',
      'conversation.item.input_audio_transcription.delta', 'conversation.item.input_audio_transcription.failed', 'conversation.item.retrieved',
      'conversation.item.truncated', 'error', 'input_audio_buffer.cleared', 'input_audio_buffer.committed', 'input_audio_buffer.dtmf_event_received',
      'input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped', 'rate_limits.updated', 'response.output_audio.delta',
      'response.output_audio.done', 'response.output_audio_transcript.delta', 'response.output_audio_transcript.done', 'response.content_part.added',
      'response.content_part.done', 'response.created', 'response.done', 'response.function_call_arguments.delta', 'response.function_call_arguments.done',
      'response.output_item.added', 'response.output_item.done', 'response.output_text.delta', 'response.output_text.done', 'session.created',
      'session.updated', 'output_audio_buffer.started', 'output_audio_buffer.stopped', 'output_audio_buffer.cleared', 'conversation.item.added',
      'conversation.item.done', 'input_audio_buffer.timeout_triggered', 'conversation.item.input_audio_transcription.segment',
      'mcp_list_tools.in_progress', 'mcp_list_tools.completed', 'mcp_list_tools.failed', 'response.mcp_call_arguments.delta',
      'response.mcp_call_arguments.done', 'response.mcp_call.in_progress', 'response.mcp_call.completed', 'response.mcp_call.failed',
    ];
    // A complete, well-formed example of each: the ids and payload fields the mapped ones need.
    const full = { item_id: 'i', response_id: 'r', call_id: 'c', name: 'n', arguments: '{}', delta: '', transcript: '', response: { id: 'r', status: 'completed' }, error: {} };
    for (const type of ga) expect([type, parseServerEvent({ type, event_id: 'e', ...full }).kind]).not.toEqual([type, 'malformed']);
  });
});
