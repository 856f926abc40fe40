/**
 * A protocol-faithful fake of Deepgram Flux, the turn-taking STT (`/v2/listen`), for tests.
 * Facts and where they come from:
 *   - URL `/v2/listen`, query `model` (`flux-general-en`, `flux-general-multi`), `encoding`,
 *     `sample_rate`, `eager_eot_threshold`, `eot_threshold`, `eot_timeout_ms`: @deepgram/sdk 5.13
 *     `listen.v2` (Client.d.mts ConnectArgs) and developers.deepgram.com/docs/flux/configuration.
 *   - Raw encodings `linear16 linear32 mulaw alaw opus ogg-opus`, each needing `sample_rate`, one
 *     of 8000/16000/24000/44100/48000: Deepgram changelog 2025-10-16 ("Flux: Expanded Audio
 *     Format Support") and docs/encoding. So phone μ-law at 8 kHz goes as it is.
 *   - Ranges: eager_eot_threshold 0.3–0.9 (unset = no EagerEndOfTurn/TurnResumed events),
 *     eot_threshold 0.5–0.9 (default 0.7), eot_timeout_ms 500–10000 (default 5000):
 *     docs/flux/configuration (the SDK comments allow eot_threshold up to 1.0; we follow the page).
 *     Out of range, the handshake is refused with 400 (UNVERIFIED: the exact status).
 *   - `Authorization: Token <key>`: as for /v1 (SDK passes `Authorization`).
 *   - Server messages: `Connected {request_id, sequence_id}`, then `TurnInfo {request_id,
 *     sequence_id, event, turn_index, audio_window_start, audio_window_end, transcript, words:
 *     [{word, confidence}], end_of_turn_confidence}` with `trigger` only on EndOfTurn
 *     (model|manual|timeout); `Error {sequence_id, code, description}`: SDK types
 *     ListenV2Connected / ListenV2TurnInfo / ListenV2FatalError. sequence_id counts every message.
 *   - The state machine (docs/flux/state): Update about every 0.25 s of audio; StartOfTurn always
 *     carries a non-empty transcript; EagerEndOfTurn a non-empty one; TurnResumed only after an
 *     EagerEndOfTurn; EndOfTurn's transcript equals the preceding EagerEndOfTurn's (a change
 *     goes through TurnResumed first); turn_index increments after EndOfTurn.
 *   - Client `CloseStream`: the server finishes and closes normally (SDK sendCloseStream).
 * The model itself is modelled, not copied: speech is found by energy in the audio (timing
 * follows the audio, not the wall clock); after speech, silence raises the end-of-turn
 * confidence; a scripted transcript that ends in a sentence mark reaches `eager_eot_threshold`
 * after `eagerSilenceMs` and `eot_threshold` after `endSilenceMs`; one that does not (a filler,
 * a trailing "and") never does, and its turn ends only at `eot_timeout_ms` (trigger `timeout`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ULAW_DECODE_TABLE } from '../../src/media/index.js';

export interface FluxConnection {
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  audioBytes: number;
  /** Client JSON messages by type, in order (`CloseStream`, `Configure`...). */
  controls: string[];
  /** Messages sent to the client, in order. */
  sent: Array<Record<string, unknown>>;
  closed: boolean;
  closeCode?: number;
  socket: WebSocket;
}

export interface FakeFluxOptions {
  apiKey?: string;
  /** Transcript per turn, in order; then `fallbackTranscript`. */
  transcripts?: string[];
  fallbackTranscript?: string;
  /** RMS (linear, 0..32768) above which a 20 ms block counts as speech. */
  speechRms?: number;
  /** Silence after speech at which a complete transcript reaches the eager threshold. */
  eagerSilenceMs?: number;
  /** ...and the end-of-turn threshold. */
  endSilenceMs?: number;
  refuseStatus?: number;
}

