/**
 * ElevenLabs streaming TTS over the `stream-input` WebSocket (PROTOCOLS.md §4.2), spoken with
 * `ws` directly: the SDK has no client for it (SDK-NOTES). One socket per utterance (the empty
 * EOS text closes it); a warm socket, BOS already sent, waits for the next utterance.
 */
import WebSocket from 'ws';
import { ProviderError } from '../../errors.js';
import type { AudioFormat } from '../../transport/types.js';
import { ChunkQueue } from './chunk-queue.js';
import type { TtsCapabilities, TtsOptions, TtsProvider, TtsStream } from './types.js';

const PROVIDER = 'elevenlabs';

/** The ElevenLabs output format for the call's audio format (§4.1 enum). */
export function elevenLabsFormat(format: AudioFormat): string {
  if (format.encoding === 'mulaw') return 'ulaw_8000';
  return `pcm_${format.sampleRate}`;
}

export interface ElevenLabsWsOptions extends TtsOptions {
  /** Handshake limit. 3 s: past that the HTTP fallback is the faster way to a voice. */
  connectTimeoutMs?: number;
  voiceSettings?: Record<string, unknown>;
  /**
   * Characters buffered before each generation. Smaller than the docs' example [120,160,250,290]
   * so the first clause starts speaking sooner; later chunks grow for better prosody.
   */
  chunkLengthSchedule?: number[];
  /**
   * Seconds the server keeps an idle socket (default 20, max 180, §4.2). 60: a warm socket
   * survives a typical caller turn without keep-alive traffic.
   */
  inactivityTimeoutS?: number;
}

interface Warm {
  ws: WebSocket;
  ready: Promise<void>;
}

export class ElevenLabsWsTts implements TtsProvider {
  readonly name = 'elevenlabs-ws';
  readonly capabilities: TtsCapabilities = { streamingInput: true, alignment: true };
  private warm: Warm | null = null;

  constructor(private readonly opts: ElevenLabsWsOptions) {}

  private url(): string {
    const base = this.opts.baseUrl.replace(/^http/, 'ws');
    const q = new URLSearchParams({
      model_id: this.opts.model ?? 'eleven_flash_v2_5',
      output_format: elevenLabsFormat(this.opts.format),
      inactivity_timeout: String(this.opts.inactivityTimeoutS ?? 60),
    });
    return `${base}/v1/text-to-speech/${encodeURIComponent(this.opts.voiceId)}/stream-input?${q}`;
  }

  private open(): Warm {
    if (!this.opts.apiKey) {
      const ready = Promise.reject(new ProviderError(PROVIDER, 'ELEVENLABS_API_KEY is not set', 401, false));
      ready.catch(() => {});
      return { ws: null as unknown as WebSocket, ready };
    }
    const ws = new WebSocket(this.url(), { headers: { 'xi-api-key': this.opts.apiKey } });
    const ready = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        ws.terminate();
        reject(new ProviderError(PROVIDER, 'stream-input socket did not open in time', undefined, true));
      }, this.opts.connectTimeoutMs ?? 3000);
      ws.once('open', () => {
        clearTimeout(t);
        // BOS: `text` must be a single space; voice settings are only accepted here (§4.2).
        ws.send(
          JSON.stringify({
            text: ' ',
            voice_settings: this.opts.voiceSettings ?? { stability: 0.5, similarity_boost: 0.8, use_speaker_boost: false, speed: 1.0 },
            generation_config: { chunk_length_schedule: this.opts.chunkLengthSchedule ?? [50, 120, 160, 250] },
          }),
        );
        resolve();
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(t);
        reject(ProviderError.fromStatus(PROVIDER, res.statusCode ?? 502, `stream-input refused (${res.statusCode})`));
        ws.terminate();
      });
      ws.once('error', (err) => {
        clearTimeout(t);
        reject(new ProviderError(PROVIDER, `stream-input: ${err.message}`, undefined, true));
      });
    });
    ready.catch(() => {});
    ws?.on('error', () => {}); // reported through `ready` or the stream
    return { ws, ready };
  }

  async prepare(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    if (this.warm && this.warm.ws && this.warm.ws.readyState <= WebSocket.OPEN) return this.warm.ready;
    this.warm = this.open();
    return this.warm.ready;
  }

  stream(signal: AbortSignal): TtsStream {
    let conn = this.warm;
    this.warm = null;
    if (!conn || !conn.ws || conn.ws.readyState > WebSocket.OPEN) conn = this.open();
    return new ElevenLabsWsStream(conn, signal);
  }

  close(): void {
    const w = this.warm;
    this.warm = null;
    if (w?.ws) w.ws.terminate();
  }
}

