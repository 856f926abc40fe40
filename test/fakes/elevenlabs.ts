/**
 * A protocol-faithful fake of ElevenLabs TTS (PROTOCOLS.md §4.1 HTTP stream, §4.2 stream-input
 * WebSocket), for tests and bench/. Audio is deterministic: a 300 Hz tone of `msPerChar` per
 * character of text, in the requested `output_format` (ulaw_8000, pcm_16000, …), with
 * per-chunk alignment. Records every connection's messages and the text it received.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ulawEncodeSample } from '../../src/media/index.js';

export interface ElevenLabsWsConnection {
  voiceId: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  /** Every JSON message received, in order (BOS, text chunks, flush, EOS). */
  messages: Array<Record<string, unknown>>;
  /** Text received (BOS excluded), concatenated. */
  text: string;
  audioMessages: number;
  /** Generations started (each chunk-schedule trigger, try_trigger_generation, flush or EOS with text). */
  generations: number;
  /** Times the first-byte delay was waited: at most once per socket. */
  firstByteWaits: number;
  /** The client closed or dropped the socket before the final message. */
  abortedByClient: boolean;
  closed: boolean;
}

export interface ElevenLabsHttpRequest {
  voiceId: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: { text: string; model_id?: string; voice_settings?: unknown };
  aborted: boolean;
}

export interface FakeElevenLabsOptions {
  apiKey?: string;
  msPerChar?: number;
  /**
   * Time to first byte: on HTTP, before each response's audio; on the stream-input WebSocket,
   * once per socket (one socket is one utterance), before its first generation's audio.
   */
  firstChunkDelayMs?: number;
  /** Refuse WebSocket upgrades with this status (to exercise the HTTP fallback). */
  refuseWsStatus?: number;
  /** Close idle sockets after this long (the real default is `inactivity_timeout`, 20 s). */
  inactivityMs?: number;
  /** Send alignment with audio messages (default true). */
  alignment?: boolean;
  /** Delay between audio chunks of one generation. */
  chunkDelayMs?: number;
  /** Answer `GET /v1/voices` with this status (to exercise failures). */
  voicesStatus?: number;
}

/** The voices `GET /v1/voices` lists: two of ElevenLabs' long-standing premade voices, one cloned, one legacy. */
export const FAKE_ELEVENLABS_VOICES = [
  elVoice('21m00Tcm4TlvDq8ikWAM', 'Rachel', 'premade', { accent: 'american', gender: 'female', age: 'young' }, 'en'),
  elVoice('pNInz6obpgDQGcFmaJgB', 'Adam', 'premade', { accent: 'american', gender: 'male', age: 'middle aged' }, 'en'),
  elVoice('voice-cloned-1', 'My clone', 'cloned', {}, 'de'),
  { ...elVoice('voice-legacy-1', 'Old voice', 'premade', { gender: 'male' }, 'en'), is_legacy: true },
];

function elVoice(id: string, name: string, category: string, labels: Record<string, string>, language: string) {
  return {
    voice_id: id,
    name,
    category,
    labels,
    description: null,
    preview_url: `https://storage.googleapis.com/eleven-public-prod/premade/voices/${id}/preview.mp3`,
    available_for_tiers: [],
    settings: null,
    high_quality_base_model_ids: ['eleven_flash_v2_5'],
    verified_languages: [{ language, model_id: 'eleven_multilingual_v2', accent: labels.accent ?? null, locale: null, preview_url: null }],
    is_owner: category === 'cloned',
    is_legacy: false,
    is_mixed: false,
  };
}

export interface FakeElevenLabs {
  /** HTTP base URL (`ELEVENLABS_BASE_URL`); the client derives ws:// from it. */
  url: string;
  ws: ElevenLabsWsConnection[];
  http: ElevenLabsHttpRequest[];
  /** `GET /v1/voices` requests. */
  voiceRequests: Array<{ query: Record<string, string>; headers: http.IncomingHttpHeaders }>;
  options: FakeElevenLabsOptions;
  close(): Promise<void>;
}

const CHARS_PER_CHUNK = 4;

/** Bytes per ms and an encoder for the requested output format. */
function formatOf(name: string): { bytesPerMs: number; rate: number; encode: (samples: number[]) => Buffer } {
  if (name === 'ulaw_8000') return { bytesPerMs: 8, rate: 8000, encode: (s) => Buffer.from(s.map(ulawEncodeSample)) };
  const m = /^pcm_(\d+)$/.exec(name);
  if (m) {
    const rate = Number(m[1]);
    return {
      bytesPerMs: (rate * 2) / 1000,
      rate,
      encode: (s) => {
        const b = Buffer.alloc(s.length * 2);
        s.forEach((v, i) => b.writeInt16LE(v, 2 * i));
        return b;
      },
    };
  }
  throw new Error(`unsupported output_format ${name}`);
}

