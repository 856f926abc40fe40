/**
 * A fake OpenAI-compatible speech server (OpenAI audio API; whisper.cpp / speaches / Kokoro
 * speak the same), for tests and bench/:
 * - `POST /v1/audio/transcriptions`: multipart form (file, model, response_format, language…),
 *   parsed with the platform's own multipart parser; the file must be a WAV (its header is
 *   parsed and recorded); answers `{"text": …}` from a scripted list, one per request.
 * - `POST /v1/audio/speech`: JSON {model, input, voice, response_format}; only 'pcm' (raw 24 kHz
 *   16-bit mono LE) is served: a deterministic 300 Hz tone, `msPerChar` per input character,
 *   streamed in chunks (with an odd byte count, so clients must carry half samples) after an
 *   optional first-byte delay.
 * Both check `Authorization: Bearer <key>` and record every request. `openConnections` counts
 * live client sockets (leak checks).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseWav, type WavInfo } from '../../src/media/index.js';

export const SPEECH_RATE = 24_000;

export interface TranscriptionRequest {
  headers: http.IncomingHttpHeaders;
  fields: Record<string, string>;
  fileName: string | null;
  fileType: string | null;
  wav: WavInfo | null;
  /** Audio length of the posted WAV. */
  durationMs: number;
  /** Peak |sample| of the posted audio (PCM16 WAVs): tells speech from silence. */
  peak: number;
}

export interface SpeechRequest {
  headers: http.IncomingHttpHeaders;
  body: { model?: string; input?: string; voice?: string; response_format?: string; [k: string]: unknown };
  bytesSent: number;
  aborted: boolean;
  completed: boolean;
}

export interface FakeOpenAiAudioOptions {
  apiKey?: string;
  /** Text per transcription request, in order; then `fallbackTranscript`. */
  transcripts?: string[];
  fallbackTranscript?: string;
  /** Answer transcriptions with this status instead (an OpenAI error body). */
  transcriptionStatus?: number;
  /** Delay before a transcription answers. */
  transcriptionDelayMs?: number;
  /** Speech: ms of audio per input character. */
  msPerChar?: number;
  /** Speech: delay before the first byte. */
  firstByteDelayMs?: number;
  /** Speech: delay between chunks. */
  chunkDelayMs?: number;
  /** Speech: bytes per chunk (odd by default on purpose: 24 kHz PCM16 split mid-sample). */
  chunkBytes?: number;
  /** Answer speech with this status instead. */
  speechStatus?: number;
}

export interface FakeOpenAiAudio {
  /** Base URL including `/v1` (STT_BASE_URL / TTS_BASE_URL). */
  url: string;
  options: FakeOpenAiAudioOptions;
  transcriptions: TranscriptionRequest[];
  speech: SpeechRequest[];
  readonly openConnections: number;
  close(): Promise<void>;
}

/** The fake's speech audio for `chars` characters: 300 Hz at 0.3 full scale, 24 kHz PCM16 LE. */
export function fakeSpeechPcm(chars: number, msPerChar: number): Buffer {
  const n = Math.round((chars * msPerChar * SPEECH_RATE) / 1000);
  const out = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * 300 * i) / SPEECH_RATE)), 2 * i);
  return out;
}

