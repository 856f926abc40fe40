/**
 * OpenAI Realtime over a raw `ws` client (SDK-NOTES.md: the SDK's realtime helper forces wss,
 * which a local fake cannot speak). GA event names and session shape, PROTOCOLS.md §5.
 */
import WebSocket from 'ws';
import type {
  RealtimeEvent,
  RealtimeEventListener,
  RealtimeItem,
  RealtimeSession,
  RealtimeSessionConfig,
  RealtimeSessionOptions,
} from './types.js';
import { parseServerEvent, type ParsedServerEvent } from './openai-events.js';
import { FrameBatch, MAX_BATCH_FRAMES } from '../../media/index.js';

/** Socket open + `session.created`; the real API answers in well under a second. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** An append is ~300 bytes per 20 ms; 1 MiB queued means the provider link is stalled. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** The constant parts of an `input_audio_buffer.append`: base64 needs no JSON escaping. */
const APPEND_PREFIX = '{"type":"input_audio_buffer.append","audio":"';
const APPEND_SUFFIX = '"}';

export function createOpenAiRealtimeSession(options: RealtimeSessionOptions): RealtimeSession {
  return new OpenAiRealtimeSession(options);
}

/** Exported so vendor dialects that speak the same event names (xai.ts) can override the shapes. */
export class OpenAiRealtimeSession implements RealtimeSession {
  private ws: WebSocket | null = null;
  private listeners: RealtimeEventListener[] = [];
  private seq = 0;
  private closedByClient = false;
  private closedEmitted = false;
  /** Caller frames per append (see `RealtimeSessionOptions.appendFrames`). */
  private readonly appendFrames: number;
  /** Frames held for the next append. */
  private readonly held = new FrameBatch();

