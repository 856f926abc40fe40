/**
 * One session of the fake realtime server: the per-connection state machine (session config,
 * VAD over received audio, the conversation, the live response, cancel/truncate validation).
 */
import type { WebSocket } from 'ws';
import type { FakeRealtimeServer, ScriptedRealtimeResponse } from './openai-realtime.js';
import { bytesPerMs, measure, toneBytes, type FakeAudioFormat } from './openai-realtime-audio.js';
import { XAI_CANCEL_NOT_ACTIVE, xaiGreeting, xaiSessionProblem } from './xai-realtime-dialect.js';

export interface FakeItem {
  id: string;
  type: 'message' | 'function_call' | 'function_call_output';
  role?: string;
  text?: string;
  /** Assistant audio produced so far, ms. */
  audioMs: number;
  truncatedAtMs?: number;
  raw?: Record<string, unknown>;
}

/** 1 MiB: about two minutes of μ-law, enough for any test; bench calls stop recording after it. */
const MAX_RECORDED_INPUT = 1024 * 1024;

interface LiveResponse {
  id: string;
  itemId: string;
  timers: NodeJS.Timeout[];
  done: boolean;
}

export class FakeRealtimeConnection {
  /** Every client event (parsed), in order; appends are counted, not kept. */
  readonly received: Array<Record<string, unknown>> = [];
  /** Every server event sent, in order (audio deltas included). */
  readonly sent: Array<Record<string, unknown>> = [];
  readonly items: FakeItem[] = [];
  readonly truncations: Array<{ itemId: string; audioEndMs: number; accepted: boolean }> = [];
  readonly cancels: Array<{ responseId: string | null }> = [];
  /** Caller audio as received (decoded from base64), bounded to the first MAX_RECORDED_INPUT bytes. */
  readonly inputChunks: Buffer[] = [];
  /** Bytes of caller audio received, and the same as ms in the session format. */
  appendedBytes = 0;
  inputMs = 0;
  /** The effective session config after `session.update`s. */
  session: Record<string, unknown> = { type: 'realtime' };
  isOpen = true;
  /** Speaking xAI's dialect (`startFakeRealtime({ dialect: 'xai' })`, xai-realtime-dialect.ts). */
  readonly xai: boolean;

  private seq = 0;
  private speaking = false;
  private speechStartMs = 0;
  private lastVoiceMs = 0;
  private userItemId = '';
  private live: LiveResponse | null = null;
  private deferredTurn: string | null = null;

  constructor(
    private readonly ws: WebSocket,
    readonly model: string,
    private readonly server: FakeRealtimeServer,
  ) {
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('close', () => this.shutdown());
    ws.on('error', () => this.shutdown());
    this.xai = server.options.dialect === 'xai';
    if (this.xai) {
      this.session = {};
      for (const e of xaiGreeting(`conv_${++this.seq}`)) this.send(e);
    } else this.send({ type: 'session.created', session: { ...this.session, model } });
  }

  /** OpenAI: `audio.input.turn_detection`; xAI: `turn_detection` at the session's top level. */
  private get turnDetection(): Record<string, any> | null | undefined {
    return this.xai ? (this.session['turn_detection'] as any) : (this.session['audio'] as any)?.input?.turn_detection;
  }

  get format(): FakeAudioFormat {
    const f = (this.session['audio'] as any)?.input?.format;
    return f?.type === 'audio/pcm' ? 'pcm24k' : 'pcmu';
  }

  get outputFormat(): FakeAudioFormat {
    const f = (this.session['audio'] as any)?.output?.format;
    return f?.type === 'audio/pcm' ? 'pcm24k' : 'pcmu';
  }

  /** Client events of one type. */
  eventsOf(type: string): Array<Record<string, any>> {
    return this.received.filter((e) => e['type'] === type);
  }

  get activeResponseId(): string | null {
    return this.live?.id ?? null;
  }

  drop(): void {
    if (!this.isOpen) return;
    this.ws.terminate();
    this.shutdown();
  }