export async function startFakeOpenAiAudio(opts: FakeOpenAiAudioOptions = {}): Promise<FakeOpenAiAudio> {
  const options = opts;
  const apiKey = opts.apiKey ?? 'sk-audio';
  const transcriptions: TranscriptionRequest[] = [];
  const speech: SpeechRequest[] = [];
  const sockets = new Set<Socket>();
  let transcriptIndex = 0;

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err) => {
      if (!res.headersSent) sendError(res, 500, String(err));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = req.url?.split('?')[0];
    if (req.method !== 'POST' || (path !== '/v1/audio/transcriptions' && path !== '/v1/audio/speech')) return sendError(res, 404, 'Not found');
    if (req.headers.authorization !== `Bearer ${apiKey}`) return sendError(res, 401, 'Incorrect API key provided', 'invalid_api_key');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    if (path === '/v1/audio/transcriptions') return transcribe(req, res, raw);
    return speak(req, res, raw);
  }

  async function transcribe(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): Promise<void> {
    let form: FormData;
    try {
      form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: new Uint8Array(raw) }).formData();
    } catch {
      return sendError(res, 400, 'Could not parse multipart form');
    }
    const fields: Record<string, string> = {};
    const files: File[] = [];
    form.forEach((v, k) => {
      if (typeof v === 'string') fields[k] = v;
      else if (k === 'file') files.push(v as File);
    });
    const file = files[0] ?? null;
    const rec: TranscriptionRequest = { headers: req.headers, fields, fileName: file?.name ?? null, fileType: file?.type ?? null, wav: null, durationMs: 0, peak: 0 };
    transcriptions.push(rec);
    if (!file) return sendError(res, 400, "Missing required parameter: 'file'.");
    if (!fields.model) return sendError(res, 400, "Missing required parameter: 'model'.");
    const bytes = Buffer.from(await file.arrayBuffer());
    try {
      rec.wav = parseWav(bytes);
    } catch {
      return sendError(res, 400, 'Invalid file format. The audio file could not be decoded.');
    }
    const w = rec.wav;
    rec.durationMs = (w.dataBytes / (w.channels * (w.bitsPerSample >> 3)) / w.sampleRate) * 1000;
    if (w.audioFormat === 1 && w.bitsPerSample === 16) {
      for (let o = w.dataOffset; o + 1 < w.dataOffset + w.dataBytes; o += 2) rec.peak = Math.max(rec.peak, Math.abs(bytes.readInt16LE(o)));
    }
    if (options.transcriptionDelayMs) await sleep(options.transcriptionDelayMs);
    if (options.transcriptionStatus) return sendError(res, options.transcriptionStatus, 'scripted error');
    const text = options.transcripts?.[transcriptIndex] ?? options.fallbackTranscript ?? '';
    transcriptIndex++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ text }));
  }

  async function speak(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): Promise<void> {
    let body: SpeechRequest['body'];
    try {
      body = JSON.parse(raw.toString('utf8')) as SpeechRequest['body'];
    } catch {
      return sendError(res, 400, 'We could not parse the JSON body of your request.');
    }
    const rec: SpeechRequest = { headers: req.headers, body, bytesSent: 0, aborted: false, completed: false };
    speech.push(rec);
    res.on('close', () => {
      if (!rec.completed) rec.aborted = true;
    });
    if (typeof body.input !== 'string' || !body.input || typeof body.model !== 'string' || typeof body.voice !== 'string') {
      return sendError(res, 400, "Missing required parameter: 'model', 'input' or 'voice'.");
    }
    if (body.response_format !== 'pcm') return sendError(res, 400, `This fake serves response_format 'pcm' only, not ${body.response_format}`);
    if (options.speechStatus) return sendError(res, options.speechStatus, 'scripted error');
    if (options.firstByteDelayMs) await sleep(options.firstByteDelayMs);
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'audio/pcm', 'transfer-encoding': 'chunked' });
    const audio = fakeSpeechPcm(body.input.length, options.msPerChar ?? 20);
    const step = options.chunkBytes ?? 4801;
    for (let off = 0; off < audio.length; off += step) {
      if (off > 0 && options.chunkDelayMs) await sleep(options.chunkDelayMs);
      if (res.destroyed) return;
      const piece = audio.subarray(off, off + step);
      res.write(piece);
      rec.bytesSent += piece.length;
    }
    rec.completed = true;
    res.end();
  }

  function sendError(res: http.ServerResponse, status: number, message: string, code: string | null = null): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code } }));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    options,
    transcriptions,
    speech,
    get openConnections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
