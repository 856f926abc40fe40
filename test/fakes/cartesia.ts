/**
 * A protocol-faithful fake of Cartesia: the TTS WebSocket (`/tts/websocket`) and REST
 * `GET /voices`, for tests and bench/. Audio is the same deterministic tone as the ElevenLabs
 * fake (`msPerChar` per character) in the requested raw format.
 *
 * Where each fact comes from (docs.cartesia.ai unless said otherwise):
 * - auth: `Authorization: Bearer <key>` (API conventions; SDK 4.2.0 sends it on the upgrade), or
 *   `X-API-Key` (older docs), or `?api_key=` / `?access_token=` for browsers; a version is
 *   required: `Cartesia-Version` header or `?cartesia_version=`, the query winning on WebSockets
 *   (cartesia-ai/skills "cartesia-api"). A bad key is refused at the handshake (401).
 * - a generation request: `model_id`, `transcript`, `voice {mode:"id", id}`, `output_format
 *   {container:"raw", encoding, sample_rate}`, `language`, `context_id`, `continue`,
 *   `add_timestamps`, `max_buffer_delay_ms` (API reference "TTS WebSocket", "Buffering").
 * - contexts: inputs with `continue: true` are concatenated verbatim; an empty transcript with
 *   `continue: false` ends the context; inputs on one context must keep every field but
 *   `transcript`, `continue` and `duration` the same; a context expires 1 s after its last
 *   audio ("Contexts").
 * - buffering: `max_buffer_delay_ms` 0 generates each input at once; above 0 (default 3000) the
 *   text is held until there is enough (here: a sentence end) or the delay passes ("Buffering").
 * - flush: an empty transcript with `continue: true, flush: true` generates what is buffered and
 *   answers `flush_done` with an incremented `flush_id`; chunks carry the `flush_id`
 *   ("Context flushing and flush IDs").
 * - cancel: `{context_id, cancel: true}` stops inputs not yet started; the generation in flight
 *   keeps streaming (SDK-NOTES, measured against the SDK); nothing is sent for the cancel itself.
 * - responses: `chunk {data (base64), done:false, status_code:206, step_time, context_id}`,
 *   `timestamps {word_timestamps {words, start, end} (seconds)}`, `flush_done`, `done {done:true}`,
 *   `error {done:true, title, message, error_code, status_code}` (API reference example messages).
 * - voices: `GET /voices` → `{data:[Voice], has_more, next_page}` with `limit` (1..100),
 *   `starting_after`, `ending_before`, `expand[]=preview_file_url`; Voice fields `id, name,
 *   description, language, gender (masculine|feminine|gender_neutral), is_owner, ...`
 *   (SDK 4.2.0 `resources/voices.ts`, `CursorIDPage`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { fakeTone } from './elevenlabs.js';
import { authOf, FAKE_CARTESIA_VOICES, serveVoices, versionOf, type CartesiaVoice } from './cartesia-voices.js';

export { FAKE_CARTESIA_VOICES, type CartesiaVoice } from './cartesia-voices.js';

/** Model ids the fake accepts: SDK 4.2.0 `TTSModel`, plus `sonic-3-latest` and `sonic-3.6` (docs changelog). */
export const CARTESIA_MODELS = ['sonic-3.5', 'sonic-3', 'sonic-3.5-2026-05-04', 'sonic-3-2026-01-12', 'sonic-3-2025-10-27', 'sonic-latest', 'sonic-3-latest', 'sonic-3.6'];
const ENCODINGS = ['pcm_f32le', 'pcm_s16le', 'pcm_mulaw', 'pcm_alaw'];
const SAMPLE_RATES = [8000, 16000, 22050, 24000, 44100, 48000];
const CHARS_PER_CHUNK = 4;
/** A context expires this long after its last audio ("Contexts"). */
const CONTEXT_EXPIRY_MS = 1000;

export interface CartesiaContextRecord {
  id: string;
  /** Every input received on it, in order. */
  inputs: Array<Record<string, unknown>>;
  text: string;
  generations: number;
  chunks: number;
  flushes: number;
  cancelled: boolean;
  done: boolean;
}

export interface CartesiaWsConnection {
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  messages: Array<Record<string, unknown>>;
  contexts: Map<string, CartesiaContextRecord>;
  errors: Array<Record<string, unknown>>;
  closed: boolean;
  /** Server side: drop the socket (no close frame), as a network failure would. */
  drop(): void;
}

export interface FakeCartesiaOptions {
  apiKey?: string;
  msPerChar?: number;
  /** Time to the first chunk of each context. */
  firstChunkDelayMs?: number;
  chunkDelayMs?: number;
  /** Refuse upgrades with this status. */
  refuseWsStatus?: number;
  /** Send word timestamps when asked (`add_timestamps`); default true. */
  timestamps?: boolean;
  /** Answer `GET /voices` with this status (to exercise failures). */
  voicesStatus?: number;
  /** Drop the first socket after this many messages received on it (later sockets are left alone). */
  dropAfterMessages?: number;
}

