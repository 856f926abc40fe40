/**
 * Cartesia streaming TTS over its WebSocket (`/tts/websocket`), through the official SDK's
 * `TTSWS` (framing, `Cartesia-Version`, auth) and `TTSWSContext` (context messages). One socket
 * per call, opened at announce time (`prepare`); each agent reply is one Cartesia context whose
 * clauses go in as `continue: true` inputs, so prosody carries across them (Cartesia docs,
 * "Contexts"). Audio is asked for in the call's own format (raw `pcm_mulaw` 8 kHz for phone,
 * `pcm_s16le` 16 kHz for web): nothing is resampled on the hot path.
 *
 * What the SDK does not do and this file adds: the SDK consumer of a context (`receive()`) waits
 * forever when the socket drops, and its `send` silently opens a new socket that has lost every
 * context, so the socket's life is watched here; a reply that loses its socket before any audio
 * is replayed on a new one, and an idle socket that drops is reopened for the next reply.
 */
import { randomUUID } from 'node:crypto';
import { ProviderError } from '../../errors.js';
import { bytesPerMs, type AudioFormat } from '../../transport/types.js';
import { ChunkQueue } from './chunk-queue.js';
import { WordAlignment } from './cartesia-alignment.js';
import { Cartesia, TTSWSContext, type CartesiaType, type TtsWsContextType } from './cartesia-sdk.js';
import { Connection, type CartesiaEvent } from './cartesia-connection.js';
import type { TtsCapabilities, TtsChunk, TtsOptions, TtsProvider, TtsStream } from './types.js';

const PROVIDER = 'cartesia';
/**
 * How long a chunk waits for the timestamps of its words (they come in separate messages, just
 * after the audio). Chunks are released at once by the next message, so this only bounds the
 * wait at a pause in the reply; 30 ms is within the 120 ms playback lead (PLAYBACK_LEAD_MS).
 */
const HOLD_FOR_TIMESTAMPS_MS = 30;
/** A socket open this long before it dropped was working: its drop does not count toward giving up. */
const STABLE_SOCKET_MS = 10_000;

/**
 * Cartesia's recommended stable model: the June 2026 "API changes" page sends every retired
 * model to `sonic-3.5`, and it heads the SDK 4.2.0 `TTSModel` list (Cartesia-Version 2026-08-14).
 * Newer ids (`sonic-3.6`, dated snapshots) are one `ttsModel` away.
 */
export const DEFAULT_CARTESIA_MODEL = 'sonic-3.5';
/** The voice of Cartesia's realtime TTS quickstart, used when the agent names none. */
export const DEFAULT_CARTESIA_VOICE = 'f786b574-daa5-4673-aa0c-cbe3e8534c02';

/** Cartesia's raw output format for the call's audio format (API reference, `output_format`). */
export function cartesiaFormat(format: AudioFormat): { container: 'raw'; encoding: 'pcm_mulaw' | 'pcm_s16le'; sample_rate: number } {
  return { container: 'raw', encoding: format.encoding === 'mulaw' ? 'pcm_mulaw' : 'pcm_s16le', sample_rate: format.sampleRate };
}

export interface CartesiaTtsOptions extends TtsOptions {
  /** Handshake limit. 3 s, as for ElevenLabs: past that the call is better off failing over. */
  connectTimeoutMs?: number;
  /** Ask for word timestamps (used to cut the transcript at what the caller heard). Default true. */
  wordTimestamps?: boolean;
  /** Two-letter language for the voice (agent `language`, e.g. "en" of "en-US"). */
  language?: string;
  /** Told when a dropped socket is replaced (the engine notes it on the call). */
  onReconnect?: (reason: string) => void;
}

export class CartesiaTts implements TtsProvider {
  readonly name = 'cartesia';
  readonly capabilities: TtsCapabilities;
  private readonly client: CartesiaType;
  /** The TCP port of a plain-HTTP base URL (null for https: the SDK's own TLS dial). */
  private readonly plainPort: number | null;
  private conn: Connection | null = null;
  private shut = false;
  /** Drops in a row with nothing received in between: a socket that dies at once is not reopened in a loop. */
  private drops = 0;

  constructor(private readonly opts: CartesiaTtsOptions) {
    this.capabilities = { streamingInput: true, alignment: opts.wordTimestamps !== false };
    this.client = new Cartesia({ apiKey: opts.apiKey ?? '', baseURL: opts.baseUrl, maxRetries: 0 });
    const u = new URL(opts.baseUrl);
    this.plainPort = u.protocol === 'http:' ? Number(u.port || 80) : null;
  }