export interface FakeFlux {
  url: string;
  connections: FluxConnection[];
  options: FakeFluxOptions;
  dropAll(): void;
  close(): Promise<void>;
}

const REQUEST_ID = '3f2a6c1e-9b7d-4e25-8d0b-6a1f0c9e2b47';
const ENCODINGS = new Set(['linear16', 'linear32', 'mulaw', 'alaw', 'opus', 'ogg-opus']);
const SAMPLE_RATES = new Set([8000, 16000, 24000, 44100, 48000]);
const UPDATE_EVERY_MS = 240; // "approximately every 0.25 seconds"; a multiple of 20 ms blocks

export async function startFakeFlux(opts: FakeFluxOptions = {}): Promise<FakeFlux> {
  const options = opts;
  const apiKey = opts.apiKey ?? 'dg-test';
  const connections: FluxConnection[] = [];
  let turnNo = 0;
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const reject = (status: number, text: string) =>
      socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"err_code":"${text}"}`);
    if (options.refuseStatus) return reject(options.refuseStatus, 'Refused');
    if (url.pathname !== '/v2/listen') return reject(404, 'Not Found');
    if ((req.headers.authorization ?? '') !== `Token ${apiKey}`) return reject(401, 'INVALID_AUTH');
    const q = Object.fromEntries(url.searchParams.entries());
    if (!q.model?.startsWith('flux-')) return reject(400, 'Bad Request');
    if (q.encoding && (!ENCODINGS.has(q.encoding) || !SAMPLE_RATES.has(Number(q.sample_rate)))) return reject(400, 'Bad Request');
    const inRange = (v: string | undefined, lo: number, hi: number) => v === undefined || (Number(v) >= lo && Number(v) <= hi);
    if (!inRange(q.eager_eot_threshold, 0.3, 0.9) || !inRange(q.eot_threshold, 0.5, 0.9) || !inRange(q.eot_timeout_ms, 500, 10000)) return reject(400, 'Bad Request');
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, q, req.headers));
  });

  function serve(ws: WebSocket, q: Record<string, string>, headers: http.IncomingHttpHeaders): void {
    const conn: FluxConnection = { query: q, headers, audioBytes: 0, controls: [], sent: [], closed: false, socket: ws };
    connections.push(conn);
    const encoding = q.encoding ?? 'linear16';
    const sampleRate = Number(q.sample_rate ?? 16000);
    const bytesPerSample = encoding === 'mulaw' || encoding === 'alaw' ? 1 : 2;
    const blockBytes = Math.round(sampleRate / 50) * bytesPerSample;
    const eager = q.eager_eot_threshold !== undefined ? Number(q.eager_eot_threshold) : null;
    const eotThreshold = Number(q.eot_threshold ?? 0.7);
    const timeoutMs = Number(q.eot_timeout_ms ?? 5000);
    const threshold = options.speechRms ?? 500;
    const eagerSilence = options.eagerSilenceMs ?? 100;
    const endSilence = options.endSilenceMs ?? 200;

    let seq = 0;
    let streamMs = 0;
    let carry = Buffer.alloc(0);
    let turnIndex = 0;
    let inTurn = false;
    let turnStartMs = 0;
    let speechMs = 0;
    let silenceMs = 0;
    let sinceUpdateMs = 0;
    let eagerSent = false;
    let transcript = '';

    const send = (m: Record<string, unknown>) => {
      const msg = { ...m, sequence_id: seq++ };
      conn.sent.push(msg);
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    const words = (t: string) => t.split(/\s+/).filter(Boolean);
    /** What has been "recognised" so far: words in proportion to speech heard (all by 1 s). */
    const heard = () => {
      const w = words(transcript);
      if (speechMs <= 0) return '';
      return w.slice(0, Math.max(1, Math.ceil(w.length * Math.min(1, speechMs / 1000)))).join(' ');
    };
    const turnInfo = (event: string, text: string, confidence: number, extra: Record<string, unknown> = {}) =>
      send({
        type: 'TurnInfo',
        request_id: REQUEST_ID,
        event,
        turn_index: turnIndex,
        audio_window_start: turnStartMs / 1000,
        audio_window_end: streamMs / 1000,
        transcript: text,
        words: words(text).map((w) => ({ word: w, confidence: 0.97 })),
        end_of_turn_confidence: confidence,
        ...extra,
      });
    const complete = () => /[.?!]$/.test(heard());
    const endTurn = (trigger: 'model' | 'timeout') => {
      turnInfo('EndOfTurn', heard(), trigger === 'model' ? eotThreshold : 0.3, { trigger });
      turnIndex++;
      inTurn = false;
      eagerSent = false;
      speechMs = 0;
    };

    send({ type: 'Connected', request_id: REQUEST_ID });

    const block = (b: Buffer) => {
      let sum = 0;
      const n = b.length / bytesPerSample;
      for (let i = 0; i < n; i++) {
        const s = bytesPerSample === 1 ? ULAW_DECODE_TABLE[b[i]!]! : b.readInt16LE(2 * i);
        sum += s * s;
      }
      const blockMs = (n / sampleRate) * 1000;
      streamMs += blockMs;
      sinceUpdateMs += blockMs;
      const voiced = Math.sqrt(sum / n) >= threshold;
      if (voiced) {
        silenceMs = 0;
        if (!inTurn) {
          inTurn = true;
          turnStartMs = streamMs - blockMs;
          transcript = options.transcripts?.[turnNo] ?? options.fallbackTranscript ?? 'hello';
          turnNo++;
          speechMs = blockMs;
          turnInfo('StartOfTurn', heard(), 0.05); // non-empty by construction: ≥ 1 word
          sinceUpdateMs = 0;
          return;
        }
        speechMs += blockMs;
        if (eagerSent) {
          eagerSent = false;
          turnInfo('TurnResumed', heard(), 0.1);
          sinceUpdateMs = 0;
          return;
        }
      } else if (inTurn) {
        silenceMs += blockMs;
        if (complete() && silenceMs >= endSilence) return endTurn('model');
        if (silenceMs >= timeoutMs) return endTurn('timeout');
        if (eager !== null && complete() && !eagerSent && silenceMs >= eagerSilence) {
          eagerSent = true;
          turnInfo('EagerEndOfTurn', heard(), eager);
          sinceUpdateMs = 0;
          return;
        }
      }
      if (sinceUpdateMs >= UPDATE_EVERY_MS) {
        sinceUpdateMs = 0;
        turnInfo('Update', inTurn ? heard() : '', inTurn ? Math.min(0.69, silenceMs / 1000) : 0.01);
      }
    };

    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        let m: { type?: string };
        try {
          m = JSON.parse(data.toString()) as { type?: string };
        } catch {
          send({ type: 'Error', code: 'UNPARSABLE_CLIENT_MESSAGE', description: 'message is not JSON' });
          return ws.close(1008);
        }
        conn.controls.push(m.type ?? '?');
        if (m.type === 'CloseStream') {
          if (inTurn && speechMs > 0) endTurn('timeout');
          ws.close(1000);
        }
        return;
      }
      const buf = data as Buffer;
      conn.audioBytes += buf.length;
      const all = carry.length ? Buffer.concat([carry, buf]) : buf;
      let off = 0;
      for (; all.length - off >= blockBytes; off += blockBytes) block(all.subarray(off, off + blockBytes));
      carry = Buffer.from(all.subarray(off));
    });
    ws.on('close', (code) => {
      conn.closed = true;
      conn.closeCode = code;
    });
    ws.on('error', () => {});
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    connections,
    options,
    dropAll() {
      for (const c of connections) if (!c.closed) c.socket.terminate();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) if (!c.closed) c.socket.terminate();
        wss.close();
        server.close(() => resolve());
      }),
  };
}