export interface FakeCartesia {
  /** `CARTESIA_BASE_URL` (http); the client derives ws:// from it. */
  url: string;
  ws: CartesiaWsConnection[];
  voiceRequests: Array<{ query: Record<string, string | string[]>; headers: http.IncomingHttpHeaders }>;
  voices: CartesiaVoice[];
  options: FakeCartesiaOptions;
  close(): Promise<void>;
}

export async function startFakeCartesia(opts: FakeCartesiaOptions = {}): Promise<FakeCartesia> {
  const options = opts;
  const apiKey = opts.apiKey ?? 'sk_car_test';
  const conns: CartesiaWsConnection[] = [];
  const voiceRequests: FakeCartesia['voiceRequests'] = [];
  const voices = [...FAKE_CARTESIA_VOICES];
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => serveVoices(req, res, { apiKey, voices, voicesStatus: options.voicesStatus, requests: voiceRequests }));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const reject = (status: number) => socket.end(`HTTP/1.1 ${status} Refused\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    if (options.refuseWsStatus) return reject(options.refuseWsStatus);
    if (url.pathname !== '/tts/websocket') return reject(404);
    if (!versionOf(req.headers, url.searchParams)) return reject(400);
    if (authOf(req.headers, url.searchParams) !== apiKey) return reject(401);
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, Object.fromEntries(url.searchParams), req.headers));
  });

  function serve(ws: WebSocket, query: Record<string, string>, headers: http.IncomingHttpHeaders): void {
    const conn: CartesiaWsConnection = {
      query,
      headers,
      messages: [],
      contexts: new Map(),
      errors: [],
      closed: false,
      drop: () => ws.terminate(),
    };
    conns.push(conn);
    let dropped = conns.length > 1;
    const send = (m: Record<string, unknown>) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const fail = (contextId: unknown, title: string, message: string, errorCode: string, status = 400) => {
      const e = { type: 'error', done: true, title, message, error_code: errorCode, status_code: status, context_id: contextId };
      conn.errors.push(e);
      send(e);
    };

    interface Ctx {
      rec: CartesiaContextRecord;
      fields: string;
      format: string;
      timestamps: boolean;
      delayMs: number;
      buffer: string;
      /** Inputs waiting for the generator; cancel drops them. */
      pending: Array<{ text: string; flush: boolean; last: boolean }>;
      running: boolean;
      flushId: number;
      offsetSamples: number;
      audioMs: number;
      ended: boolean;
      lastAudioAt: number;
      timer?: NodeJS.Timeout;
    }
    const contexts = new Map<string, Ctx>();

    const run = async (c: Ctx) => {
      if (c.running) return;
      c.running = true;
      try {
        for (;;) {
          const job = c.pending.shift();
          if (!job) break;
          if (job.text) await generate(c, job.text);
          if (job.flush) {
            send({ type: 'flush_done', done: false, flush_done: true, flush_id: c.flushId, status_code: 206, context_id: c.rec.id });
            c.flushId++;
          }
          if (job.last && !c.rec.cancelled) {
            c.rec.done = true;
            send({ type: 'done', done: true, status_code: 206, context_id: c.rec.id });
          }
        }
      } finally {
        c.running = false;
      }
    };

    const generate = async (c: Ctx, text: string) => {
      c.rec.generations++;
      // Time to first audio is a context's, not each continuation's: later inputs are generated
      // while earlier audio streams (as the ElevenLabs fake does per socket, for the same reason).
      if (options.firstChunkDelayMs && c.rec.generations === 1) await sleep(options.firstChunkDelayMs);
      const msPerChar = options.msPerChar ?? 60;
      const rate = c.format === 'ulaw_8000' ? 8000 : Number(c.format.slice(4));
      // Word timestamps follow the chunks that voice them (the client must cope with the lag).
      const words = [...text.matchAll(/\S+/g)];
      let wi = 0;
      for (let i = 0; i < text.length; i += CHARS_PER_CHUNK) {
        if (ws.readyState !== ws.OPEN) return;
        const part = text.slice(i, i + CHARS_PER_CHUNK);
        const audio = fakeTone(c.format, part.length, msPerChar, c.offsetSamples);
        c.offsetSamples += Math.round((part.length * msPerChar * rate) / 1000);
        c.rec.chunks++;
        send({ type: 'chunk', data: audio.toString('base64'), done: false, status_code: 206, step_time: 1, flush_id: c.flushId, context_id: c.rec.id });
        const chunkEnd = i + part.length;
        const done: typeof words = [];
        while (wi < words.length && words[wi]!.index! + words[wi]![0].length <= chunkEnd) done.push(words[wi++]!);
        if (c.timestamps && options.timestamps !== false && done.length > 0) {
          const base = c.audioMs;
          send({
            type: 'timestamps',
            done: false,
            status_code: 206,
            context_id: c.rec.id,
            word_timestamps: {
              // Words without punctuation, as Cartesia reports them; times in seconds from the context's start.
              words: done.map((w) => w[0].replace(/[.,!?;:]+$/, '')),
              start: done.map((w) => (base + w.index! * msPerChar) / 1000),
              end: done.map((w) => (base + (w.index! + w[0].length) * msPerChar) / 1000),
            },
          });
        }
        c.lastAudioAt = Date.now();
        if (options.chunkDelayMs) await sleep(options.chunkDelayMs);
      }
      c.audioMs += text.length * msPerChar;
    };

    const take = (c: Ctx, flush: boolean, last: boolean) => {
      clearTimeout(c.timer);
      const text = c.buffer;
      c.buffer = '';
      c.pending.push({ text, flush, last });
      void run(c);
    };

    ws.on('message', (data) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return fail(null, 'Invalid JSON', 'The message is not valid JSON.', 'invalid_json');
      }
      conn.messages.push(msg);
      if (options.dropAfterMessages && !dropped && conn.messages.length >= options.dropAfterMessages) {
        dropped = true;
        return ws.terminate();
      }
      const contextId = msg.context_id;
      if (typeof contextId !== 'string' || contextId === '') return fail(null, 'Missing context', 'context_id is required.', 'invalid_request');
      if (msg.cancel === true) {
        const c = contexts.get(contextId);
        if (c) {
          c.rec.cancelled = true;
          c.pending.length = 0;
          c.buffer = '';
          clearTimeout(c.timer);
        }
        return;
      }
      const { transcript, continue: cont, duration: _d, flush, ...rest } = msg;
      if (typeof transcript !== 'string') return fail(contextId, 'Invalid request', 'transcript is required.', 'invalid_request');
      const model = rest.model_id;
      if (typeof model !== 'string' || !CARTESIA_MODELS.includes(model)) return fail(contextId, 'Invalid model', 'The model is not valid, make sure it is a valid model ID.', 'model_not_found');
      const v = rest.voice as { mode?: string; id?: string } | undefined;
      if (!v || v.mode !== 'id' || typeof v.id !== 'string') return fail(contextId, 'Invalid voice', 'voice must be {"mode": "id", "id": …}.', 'invalid_request');
      if (!voices.some((x) => x.id === v.id)) return fail(contextId, 'Voice not found', `No voice with id ${v.id}.`, 'voice_not_found', 404);
      const of = rest.output_format as { container?: string; encoding?: string; sample_rate?: number } | undefined;
      if (!of || of.container !== 'raw' || !ENCODINGS.includes(String(of.encoding)) || !SAMPLE_RATES.includes(Number(of.sample_rate))) {
        return fail(contextId, 'Invalid output format', 'output_format must be raw with a supported encoding and sample_rate.', 'invalid_request');
      }
      // The tone generator speaks μ-law 8 kHz and s16le at any rate: what voxgate asks for.
      const format = of.encoding === 'pcm_mulaw' && of.sample_rate === 8000 ? 'ulaw_8000' : of.encoding === 'pcm_s16le' ? `pcm_${of.sample_rate}` : null;
      if (!format) return fail(contextId, 'Unsupported by fake', `the fake cannot voice ${of.encoding}@${of.sample_rate}`, 'invalid_request');
      const fields = JSON.stringify(rest, Object.keys(rest).sort());
      let c = contexts.get(contextId);
      if (c && (c.ended || c.rec.cancelled)) {
        const expired = c.rec.cancelled || (c.rec.done && Date.now() - c.lastAudioAt > CONTEXT_EXPIRY_MS);
        if (expired || c.ended) return fail(contextId, 'Context closed', 'This context no longer accepts inputs.', 'context_closed');
      }
      if (!c) {
        const rec: CartesiaContextRecord = { id: contextId, inputs: [], text: '', generations: 0, chunks: 0, flushes: 0, cancelled: false, done: false };
        conn.contexts.set(contextId, rec);
        c = {
          rec,
          fields,
          format,
          timestamps: rest.add_timestamps === true,
          delayMs: typeof rest.max_buffer_delay_ms === 'number' ? rest.max_buffer_delay_ms : 3000,
          buffer: '',
          pending: [],
          running: false,
          flushId: 1,
          offsetSamples: 0,
          audioMs: 0,
          ended: false,
          lastAudioAt: Date.now(),
        };
        contexts.set(contextId, c);
      } else if (c.fields !== fields) {
        return fail(contextId, 'Inconsistent context', 'Inputs on the same context must keep all fields except transcript, continue and duration the same.', 'invalid_request');
      }
      c.rec.inputs.push(msg);
      c.rec.text += transcript;
      c.buffer += transcript;
      const last = cont !== true;
      if (flush === true) c.rec.flushes++;
      if (last) c.ended = true;
      if (last || flush === true || c.delayMs === 0 || /[.!?]\s*$/.test(c.buffer)) return take(c, flush === true, last);
      const cc = c;
      clearTimeout(c.timer);
      c.timer = setTimeout(() => take(cc, false, false), c.delayMs);
    });
    ws.on('close', () => {
      conn.closed = true;
      for (const c of contexts.values()) clearTimeout(c.timer);
    });
    ws.on('error', () => {});
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    ws: conns,
    voiceRequests,
    voices,
    options,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        for (const s of sockets) s.destroy();
        wss.close();
        server.close(() => resolve());
      }),
  };
}