  /** The live socket, or a new one. */
  connection(): Connection {
    if (this.conn && this.conn.usable) return this.conn;
    if (!this.opts.apiKey) return refused(new ProviderError(PROVIDER, 'CARTESIA_API_KEY is not set', 401, false));
    // After close() (the call ended) nothing opens a socket again.
    if (this.shut) return refused(new ProviderError(PROVIDER, 'provider closed', undefined, false));
    this.conn = new Connection(this.client, this.plainPort, this.opts.connectTimeoutMs ?? 3000, (c, reason) => this.dropped(c, reason));
    return this.conn;
  }

  private dropped(c: Connection, reason: string): void {
    if (this.shut || c !== this.conn) return;
    this.conn = null;
    // A socket that lived a while (an idle timeout, a network blip) is simply replaced; three
    // quick drops with nothing received between them mean the server refuses us, and then only
    // the next reply opens a socket.
    if (c.openedForMs() > STABLE_SOCKET_MS) this.drops = 0;
    if (++this.drops > 3) return;
    this.opts.onReconnect?.(reason);
    this.connection().ready.catch(() => {});
  }

  /** Something arrived on the socket: it works, so a later drop may be reconnected again. */
  heard(): void {
    this.drops = 0;
  }

  async prepare(signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.shut) return;
    return this.connection().ready;
  }

  stream(signal: AbortSignal): TtsStream {
    return new CartesiaStream(this, this.opts, signal);
  }

  close(): void {
    this.shut = true;
    const c = this.conn;
    this.conn = null;
    c?.terminate();
  }
}

