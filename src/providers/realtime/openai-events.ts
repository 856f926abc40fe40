/**
 * Server events of the OpenAI Realtime API (GA names, PROTOCOLS.md §5.4) mapped to the typed
 * `RealtimeEvent`s the engine needs. Pure: no I/O, so malformed input is easy to test. Events we
 * know but do not need are ignored quietly; unknown or malformed ones are reported for counting.
 */
import type { RealtimeEvent, ResponseStatus } from './types.js';

export type ParsedServerEvent =
  | { kind: 'event'; event: RealtimeEvent }
  | { kind: 'ignored' }
  | { kind: 'malformed'; reason: 'unknown_event' | 'missing_field' };

/** Known events the bridge has no use for (the beta names too, in case a server still sends them). */
const IGNORED = new Set([
  'input_audio_buffer.committed',
  'input_audio_buffer.cleared',
  'input_audio_buffer.timeout_triggered',
  'conversation.item.added',
  'conversation.item.done',
  'conversation.item.created',
  'conversation.item.retrieved',
  'conversation.item.deleted',
  'conversation.item.input_audio_transcription.delta',
  'conversation.item.input_audio_transcription.segment',
  'conversation.item.input_audio_transcription.failed',
  'response.output_item.added',
  'response.output_item.done',
  'response.content_part.added',
  'response.content_part.done',
  'response.output_text.delta',
  'response.output_text.done',
  'response.function_call_arguments.delta',
  'rate_limits.updated',
  'output_audio_buffer.started',
  'output_audio_buffer.stopped',
  'output_audio_buffer.cleared',
  // The rest of openai-node's GA `RealtimeServerEvent` union (resources/realtime/realtime.ts):
  // valid server events that a bridge without MCP tools or DTMF over SIP never needs.
  'conversation.created',
  'input_audio_buffer.dtmf_event_received',
  'mcp_list_tools.in_progress',
  'mcp_list_tools.completed',
  'mcp_list_tools.failed',
  'response.mcp_call_arguments.delta',
  'response.mcp_call_arguments.done',
  'response.mcp_call.in_progress',
  'response.mcp_call.completed',
  'response.mcp_call.failed',
]);

const RESPONSE_STATUSES = new Set<ResponseStatus>(['completed', 'cancelled', 'failed', 'incomplete', 'in_progress']);

export function parseServerEvent(raw: unknown): ParsedServerEvent {
  if (!isObject(raw) || typeof raw['type'] !== 'string') return { kind: 'malformed', reason: 'missing_field' };
  const e = raw;
  const missing = { kind: 'malformed', reason: 'missing_field' } as const;
  const ok = (event: RealtimeEvent): ParsedServerEvent => ({ kind: 'event', event });
  switch (e['type']) {
    case 'session.created':
      return ok({ type: 'session.created' });
    case 'session.updated':
      return ok({ type: 'session.updated' });
    case 'input_audio_buffer.speech_started':
      return ok({ type: 'speech_started', itemId: str(e['item_id']) ?? '', audioStartMs: num(e['audio_start_ms']) ?? 0 });
    case 'input_audio_buffer.speech_stopped':
      return ok({ type: 'speech_stopped', itemId: str(e['item_id']) ?? '', audioEndMs: num(e['audio_end_ms']) ?? 0 });
    case 'response.created': {
      const id = isObject(e['response']) ? str(e['response']['id']) : null;
      return id ? ok({ type: 'response_created', responseId: id }) : missing;
    }
    case 'response.output_audio.delta':
    case 'response.audio.delta': {
      const itemId = str(e['item_id']);
      const delta = str(e['delta']);
      if (!itemId || delta === null) return missing;
      return ok({
        type: 'audio_delta',
        responseId: str(e['response_id']) ?? '',
        itemId,
        contentIndex: num(e['content_index']) ?? 0,
        audio: Buffer.from(delta, 'base64'),
      });
    }
    case 'response.output_audio.done':
    case 'response.audio.done': {
      const itemId = str(e['item_id']);
      if (!itemId) return missing;
      return ok({ type: 'audio_done', responseId: str(e['response_id']) ?? '', itemId, contentIndex: num(e['content_index']) ?? 0 });
    }
    case 'response.output_audio_transcript.delta':
    case 'response.audio_transcript.delta': {
      const itemId = str(e['item_id']);
      const delta = str(e['delta']);
      if (!itemId || delta === null) return missing;
      return ok({ type: 'transcript_delta', responseId: str(e['response_id']) ?? '', itemId, delta });
    }
    case 'response.output_audio_transcript.done':
    case 'response.audio_transcript.done': {
      const itemId = str(e['item_id']);
      const transcript = str(e['transcript']);
      if (!itemId || transcript === null) return missing;
      return ok({ type: 'transcript_done', responseId: str(e['response_id']) ?? '', itemId, transcript });
    }
    case 'conversation.item.input_audio_transcription.completed': {
      const itemId = str(e['item_id']);
      const transcript = str(e['transcript']);
      if (!itemId || transcript === null) return missing;
      return ok({ type: 'input_transcript', itemId, transcript });
    }
    case 'response.function_call_arguments.done': {
      const callId = str(e['call_id']);
      const name = str(e['name']);
      if (!callId || !name) return missing;
      return ok({
        type: 'function_call',
        responseId: str(e['response_id']) ?? '',
        itemId: str(e['item_id']) ?? '',
        callId,
        name,
        arguments: str(e['arguments']) ?? '',
      });
    }
    case 'response.done': {
      if (!isObject(e['response'])) return missing;
      const r = e['response'];
      const id = str(r['id']);
      if (!id) return missing;
      const status = str(r['status']) as ResponseStatus | null;
      const details = isObject(r['status_details']) ? r['status_details'] : null;
      return ok({
        type: 'response_done',
        responseId: id,
        status: status && RESPONSE_STATUSES.has(status) ? status : 'failed',
        reason: details ? str(details['reason']) : null,
      });
    }
    case 'conversation.item.truncated': {
      const itemId = str(e['item_id']);
      if (!itemId) return missing;
      return ok({ type: 'truncated', itemId, audioEndMs: num(e['audio_end_ms']) ?? 0 });
    }
    case 'error': {
      const err = isObject(e['error']) ? e['error'] : {};
      return ok({
        type: 'error',
        code: str(err['code']) ?? str(err['type']) ?? 'unknown',
        message: str(err['message']) ?? '',
        clientEventId: str(err['event_id']),
      });
    }
    default:
      return IGNORED.has(e['type'] as string) ? { kind: 'ignored' } : { kind: 'malformed', reason: 'unknown_event' };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