  constructor(protected readonly options: RealtimeSessionOptions) {
    this.appendFrames = Math.min(MAX_BATCH_FRAMES, Math.max(1, Math.floor(options.appendFrames ?? 1)));
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  onEvent(listener: RealtimeEventListener): void {
    this.listeners.push(listener);
  }

  connect(signal: AbortSignal): Promise<void> {
    const url = new URL(this.options.url);
    url.searchParams.set('model', this.options.model);
    // No permessage-deflate: the traffic is base64 audio, which compresses poorly and would cost
    // CPU on every 20 ms frame.
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${this.options.apiKey}` }, perMessageDeflate: false });
    this.ws = ws;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (err) {
          this.closedByClient = true; // a failed connect is not a "drop" to recover from
          ws.terminate();
          reject(err);
        } else resolve();
      };
      const timer = setTimeout(
        () => settle(new Error('realtime session did not start in time')),
        this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      );
      const onAbort = (): void => settle(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      // `ws` emits 'error' before 'close'; without a listener it would throw.
      ws.on('error', (err) => settle(err));
      ws.on('unexpected-response', (_req, res) => settle(new Error(`realtime handshake refused: HTTP ${res.statusCode}`)));
      ws.on('message', (data, isBinary) => {
        const event = isBinary ? null : this.parse(data as Buffer);
        if (!event) return;
        if (event.type === 'session.created') settle();
        this.emit(event);
      });
      ws.on('close', (code, reason) => {
        settle(new Error(`realtime socket closed before the session started (${code})`));
        if (this.closedEmitted) return;
        this.closedEmitted = true;
        this.emit({ type: 'closed', code, reason: reason.toString('utf8'), byClient: this.closedByClient });
      });
    });
  }

  sendAudio(frame: Buffer, canWait = false): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > MAX_BUFFERED_BYTES) return;
    // Hand-built JSON: this runs 50 times a second per call. Encoding base64 here costs ~0.1 µs
    // per 20 ms frame; the message itself (a socket write: ~15 µs of CPU on loopback) is what
    // costs, hence the batching below rather than carrying Twilio's base64 through.
    const batch = canWait ? MAX_BATCH_FRAMES : this.appendFrames;
    if (batch === 1 && this.held.frames === 0) {
      ws.send(APPEND_PREFIX + frame.toString('base64') + APPEND_SUFFIX);
      return;
    }
    this.held.add(frame);
    if (this.held.frames < batch) return;
    ws.send(APPEND_PREFIX + this.held.drain().toString('base64') + APPEND_SUFFIX);
  }

  updateSession(config: RealtimeSessionConfig): void {
    this.send('session.update', { session: sessionPayload(config) });
  }

  createItem(item: RealtimeItem): string {
    if (item.type === 'function_call_output') {
      return this.send('conversation.item.create', {
        item: { type: 'function_call_output', call_id: item.callId, output: item.output },
      });
    }
    // GA content types: user/system text is `input_text`, assistant text is `output_text`.
    const contentType = item.role === 'assistant' ? 'output_text' : 'input_text';
    return this.send('conversation.item.create', {
      item: { type: 'message', role: item.role, content: [{ type: contentType, text: item.text }] },
    });
  }

  createResponse(options: { instructions?: string } = {}): string {
    return this.send('response.create', options.instructions ? { response: { instructions: options.instructions } } : {});
  }

  cancelResponse(): string {
    return this.send('response.cancel', {});
  }

  truncate(itemId: string, contentIndex: number, audioEndMs: number): string {
    return this.send('conversation.item.truncate', {
      item_id: itemId,
      content_index: contentIndex,
      audio_end_ms: Math.max(0, Math.floor(audioEndMs)),
    });
  }

  close(): void {
    this.closedByClient = true;
    const ws = this.ws;
    if (!ws) return;
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'call ended');
    else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
  }

  protected send(type: string, body: Record<string, unknown>): string {
    const eventId = `evt_vg_${++this.seq}`;
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type, event_id: eventId, ...body }));
    return eventId;
  }

  private parse(data: Buffer): RealtimeEvent | null {
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString('utf8'));
    } catch {
      this.options.onMalformed?.('invalid_json');
      return null;
    }
    const parsed = this.parseEvent(raw);
    if (parsed.kind === 'event') return parsed.event;
    if (parsed.kind === 'malformed') this.options.onMalformed?.(parsed.reason);
    return null;
  }

  /** One decoded server message → typed event; a dialect maps its differences first. */
  protected parseEvent(raw: unknown): ParsedServerEvent {
    return parseServerEvent(raw);
  }

  private emit(event: RealtimeEvent): void {
    for (const l of this.listeners) l(event);
  }
}

/** GA `session.update` body (PROTOCOLS.md §5.2). */
export function sessionPayload(config: RealtimeSessionConfig): Record<string, unknown> {
  const format = config.format === 'pcmu' ? { type: 'audio/pcmu' } : { type: 'audio/pcm', rate: 24000 };
  const td = config.turnDetection;
  // The engine does barge-in itself (clear + cancel + truncate from what was heard), so the
  // server must not cancel on its own: `interrupt_response: false`. It still answers by itself.
  const turnDetection =
    td.type === 'server_vad'
      ? {
          type: 'server_vad',
          threshold: td.threshold ?? 0.5,
          prefix_padding_ms: td.prefixPaddingMs ?? 300,
          silence_duration_ms: td.silenceMs ?? 500,
          create_response: true,
          interrupt_response: false,
        }
      : { type: 'semantic_vad', eagerness: td.eagerness ?? 'auto', create_response: true, interrupt_response: false };
  const output: Record<string, unknown> = { format };
  if (config.voice) output['voice'] = config.voice;
  return {
    type: 'realtime',
    instructions: config.instructions,
    output_modalities: ['audio'],
    audio: {
      input: { format, transcription: { model: config.transcriptionModel }, turn_detection: turnDetection },
      output,
    },
    tools: config.tools.map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.parameters })),
    tool_choice: 'auto',
  };
}