/** One reply: one Cartesia context. */
class CartesiaStream implements TtsStream {
  private readonly queue = new ChunkQueue();
  private readonly texts: string[] = [];
  private readonly alignment: WordAlignment | null;
  private readonly bytesPerMs: number;
  private conn!: Connection;
  private ctx!: TtsWsContextType;
  private unroute: () => void = () => {};
  /** Sends waiting for the socket to open, in order. */
  private chain: Promise<void>;
  private ended = false;
  private aborted = false;
  private gotAudio = false;
  private sentInput = false;
  private replayed = false;
  /** The newest chunk, waiting briefly for the timestamps of the words it voices. */
  private held: Buffer | null = null;
  private heldTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly provider: CartesiaTts,
    private readonly opts: CartesiaTtsOptions,
    signal: AbortSignal,
  ) {
    this.alignment = opts.wordTimestamps === false ? null : new WordAlignment();
    this.bytesPerMs = bytesPerMs(opts.format);
    this.chain = this.attach();
    if (signal.aborted) this.abort();
    else {
      signal.addEventListener('abort', this.onAbort, { once: true });
      this.signal = signal;
    }
  }

  private readonly onAbort = (): void => this.abort();
  private signal: AbortSignal | null = null;

  /** Binds the stream to the provider's socket with a fresh context; resolves once it is open. */
  private attach(): Promise<void> {
    this.unroute();
    this.conn = this.provider.connection();
    const contextId = randomUUID();
    if (this.conn.ws) {
      this.ctx = new TTSWSContext(this.conn.ws, {
        contextId,
        model_id: this.opts.model ?? DEFAULT_CARTESIA_MODEL,
        voice: { mode: 'id', id: this.opts.voiceId },
        output_format: cartesiaFormat(this.opts.format) as never,
        ...(this.opts.language ? { language: this.opts.language as never } : {}),
        add_timestamps: this.alignment !== null,
        // Original (not normalized) words, so they can be found in the text we sent.
        ...(this.alignment ? { use_normalized_timestamps: false } : {}),
        // The engine sends whole clauses (custom buffering, Cartesia docs "Buffering"): 0 starts
        // each one at once instead of the default 3000 ms wait for more context.
        max_buffer_delay_ms: 0,
      });
      this.unroute = this.conn.route(contextId, (ev) => this.onEvent(ev), (reason) => this.onDrop(reason));
    }
    return this.conn.ready.then(
      () => {},
      (err) => {
        this.queue.fail(err);
        throw err;
      },
    );
  }

  private send(op: (ctx: TtsWsContextType) => Promise<void>): void {
    const ctx = () => this.ctx;
    this.chain = this.chain.then(async () => {
      if (this.aborted || this.queue.closed || !this.conn.usable) return;
      this.sentInput = true;
      await op(ctx());
    });
    this.chain.catch(() => {});
  }

  private onEvent(ev: CartesiaEvent): void {
    if (this.aborted) return;
    this.provider.heard();
    switch (ev.type) {
      case 'chunk': {
        const audio = ev.audio ? Buffer.from(ev.audio.buffer, ev.audio.byteOffset, ev.audio.byteLength) : Buffer.from(ev.data ?? '', 'base64');
        if (audio.length === 0) break;
        this.gotAudio = true;
        this.release(false);
        if (!this.alignment) {
          this.queue.put({ audio });
          break;
        }
        this.held = audio;
        // One timer per reply, restarted per chunk (its firing with nothing held is a no-op).
        if (this.heldTimer) this.heldTimer.refresh();
        else this.heldTimer = setTimeout(() => this.release(false), HOLD_FOR_TIMESTAMPS_MS);
        break;
      }
      case 'timestamps':
        if (ev.word_timestamps) this.alignment?.addWords(ev.word_timestamps);
        this.release(false);
        break;
      case 'done':
        this.release(true);
        this.finish();
        this.queue.close();
        break;
      case 'error': {
        this.release(false);
        this.finish();
        const status = ev.status_code;
        const msg = `${ev.title ?? ev.error_code ?? 'error'}: ${ev.message ?? ev.error ?? 'unknown error'}`;
        this.queue.fail(status ? ProviderError.fromStatus(PROVIDER, status, msg) : new ProviderError(PROVIDER, msg, undefined, false));
        break;
      }
      default:
        // flush_done (the segment's audio is all here), phoneme_timestamps.
        this.release(false);
        break;
    }
  }

  /**
   * Hands the held chunk on, credited with the characters its audio voices. `last`: the context
   * is done, so everything sent has been voiced (timestamps for the final words may trail it).
   */
  private release(last: boolean): void {
    const audio = this.held;
    if (!audio) return;
    this.held = null;
    const chars = this.alignment!.addAudio(audio.length / this.bytesPerMs, last);
    this.queue.put(chars === undefined ? { audio } : { audio, chars });
  }

  /**
   * The socket died under this reply. It goes on, once, on a new socket: from the start when no
   * audio had come, else from the first word the timestamps do not show as voiced (the caller
   * hears a seam instead of losing the call). Without timestamps there is no safe place to go on.
   */
  private onDrop(reason: string): void {
    if (this.aborted || this.queue.closed) return;
    this.release(false);
    const from = !this.gotAudio ? 0 : this.alignment ? this.alignment.resume() : -1;
    if (!this.replayed && this.texts.length > 0 && from >= 0) {
      this.replayed = true;
      this.opts.onReconnect?.(`${reason} mid-reply, which went on ${from === 0 ? 'from its start' : 'from its first unvoiced word'}`);
      this.chain = this.attach();
      this.chain.catch(() => {});
      const rest = this.texts.join('').slice(from);
      if (rest.trim() !== '') this.send((ctx) => ctx.push({ transcript: rest }));
      if (this.ended) {
        if (rest.trim() !== '') this.send((ctx) => ctx.no_more_inputs());
        else {
          this.finish();
          this.queue.close();
        }
      }
      return;
    }
    this.finish();
    this.queue.fail(new ProviderError(PROVIDER, `${reason} during a reply`, undefined, true));
  }

  private finish(): void {
    // A long call's signal must not collect one listener per finished reply.
    this.signal?.removeEventListener('abort', this.onAbort);
    this.signal = null;
    clearTimeout(this.heldTimer);
    this.held = null;
    this.unroute();
    this.unroute = () => {};
  }

  push(text: string): void {
    if (this.ended || this.aborted || text.trim() === '') return;
    // Inputs are concatenated verbatim (Cartesia docs, "Contexts"): each clause ends with a space.
    const t = /\s$/.test(text) ? text : `${text} `;
    this.texts.push(t);
    this.alignment?.addText(t);
    this.send((ctx) => ctx.push({ transcript: t }));
  }

  flush(): void {
    if (this.ended || this.aborted || this.texts.length === 0) return;
    this.send((ctx) => ctx.flush());
  }

  end(): void {
    if (this.ended || this.aborted) return;
    this.ended = true;
    if (this.texts.length === 0) {
      // Nothing to say: no context was started, so there is no `done` to wait for.
      this.finish();
      this.queue.close();
      return;
    }
    // An empty transcript with `continue: false` ends a context whose last input was not known
    // in advance (Cartesia docs, "Contexts"); the server answers `done` after the last audio.
    this.send((ctx) => ctx.no_more_inputs());
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.queue.drop();
    this.finish();
    // Cancel stops the inputs not yet started; the generation in flight keeps streaming
    // (SDK-NOTES), and its audio is dropped here because the context is no longer routed.
    if (this.sentInput && this.conn.usable && this.conn.opened) void this.ctx.cancel().catch(() => {});
  }

  [Symbol.asyncIterator](): AsyncIterator<TtsChunk> {
    return this.queue[Symbol.asyncIterator]();
  }
}

/** A connection that never opens: its `ready` rejects with `err`, and nothing is sent on it. */
function refused(err: ProviderError): Connection {
  const ready = Promise.reject(err);
  ready.catch(() => {});
  return { ready, usable: false, opened: false, closed: true } as unknown as Connection;
}