  /** Sends any server event or raw text (malformed input, injected errors). */
  sendRaw(event: Record<string, unknown> | string): void {
    if (!this.isOpen) return;
    if (typeof event === 'string') this.ws.send(event);
    else this.send(event);
  }

  /** Makes the server answer as if its VAD heard a whole turn (no audio needed). */
  simulateTurn(): void {
    this.startSpeech();
    this.stopSpeech();
  }

  /** Starts a response right now, as `response.create` would. */
  respond(trigger: 'vad' | 'response.create', instructions: string | null, userText: string | null): void {
    if (this.live) return this.error('conversation_already_has_active_response', 'Conversation already has an active response');
    const script = this.server.responder({ trigger, instructions, userText, connection: this });
    const id = `resp_${++this.seq}`;
    const live: LiveResponse = { id, itemId: `item_${++this.seq}`, timers: [], done: false };
    this.live = live;
    this.send({ type: 'response.created', response: { id, object: 'realtime.response', status: 'in_progress', output: [] } });
    if (script.functionCall) return this.functionCall(live, script.functionCall);
    this.speak(live, script);
  }

  private onMessage(text: string): void {
    let e: Record<string, any>;
    try {
      e = JSON.parse(text);
    } catch {
      return this.error('invalid_json', 'Invalid JSON');
    }
    if (e['type'] === 'input_audio_buffer.append') {
      this.received.push({ type: e['type'], bytes: typeof e['audio'] === 'string' ? Buffer.byteLength(e['audio'], 'base64') : 0 });
      return this.onAudio(Buffer.from(String(e['audio'] ?? ''), 'base64'));
    }
    this.received.push(e);
    switch (e['type']) {
      case 'session.update':
        return this.onSessionUpdate(e);
      case 'conversation.item.create':
        return this.onItemCreate(e);
      case 'response.create':
        return this.respond('response.create', e['response']?.instructions ?? null, null);
      case 'response.cancel':
        return this.onCancel(e);
      case 'conversation.item.truncate':
        return this.onTruncate(e);
      case 'input_audio_buffer.commit':
      case 'input_audio_buffer.clear':
        return;
      default:
        return this.error('invalid_request_error', `Invalid value: '${String(e['type'])}'`, e['event_id']);
    }
  }

  private onSessionUpdate(e: Record<string, any>): void {
    const s = e['session'];
    if (this.xai) {
      const problem = xaiSessionProblem(s);
      if (problem) return this.error(problem.code, problem.message, e['event_id']);
      this.session = { ...this.session, ...s, audio: { ...(this.session['audio'] as object), ...s.audio } };
      this.send({ type: 'session.updated', session: this.session });
      return;
    }
    if (!s || s.type !== 'realtime') return this.error('missing_required_parameter', "Missing required parameter: 'session.type'", e['event_id']);
    // The real API refuses parameters it does not know (a beta-shaped session: `voice`,
    // `input_audio_format`, `turn_detection` at the top level…) with `unknown_parameter`.
    const unknown = unknownSessionParam(s);
    if (unknown) return this.error('unknown_parameter', `Unknown parameter: '${unknown}'.`, e['event_id']);
    for (const dir of ['input', 'output'] as const) {
      const f = s.audio?.[dir]?.format;
      const valid = !f || f.type === 'audio/pcmu' || f.type === 'audio/pcma' || (f.type === 'audio/pcm' && f.rate === 24000);
      if (!valid) return this.error('invalid_value', `Invalid value for session.audio.${dir}.format`, e['event_id']);
    }
    this.session = { ...this.session, ...s, audio: { ...(this.session['audio'] as object), ...s.audio } };
    this.send({ type: 'session.updated', session: this.session });
  }