/** The tone for `chars` characters starting at sample `offset` (phase-continuous). */
export function fakeTone(format: string, chars: number, msPerChar: number, offset = 0): Buffer {
  const f = formatOf(format);
  const n = Math.round((chars * msPerChar * f.rate) / 1000);
  const s: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) s[i] = Math.round(6000 * Math.sin((2 * Math.PI * 300 * (offset + i)) / f.rate));
  return f.encode(s);
}

export async function startFakeElevenLabs(opts: FakeElevenLabsOptions = {}): Promise<FakeElevenLabs> {
  const options = opts;
  const apiKey = opts.apiKey ?? 'el-test';
  const wsConns: ElevenLabsWsConnection[] = [];
  const voiceRequests: FakeElevenLabs['voiceRequests'] = [];
  const httpReqs: ElevenLabsHttpRequest[] = [];
  const msPerChar = () => options.msPerChar ?? 60;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => void handleHttp(req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ noServer: true });

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/v1/voices') return listVoices(req, url, res);
    const m = /^\/v1\/text-to-speech\/([^/]+)\/stream$/.exec(url.pathname);
    if (req.method !== 'POST' || !m) return void res.writeHead(404).end();
    if (req.headers['xi-api-key'] !== apiKey) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ detail: { status: 'invalid_api_key', message: 'Invalid API key' } }));
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ElevenLabsHttpRequest['body'];
    const rec: ElevenLabsHttpRequest = { voiceId: m[1]!, query: Object.fromEntries(url.searchParams), headers: req.headers, body, aborted: false };
    httpReqs.push(rec);
    res.on('close', () => {
      if (!res.writableFinished) rec.aborted = true;
    });
    const format = url.searchParams.get('output_format') ?? 'mp3_44100_128';
    if (!body.text) {
      res.writeHead(422, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ detail: [{ loc: ['body', 'text'], msg: 'field required', type: 'value_error.missing' }] }));
    }
    if (options.firstChunkDelayMs) await sleep(options.firstChunkDelayMs);
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'transfer-encoding': 'chunked' });
    let offset = 0;
    for (let i = 0; i < body.text.length; i += CHARS_PER_CHUNK) {
      if (res.destroyed) return;
      const n = Math.min(CHARS_PER_CHUNK, body.text.length - i);
      const audio = fakeTone(format, n, msPerChar(), offset);
      offset += audio.length / (format === 'ulaw_8000' ? 1 : 2);
      res.write(audio);
      if (options.chunkDelayMs) await sleep(options.chunkDelayMs);
    }
    res.end();
  }

  /**
   * `GET /v1/voices` (ElevenLabs API reference "Get voices", SDK 2.73 `voices.getAll`): the
   * account's voices as `{voices: [{voice_id, name, category, labels, preview_url,
   * verified_languages, ...}]}`, `xi-api-key` auth (401 `invalid_api_key` otherwise), and the
   * `show_legacy` query flag.
   */
  function listVoices(req: http.IncomingMessage, url: URL, res: http.ServerResponse): void {
    voiceRequests.push({ query: Object.fromEntries(url.searchParams), headers: req.headers });
    if (req.headers['xi-api-key'] !== apiKey) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ detail: { status: 'invalid_api_key', message: 'Invalid API key' } }));
    }
    if (options.voicesStatus) {
      res.writeHead(options.voicesStatus, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ detail: { status: 'internal_error', message: 'voices unavailable' } }));
    }
    const legacy = url.searchParams.get('show_legacy') === 'true';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ voices: FAKE_ELEVENLABS_VOICES.filter((v) => legacy || !v.is_legacy) }));
  }

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/v1\/text-to-speech\/([^/]+)\/stream-input$/.exec(url.pathname);
    const reject = (status: number) => socket.end(`HTTP/1.1 ${status} Refused\r\nconnection: close\r\n\r\n`);
    if (options.refuseWsStatus) return reject(options.refuseWsStatus);
    if (!m) return reject(404);
    // §4.2: inactivity_timeout is 1..180 seconds; the output format must be one ElevenLabs knows.
    const inactivity = url.searchParams.get('inactivity_timeout');
    if (inactivity !== null && !(Number(inactivity) >= 1 && Number(inactivity) <= 180)) return reject(422);
    const fmt = url.searchParams.get('output_format');
    if (fmt !== null && !/^(ulaw_8000|alaw_8000|pcm_(8000|16000|22050|24000|44100|48000)|mp3_\d+_\d+|opus_48000_\d+)$/.test(fmt)) return reject(422);
    wss.handleUpgrade(req, socket, head, (ws) => serveWs(ws, m[1]!, Object.fromEntries(url.searchParams), req.headers));
  });

  function serveWs(ws: WebSocket, voiceId: string, query: Record<string, string>, headers: http.IncomingHttpHeaders): void {
    const conn: ElevenLabsWsConnection = { voiceId, query, headers, messages: [], text: '', audioMessages: 0, generations: 0, firstByteWaits: 0, abortedByClient: false, closed: false };
    wsConns.push(conn);
    const format = query.output_format ?? 'mp3_44100_128';
    let authed = headers['xi-api-key'] === apiKey;
    let buffer = '';
    let schedule = [120, 160, 250, 290];
    let generation = 0;
    let finished = false;
    let offset = 0;
    let chain: Promise<void> = Promise.resolve();
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      const ms = options.inactivityMs ?? Number(query.inactivity_timeout ?? 20) * 1000;
      idle = setTimeout(() => ws.close(1008, 'inactivity timeout'), ms);
    };
    armIdle();

    // Time to first byte applies once per socket, not per generation: PROTOCOLS.md §4.2 has one
    // stream per socket, where `chunk_length_schedule` / `try_trigger_generation` only decide
    // when buffered text goes to the generator and later pieces' audio follows on the same
    // stream. A fresh first-byte wait before every clause made the fake put 100–150 ms holes
    // inside pipeline answers (docs/performance.md) that a real stream does not have.
    let firstByteDone = false;
    const generate = (text: string) => {
      if (!text) return;
      const waitFirstByte = !firstByteDone;
      firstByteDone = true;
      conn.generations++;
      if (waitFirstByte && options.firstChunkDelayMs) conn.firstByteWaits++;
      chain = chain.then(async () => {
        if (waitFirstByte && options.firstChunkDelayMs) await sleep(options.firstChunkDelayMs);
        for (let i = 0; i < text.length; i += CHARS_PER_CHUNK) {
          if (ws.readyState !== ws.OPEN) return;
          const part = text.slice(i, i + CHARS_PER_CHUNK);
          const audio = fakeTone(format, part.length, msPerChar(), offset);
          offset += audio.length / (format === 'ulaw_8000' ? 1 : 2);
          const chars = [...part];
          const align = options.alignment === false ? null : { chars, charStartTimesMs: chars.map((_, k) => k * msPerChar()), charsDurationsMs: chars.map(() => msPerChar()) };
          conn.audioMessages++;
          ws.send(JSON.stringify({ audio: audio.toString('base64'), isFinal: false, normalizedAlignment: align, alignment: align }));
          if (options.chunkDelayMs) await sleep(options.chunkDelayMs);
        }
      });
    };
    const take = () => {
      const t = buffer;
      buffer = '';
      generation++;
      generate(t);
    };

    ws.on('message', (data) => {
      armIdle();
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return ws.close(1007, 'invalid json');
      }
      conn.messages.push(msg);
      if (conn.messages.length === 1) {
        // BOS: `text` must be a single space; the key may ride in the message (both spellings, §4.2).
        if (msg.xi_api_key === apiKey || msg['xi-api-key'] === apiKey) authed = true;
        if (!authed) return ws.close(1008, 'invalid api key');
        if (msg.text !== ' ') return ws.close(1008, 'first message must have text " "');
        const gc = msg.generation_config as { chunk_length_schedule?: number[] } | undefined;
        if (gc?.chunk_length_schedule) {
          // Each value must lie in [50, 500] characters (ElevenLabs' schema; livekit's plugin notes the same range).
          if (!gc.chunk_length_schedule.every((n) => Number.isInteger(n) && n >= 50 && n <= 500)) return ws.close(1008, 'chunk_length_schedule values must be in [50, 500]');
          schedule = gc.chunk_length_schedule;
        }
        return;
      }
      const text = msg.text;
      if (typeof text !== 'string') return;
      if (text === '') {
        // EOS: generate the rest, send the final message, close.
        take();
        finished = true;
        void chain.then(() => {
          if (ws.readyState === ws.OPEN) {
            ws.send(JSON.stringify({ isFinal: true }));
            ws.close(1000);
          }
        });
        return;
      }
      // A lone space is keep-alive or a flush carrier: nothing to voice.
      if (text.trim() !== '') {
        conn.text += text;
        buffer += text;
      }
      const threshold = schedule[Math.min(generation, schedule.length - 1)] ?? 120;
      if (msg.flush || msg.try_trigger_generation || buffer.length >= threshold) take();
    });
    ws.on('close', () => {
      clearTimeout(idle);
      conn.closed = true;
      if (!finished) conn.abortedByClient = true;
    });
    ws.on('error', () => {});
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    ws: wsConns,
    http: httpReqs,
    voiceRequests,
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
