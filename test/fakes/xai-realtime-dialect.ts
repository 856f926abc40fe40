/**
 * xAI's Grok Voice Agent dialect of the fake realtime server (`startFakeRealtime({ dialect:
 * 'xai' })`): the OpenAI fake's state machine with xAI's greeting, session shape and errors.
 *
 * Sources: docs.x.ai/docs/guides/voice/agent (session parameters, voices, audio formats, client
 * and server events) and pipecat-ai/pipecat src/pipecat/services/xai/realtime/events.py + llm.py.
 * - First events: `conversation.created` `{conversation: {id, object: "realtime.conversation"}}`
 *   (pipecat `ConversationCreated`: "the first message received after connecting"), then `ping`
 *   keep-alives `{timestamp}` (pipecat `PingEvent`).
 * - session.update keys: instructions, voice, turn_detection, audio {input {format,
 *   transcription}, output {format, speed}}, tools, reasoning (pipecat `SessionProperties`).
 *   Whether xAI refuses other keys is not documented; the fake refuses them (an OpenAI-shaped
 *   session, `type: "realtime"`, `output_modalities`…) so a wrong shape fails the tests.
 * - Formats: `audio/pcm` with `rate` one of 8000, 16000, 21050, 24000, 32000, 44100, 48000
 *   (pipecat `SUPPORTED_SAMPLE_RATES`; docs.x.ai: 8–48 kHz), `audio/pcmu`, `audio/pcma` (8 kHz).
 *   The fake's audio model handles 8 kHz μ-law and 24 kHz PCM only and says so for other rates.
 * - turn_detection: `{type: "server_vad", threshold 0.1–0.9, prefix_padding_ms, silence_duration_ms
 *   0–10000, idle_timeout_ms}` or null (pipecat `TurnDetection`).
 * - Voices: Ara, Rex, Sal, Eve, Leo (docs.x.ai "Voice Options"), case-insensitive (pipecat).
 *   An unknown voice is an error here; the real error text is not documented.
 * - No `conversation.item.truncate` (docs.x.ai client events): refused as an unknown event.
 * - A cancel with nothing live: an error whose code is not OpenAI's, message "Cancellation
 *   failed: no active response found" (pipecat llm.py receive loop). The real code is not
 *   documented, so the fake sends none.
 * - `speech_started` carries only `item_id`; `response.output_audio_transcript.done` carries no
 *   `transcript` (pipecat models of both).
 */

export const XAI_FAKE_VOICES = ['ara', 'rex', 'sal', 'eve', 'leo'];
const PCM_RATES = new Set([8000, 16000, 21050, 24000, 32000, 44100, 48000]);
const SESSION_KEYS = new Set(['instructions', 'voice', 'turn_detection', 'audio', 'tools', 'reasoning']);
const TURN_KEYS = new Set(['type', 'threshold', 'prefix_padding_ms', 'silence_duration_ms', 'idle_timeout_ms']);
const INPUT_KEYS = new Set(['format', 'transcription']);
const OUTPUT_KEYS = new Set(['format', 'speed']);
const TOOL_TYPES = new Set(['function', 'web_search', 'x_search', 'file_search']);

export const XAI_CANCEL_NOT_ACTIVE = { type: 'invalid_request_error', message: 'Cancellation failed: no active response found' };

export function xaiGreeting(conversationId: string): Array<Record<string, unknown>> {
  return [
    { type: 'conversation.created', conversation: { id: conversationId, object: 'realtime.conversation' } },
    { type: 'ping', timestamp: Date.now() },
  ];
}

/** Why xAI (as the fake reads its docs) would refuse this `session`, or null. */
export function xaiSessionProblem(s: unknown): { code: string; message: string } | null {
  const bad = (message: string) => ({ code: 'invalid_request_error', message });
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return bad('session must be an object');
  const session = s as Record<string, any>;
  for (const k of Object.keys(session)) if (!SESSION_KEYS.has(k)) return bad(`Unknown session parameter: '${k}'`);
  if (session.voice !== undefined && !XAI_FAKE_VOICES.includes(String(session.voice).toLowerCase())) return bad(`Unknown voice: '${String(session.voice)}'`);
  const td = session.turn_detection;
  if (td !== undefined && td !== null) {
    for (const k of Object.keys(td)) if (!TURN_KEYS.has(k)) return bad(`Unknown turn_detection parameter: '${k}'`);
    if (td.type !== 'server_vad') return bad(`turn_detection.type must be 'server_vad' or null`);
    if (td.threshold !== undefined && !(td.threshold >= 0.1 && td.threshold <= 0.9)) return bad('turn_detection.threshold must be within 0.1–0.9');
    for (const k of ['prefix_padding_ms', 'silence_duration_ms'] as const) {
      if (td[k] !== undefined && !(Number.isInteger(td[k]) && td[k] >= 0 && td[k] <= 10_000)) return bad(`turn_detection.${k} must be an integer within 0–10000`);
    }
  }
  const audio = session.audio ?? {};
  for (const k of Object.keys(audio)) if (k !== 'input' && k !== 'output') return bad(`Unknown audio parameter: '${k}'`);
  for (const k of Object.keys(audio.input ?? {})) if (!INPUT_KEYS.has(k)) return bad(`Unknown audio.input parameter: '${k}'`);
  for (const k of Object.keys(audio.output ?? {})) if (!OUTPUT_KEYS.has(k)) return bad(`Unknown audio.output parameter: '${k}'`);
  for (const dir of ['input', 'output'] as const) {
    const f = audio[dir]?.format;
    if (!f) continue;
    if (f.type === 'audio/pcm') {
      if (!PCM_RATES.has(f.rate ?? 24000)) return bad(`Unsupported sample rate for audio.${dir}.format: ${String(f.rate)}`);
      if ((f.rate ?? 24000) !== 24000) return bad(`fake limitation: audio/pcm is modelled at 24000 Hz only (got ${String(f.rate)})`);
    } else if (f.type !== 'audio/pcmu' && f.type !== 'audio/pcma') return bad(`Unsupported audio.${dir}.format type: '${String(f.type)}'`);
  }
  for (const t of Array.isArray(session.tools) ? session.tools : []) {
    if (!TOOL_TYPES.has(t?.type)) return bad(`Unknown tool type: '${String(t?.type)}'`);
    if (t.type === 'function' && (typeof t.name !== 'string' || typeof t.parameters !== 'object')) return bad('function tools need name and parameters');
  }
  return null;
}