class ElevenLabsWsStream implements TtsStream {
  private readonly queue = new ChunkQueue();
  private readonly pending: string[] = [];
  private sentText = false;
  /** Text sent since the last flush: what ElevenLabs may still hold back for its chunk schedule. */
  private unflushed = false;
  private ended = false;
  private aborted = false;
  private isOpen = false;

  constructor(
    private readonly conn: Warm,
    signal: AbortSignal,
  ) {
    const ws = conn.ws;
    if (signal.aborted) {
      this.abort();
      return;
    }
    signal.addEventListener('abort', () => this.abort(), { once: true });
    conn.ready.then(
      () => {
        if (this.aborted) return;
        this.isOpen = true;
        for (const m of this.pending.splice(0)) ws.send(m);
      },
      (err) => this.queue.fail(err),
    );
    if (!ws) return;
    ws.on('message', (data) => {
      let m: { audio?: string | null; isFinal?: boolean; is_final?: boolean; alignment?: { chars?: string[] } | null; error?: unknown; message?: string };
      try {
        m = JSON.parse(data.toString()) as typeof m;
      } catch {
        return;
      }
      if (m.audio) {
        const chars = m.alignment?.chars?.length;
        this.queue.put({ audio: Buffer.from(m.audio, 'base64'), ...(chars !== undefined ? { chars } : {}) });
      }
      if (m.isFinal || m.is_final) {
        this.queue.close();
        ws.close();
      } else if (!m.audio && (m.error || m.message)) {
        this.queue.fail(new ProviderError(PROVIDER, String(m.message ?? JSON.stringify(m.error)), undefined, true));
      }
    });
    ws.on('close', (code, reason) => {
      if (this.aborted || this.queue.closed) return;
      if (this.ended && code === 1000) this.queue.close();
      else this.queue.fail(new ProviderError(PROVIDER, `stream-input closed (${code} ${reason.toString()})`, undefined, true));
    });
  }

  private send(msg: Record<string, unknown>): void {
    const text = JSON.stringify(msg);
    if (this.isOpen && this.conn.ws.readyState === WebSocket.OPEN) this.conn.ws.send(text);
    else if (!this.isOpen) this.pending.push(text);
  }

  push(text: string): void {
    if (this.ended || this.aborted || text.trim() === '') return;
    // Each chunk should end with a space (§4.2); the first one tries to start generation at
    // once instead of waiting for the chunk schedule, for time to first audio.
    const t = /\s$/.test(text) ? text : `${text} `;
    this.send({ text: t, try_trigger_generation: !this.sentText });
    this.sentText = true;
    this.unflushed = true;
  }

  flush(): void {
    if (this.ended || this.aborted || !this.unflushed) return;
    this.unflushed = false;
    this.send({ text: ' ', flush: true });
  }

  end(): void {
    if (this.ended || this.aborted) return;
    this.ended = true;
    if (this.unflushed) this.send({ text: ' ', flush: true });
    this.send({ text: '' }); // EOS: finish generation, then the server closes
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.queue.drop();
    const ws = this.conn.ws;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.terminate();
  }

  [Symbol.asyncIterator](): AsyncIterator<import('./types.js').TtsChunk> {
    return this.queue[Symbol.asyncIterator]();
  }
}