  private onItemCreate(e: Record<string, any>): void {
    const item = e['item'];
    if (!item || !['message', 'function_call_output', 'function_call'].includes(item.type)) {
      return this.error('invalid_value', 'Invalid item type', e['event_id']);
    }
    if (item.type === 'message') {
      // GA content part types by role (openai-node RealtimeConversationItem*Message).
      const allowed: Record<string, string[]> = { user: ['input_text', 'input_audio', 'input_image'], system: ['input_text'], assistant: ['output_text', 'output_audio'] };
      const types = allowed[String(item.role)];
      if (!types) return this.error('invalid_value', `Invalid value: '${String(item.role)}'. Supported values are: 'user', 'assistant', and 'system'.`, e['event_id']);
      const bad = (Array.isArray(item.content) ? item.content : []).find((c: any) => !types.includes(c?.type));
      if (!Array.isArray(item.content) || bad) return this.error('invalid_value', `Invalid value: '${String(bad?.type)}'. Supported values are: ${types.map((t) => `'${t}'`).join(', ')}.`, e['event_id']);
    }
    if (item.type === 'function_call_output' && (typeof item.call_id !== 'string' || typeof item.output !== 'string')) {
      return this.error('missing_required_parameter', "Missing required parameter: 'item.call_id' or 'item.output'.", e['event_id']);
    }
    const id = item.id ?? `item_${++this.seq}`;
    const text = Array.isArray(item.content) ? item.content.map((c: any) => c.text ?? c.transcript ?? '').join('') : item.output;
    this.items.push({ id, type: item.type, role: item.role, text, audioMs: 0, raw: item });
    this.send({ type: 'conversation.item.added', previous_item_id: null, item: { ...item, id } });
    this.send({ type: 'conversation.item.done', previous_item_id: null, item: { ...item, id } });
  }

  private onCancel(e: Record<string, any>): void {
    const live = this.live;
    this.cancels.push({ responseId: live?.id ?? null });
    // Real API: cancelling with nothing in progress is a (harmless) error event.
    if (!live && this.xai) return this.send({ type: 'error', error: { ...XAI_CANCEL_NOT_ACTIVE, event_id: e['event_id'] ?? null } });
    if (!live) return this.error('response_cancel_not_active', 'Cancellation failed: no active response found', e['event_id']);
    // Deltas already on the wire when the cancel lands (the real API has some in flight).
    const item = this.items.find((i) => i.id === live.itemId);
    for (let n = 0; item && n < this.server.deltasAfterCancel; n++) {
      const audio = toneBytes(this.outputFormat, this.server.options.chunkMs);
      item.audioMs += audio.length / bytesPerMs(this.outputFormat);
      this.send({ type: 'response.output_audio.delta', response_id: live.id, item_id: item.id, output_index: 0, content_index: 0, delta: audio.toString('base64') });
    }
    this.finish(live, 'cancelled', 'client_cancelled');
  }

  private onTruncate(e: Record<string, any>): void {
    const item = this.items.find((i) => i.id === e['item_id']);
    const end = e['audio_end_ms'];
    const reject = (msg: string): void => {
      this.truncations.push({ itemId: String(e['item_id']), audioEndMs: Number(end), accepted: false });
      this.error('invalid_value', msg, e['event_id']);
    };
    // xAI documents no truncate event: it is refused like any unknown client event.
    if (this.xai) return reject(`Invalid value: '${String(e['type'])}'`);
    if (this.server.rejectTruncates) return reject('Truncation rejected (scripted)');
    if (!item || item.role !== 'assistant') return reject('Only assistant messages can be truncated');
    if (typeof end !== 'number' || end < 0 || !Number.isInteger(end)) return reject('audio_end_ms must be a non-negative integer');
    // The real API rejects a truncate past the audio it produced for the item.
    if (end > item.audioMs) return reject(`audio_end_ms ${end} is longer than the audio (${Math.floor(item.audioMs)} ms)`);
    item.truncatedAtMs = end;
    if (item.text) item.text = item.text.slice(0, Math.round((item.text.length * end) / Math.max(1, item.audioMs)));
    this.truncations.push({ itemId: item.id, audioEndMs: end, accepted: true });
    this.send({ type: 'conversation.item.truncated', item_id: item.id, content_index: 0, audio_end_ms: end });
  }

  // --- VAD over received audio -------------------------------------------------------------

