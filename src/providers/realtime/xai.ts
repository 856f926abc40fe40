/**
 * xAI's Grok Voice Agent API: OpenAI Realtime's GA event names with xAI's own session shape.
 * The socket, batching and event parsing are openai.ts's; this file holds only the differences.
 *
 * Sources: docs.x.ai/docs/guides/voice/agent ("Voice Agent API": session parameters, voices,
 * audio formats, client/server events), and pipecat-ai/pipecat
 * src/pipecat/services/xai/realtime/{events,llm}.py (a maintained client of it). Each fact below
 * names the one it comes from.
 * - The model is a query parameter, `?model=`; xAI cannot change it by `session.update`
 *   (pipecat llm.py `_connect`). openai.ts already connects that way.
 * - The first server event is `conversation.created`, not `session.created` (pipecat events.py
 *   `ConversationCreated`: "the first message received after connecting"; Voximplant's Grok
 *   `VoiceAgentAPIEvents` says the same).
 * - Session: `instructions`, `voice`, `turn_detection`, `tools` at the top level and
 *   `audio.{input,output}.format` as `{type, rate?}`; no `type: "realtime"`, no
 *   `output_modalities`, no `tool_choice` (docs.x.ai "Session Parameters"; pipecat
 *   `SessionProperties`, `AudioConfiguration`).
 * - Formats: `audio/pcm` at 8000–48000 Hz (default 24 kHz), `audio/pcmu` and `audio/pcma` at
 *   8 kHz (docs.x.ai "Supported Audio Formats"). So a phone call's μ-law passes through untouched
 *   both ways, as with OpenAI; web calls use PCM16 at 24 kHz, which xAI also accepts.
 * - Turn detection: `server_vad` with `threshold` (0.1–0.9), `prefix_padding_ms` and
 *   `silence_duration_ms` (0–10000), or null for manual turns; no semantic VAD and no
 *   `create_response` / `interrupt_response` switches (pipecat `TurnDetection`).
 * - Input transcription needs no model: `conversation.item.input_audio_transcription.completed`
 *   arrives as with OpenAI; naming a `model` switches the server to an `…updated` event
 *   (pipecat `InputAudioTranscription`), so none is sent.
 * - Voices: Ara (the default), Rex, Sal, Eve, Leo (docs.x.ai "Voice Options"); ids are
 *   case-insensitive (pipecat events.py `GrokVoice`).
 * - Tools: `{type: "function", name, description, parameters}`, and the same
 *   `response.function_call_arguments.done` / `function_call_output` items as OpenAI (pipecat).
 * - No `conversation.item.truncate`: the documented client events are `session.update`,
 *   `input_audio_buffer.append|commit|clear`, `conversation.item.create`, `response.create`,
 *   `response.cancel` (docs.x.ai "Client Events"), and pipecat's truncate is a no-op ("Grok may
 *   not support truncation"). After a barge-in the model is told in a system item what the
 *   caller heard instead; the gateway's own transcript is cut from playback marks either way.
 * - `response.cancel` exists; with nothing live it answers an `error` whose code is not
 *   OpenAI's, message "Cancellation failed: no active response found" (pipecat llm.py, receive
 *   loop). Such errors are mapped to OpenAI's codes so the engine treats the races alike.
 * - `response.output_audio_transcript.done` has no `transcript` in pipecat's model of it: the
 *   text is assembled from the deltas when it is missing.
 * - `ping` keep-alives arrive now and then (pipecat `PingEvent`); they are ignored.
 */
import type { RealtimeSession, RealtimeSessionConfig, RealtimeSessionOptions } from './types.js';
import type { ParsedServerEvent } from './openai-events.js';
import { OpenAiRealtimeSession } from './openai.js';

/** pipecat's default and xAI's current voice model (LiteLLM's xAI page: the recommended one). */
export const XAI_DEFAULT_MODEL = 'grok-voice-think-fast-1.0';
/** docs.x.ai "Voice Options". */
export const XAI_VOICES = ['Ara', 'Rex', 'Sal', 'Eve', 'Leo'] as const;
/** `turn_detection.threshold` range (pipecat `TurnDetection`: 0.1–0.9). */
const THRESHOLD_MIN = 0.1;
const THRESHOLD_MAX = 0.9;
/** `prefix_padding_ms` / `silence_duration_ms` range (pipecat `TurnDetection`). */
const DURATION_MAX_MS = 10_000;
/** The PCM rate the engine bridges web calls at (also xAI's default rate). */
const PCM_RATE = 24000;

export function createXaiRealtimeSession(options: RealtimeSessionOptions): RealtimeSession {
  return new XaiRealtimeSession(options);
}