  private onAudio(bytes: Buffer): void {
    if (this.appendedBytes < MAX_RECORDED_INPUT) this.inputChunks.push(bytes);
    this.appendedBytes += bytes.length;
    if (bytes.length === 0) return;
    const { dbfs, ms } = measure(this.format, bytes);
    this.inputMs += ms;
    const td = this.turnDetection;
    if (td === null) return; // manual turns
    if (dbfs > this.server.options.speechDbfs) {
      this.lastVoiceMs = this.inputMs;
      if (!this.speaking) this.startSpeech();
    } else if (this.speaking && this.inputMs - this.lastVoiceMs >= (td?.silence_duration_ms ?? 500)) {
      this.stopSpeech();
    }
  }

  private startSpeech(): void {
    const td = this.turnDetection;
    this.speaking = true;
    this.userItemId = `item_${++this.seq}`;
    this.speechStartMs = Math.max(0, this.inputMs - (td?.prefix_padding_ms ?? 300));
    // xAI's speech_started carries only `item_id` (pipecat events.py InputAudioBufferSpeechStarted).
    if (this.xai) this.send({ type: 'input_audio_buffer.speech_started', item_id: this.userItemId });
    else this.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: Math.round(this.speechStartMs), item_id: this.userItemId });
    if (td?.interrupt_response && this.live) this.finish(this.live, 'cancelled', 'turn_detected');
  }

  private stopSpeech(): void {
    const td = this.turnDetection;
    this.speaking = false;
    const itemId = this.userItemId;
    this.send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: Math.round(this.inputMs), item_id: itemId });
    this.send({ type: 'input_audio_buffer.committed', item_id: itemId, previous_item_id: null });
    const transcript = this.server.userTranscripts.shift() ?? 'hello';
    this.items.push({ id: itemId, type: 'message', role: 'user', text: transcript, audioMs: 0 });
    this.send({ type: 'conversation.item.input_audio_transcription.completed', item_id: itemId, content_index: 0, transcript });
    if (td?.create_response === false) return;
    // A turn committed while a response is still live is answered once that one is over.
    if (this.live) this.deferredTurn = transcript;
    else this.respond('vad', null, transcript);
  }

  // --- responses ---------------------------------------------------------------------------

  private functionCall(live: LiveResponse, call: NonNullable<ScriptedRealtimeResponse['functionCall']>): void {
    const callId = call.callId ?? `call_${++this.seq}`;
    const item = { id: live.itemId, type: 'function_call', call_id: callId, name: call.name, arguments: call.arguments, status: 'completed' };
    this.items.push({ id: live.itemId, type: 'function_call', audioMs: 0, raw: item });
    const ids = { response_id: live.id, item_id: live.itemId, output_index: 0, call_id: callId };
    this.send({ type: 'response.output_item.added', response_id: live.id, output_index: 0, item: { ...item, arguments: '' } });
    this.send({ type: 'response.function_call_arguments.delta', ...ids, delta: call.arguments });
    this.send({ type: 'response.function_call_arguments.done', ...ids, name: call.name, arguments: call.arguments });
    this.send({ type: 'response.output_item.done', response_id: live.id, output_index: 0, item });
    this.finish(live, 'completed', null);
  }

  private speak(live: LiveResponse, script: ScriptedRealtimeResponse): void {
    const o = this.server.options;
    const text = script.transcript ?? '';
    const totalMs = script.audioMs ?? Math.max(o.chunkMs, text.split(/\s+/).filter(Boolean).length * o.msPerWord);
    const item: FakeItem = { id: live.itemId, type: 'message', role: 'assistant', text, audioMs: 0 };
    this.items.push(item);
    const ids = { response_id: live.id, item_id: item.id, output_index: 0, content_index: 0 };
    this.send({ type: 'response.output_item.added', response_id: live.id, output_index: 0, item: { id: item.id, type: 'message', role: 'assistant', status: 'in_progress', content: [] } });
    this.send({ type: 'response.content_part.added', ...ids, part: { type: 'audio', transcript: '' } });
    const format = this.outputFormat;
    const chunks = Math.ceil(totalMs / o.chunkMs);
    const words = text.split(/(?<=\s)/);
    let wordsSent = 0;
    for (let i = 0; i < chunks; i++) {
      const t = setTimeout(() => {
        if (live.done) return;
        const ms = Math.min(o.chunkMs, totalMs - i * o.chunkMs);
        const audio = toneBytes(format, ms, 440, 8000, Math.round(((i * o.chunkMs) * bytesPerMs(format)) / (format === 'pcmu' ? 1 : 2)));
        item.audioMs += audio.length / bytesPerMs(format);
        // Transcript deltas lead the audio a little, as the real API's do.
        const wordsDue = Math.ceil(((i + 1) / chunks) * words.length);
        if (wordsDue > wordsSent) {
          this.send({ type: 'response.output_audio_transcript.delta', ...ids, delta: words.slice(wordsSent, wordsDue).join('') });
          wordsSent = wordsDue;
        }
        this.send({ type: 'response.output_audio.delta', ...ids, delta: audio.toString('base64') });
        if (i === chunks - 1) {
          this.send({ type: 'response.output_audio.done', ...ids });
          // xAI's transcript.done has no `transcript` (pipecat events.py ResponseAudioTranscriptDone).
          this.send({ type: 'response.output_audio_transcript.done', ...ids, ...(this.xai ? {} : { transcript: text }) });
          this.send({ type: 'response.content_part.done', ...ids, part: { type: 'audio', transcript: text } });
          this.send({ type: 'response.output_item.done', response_id: live.id, output_index: 0, item: { id: item.id, type: 'message', role: 'assistant', status: 'completed' } });
          this.finish(live, 'completed', null);
        }
      }, o.firstDeltaMs + i * o.deltaIntervalMs);
      live.timers.push(t);
    }
  }

  private finish(live: LiveResponse, status: 'completed' | 'cancelled', reason: string | null): void {
    if (live.done) return;
    live.done = true;
    for (const t of live.timers) clearTimeout(t);
    if (this.live === live) this.live = null;
    this.send({
      type: 'response.done',
      response: {
        id: live.id,
        object: 'realtime.response',
        status,
        status_details: status === 'cancelled' ? { type: 'cancelled', reason } : null,
        output: [],
        usage: null,
      },
    });
    const turn = this.deferredTurn;
    this.deferredTurn = null;
    if (turn !== null && this.isOpen) setImmediate(() => this.respond('vad', null, turn));
  }

  private error(code: string, message: string, clientEventId?: string): void {
    this.send({ type: 'error', error: { type: 'invalid_request_error', code, message, param: null, event_id: clientEventId ?? null } });
  }

  private send(event: Record<string, unknown>): void {
    if (!this.isOpen) return;
    const full = { ...event, event_id: `event_${++this.seq}` };
    this.sent.push(full);
    this.ws.send(JSON.stringify(full));
  }

  private shutdown(): void {
    this.isOpen = false;
    if (this.live) {
      this.live.done = true;
      for (const t of this.live.timers) clearTimeout(t);
      this.live = null;
    }
  }
}

/** GA session keys (openai-node RealtimeSessionCreateRequest / RealtimeAudioConfig*). */
const SESSION_KEYS = new Set(['type', 'audio', 'include', 'instructions', 'max_output_tokens', 'model', 'output_modalities', 'prompt', 'tool_choice', 'tools', 'tracing', 'truncation']);
const INPUT_KEYS = new Set(['format', 'noise_reduction', 'transcription', 'turn_detection']);
const OUTPUT_KEYS = new Set(['format', 'speed', 'voice']);

function unknownSessionParam(s: Record<string, any>): string | null {
  for (const k of Object.keys(s)) if (!SESSION_KEYS.has(k)) return `session.${k}`;
  for (const k of Object.keys(s.audio ?? {})) if (k !== 'input' && k !== 'output') return `session.audio.${k}`;
  for (const k of Object.keys(s.audio?.input ?? {})) if (!INPUT_KEYS.has(k)) return `session.audio.input.${k}`;
  for (const k of Object.keys(s.audio?.output ?? {})) if (!OUTPUT_KEYS.has(k)) return `session.audio.output.${k}`;
  return null;
}