class XaiRealtimeSession extends OpenAiRealtimeSession {
  /** Output transcript so far per item, for a `…transcript.done` that carries none. */
  private readonly transcripts = new Map<string, { responseId: string; text: string }>();

  override updateSession(config: RealtimeSessionConfig): void {
    this.send('session.update', { session: xaiSessionPayload(config) });
  }

  /** No truncate event in xAI's API: the model learns in words what the caller heard. */
  override truncate(_itemId: string, _contentIndex: number, _audioEndMs: number, heardText?: string): string {
    const heard = heardText?.trim() ?? '';
    const text = heard
      ? `[The caller interrupted your last reply. They heard only this much of it: "${heard.replace(/"/g, "'")}"]`
      : '[The caller interrupted your last reply before hearing any of it.]';
    return this.createItem({ type: 'message', role: 'system', text });
  }

  protected override parseEvent(raw: unknown): ParsedServerEvent {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return super.parseEvent(raw);
    const e = raw as Record<string, unknown>;
    switch (e['type']) {
      case 'conversation.created':
        return { kind: 'event', event: { type: 'session.created' } };
      case 'ping':
      case 'conversation.item.input_audio_transcription.updated':
        return { kind: 'ignored' };
      case 'response.output_audio_transcript.delta':
      case 'response.audio_transcript.delta': {
        const itemId = typeof e['item_id'] === 'string' ? e['item_id'] : null;
        if (itemId && typeof e['delta'] === 'string') {
          const t = this.transcripts.get(itemId) ?? { responseId: String(e['response_id'] ?? ''), text: '' };
          t.text += e['delta'];
          this.transcripts.set(itemId, t);
        }
        return super.parseEvent(raw);
      }
      case 'response.output_audio_transcript.done':
      case 'response.audio_transcript.done': {
        const itemId = typeof e['item_id'] === 'string' ? e['item_id'] : '';
        const soFar = this.transcripts.get(itemId)?.text ?? '';
        this.transcripts.delete(itemId);
        return super.parseEvent(typeof e['transcript'] === 'string' ? raw : { ...e, transcript: soFar });
      }
      case 'response.done': {
        // Items of a cancelled response may never see their `…transcript.done`.
        const r = e['response'] as Record<string, unknown> | undefined;
        const id = typeof r?.['id'] === 'string' ? r['id'] : null;
        if (id) for (const [item, t] of this.transcripts) if (t.responseId === id) this.transcripts.delete(item);
        return super.parseEvent(raw);
      }
      case 'error':
        return super.parseEvent(withOpenAiErrorCode(e));
      default:
        return super.parseEvent(raw);
    }
  }
}

/** xAI's race errors carry their own codes; the message says which OpenAI race it is (pipecat). */
function withOpenAiErrorCode(e: Record<string, unknown>): Record<string, unknown> {
  const err = typeof e['error'] === 'object' && e['error'] !== null ? (e['error'] as Record<string, unknown>) : {};
  const message = typeof err['message'] === 'string' ? err['message'].toLowerCase() : '';
  let code: string | null = null;
  if (message.includes('no active response')) code = 'response_cancel_not_active';
  else if (message.includes('already has an active response')) code = 'conversation_already_has_active_response';
  return code ? { ...e, error: { ...err, code } } : e;
}

/** xAI's `session.update` body (docs.x.ai "Session Parameters"; pipecat `SessionProperties`). */
export function xaiSessionPayload(config: RealtimeSessionConfig): Record<string, unknown> {
  const format = config.format === 'pcmu' ? { type: 'audio/pcmu' } : { type: 'audio/pcm', rate: PCM_RATE };
  const td = config.turnDetection;
  // No semantic VAD at xAI: plain server VAD with the server's own defaults stands in for it.
  const turnDetection: Record<string, unknown> = { type: 'server_vad' };
  if (td.type === 'server_vad') {
    if (td.threshold !== undefined) turnDetection['threshold'] = clamp(td.threshold, THRESHOLD_MIN, THRESHOLD_MAX);
    if (td.silenceMs !== undefined) turnDetection['silence_duration_ms'] = Math.round(clamp(td.silenceMs, 0, DURATION_MAX_MS));
    if (td.prefixPaddingMs !== undefined) turnDetection['prefix_padding_ms'] = Math.round(clamp(td.prefixPaddingMs, 0, DURATION_MAX_MS));
  }
  const session: Record<string, unknown> = {
    instructions: config.instructions,
    turn_detection: turnDetection,
    audio: { input: { format }, output: { format } },
    tools: config.tools.map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.parameters })),
  };
  if (config.voice) session['voice'] = config.voice;
  return session;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
