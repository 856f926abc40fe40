/**
 * A protocol-faithful fake of Deepgram live STT (PROTOCOLS.md §3), for tests and bench/.
 * WebSocket `/v1/listen`: checks `Authorization: Token …` and the query; consumes binary audio;
 * finds speech by energy in the audio it receives (so timing follows the audio, not the wall
 * clock) and answers with interim `Results`, final `Results` (`is_final`/`speech_final`) after
 * `endpointing` ms of silence, `UtteranceEnd`, and `SpeechStarted` when `vad_events=true`.
 * Transcripts come from a scripted list, one per utterance. Honours KeepAlive, Finalize
 * (`from_finalize`) and CloseStream (Metadata, then close); closes idle sockets like Deepgram.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ULAW_DECODE_TABLE } from '../../src/media/index.js';

export interface DeepgramConnection {
  url: URL;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  audioBytes: number;
  /** Everything received in order: an audio message as its byte length, a control as its type. */
  received: Array<number | string>;
  /** Control messages received, in order (`KeepAlive`, `Finalize`, `CloseStream`). */
  controls: string[];
  /** Messages sent to the client, in order. */
  sent: Array<Record<string, unknown>>;
  closed: boolean;
  closeCode?: number;
  closeReason?: string;
  socket: WebSocket;
}

export interface FakeDeepgramOptions {
  apiKey?: string;
  /** Transcript per utterance, in order; after the list runs out, utterances get `fallbackTranscript`. */
  transcripts?: string[];
  fallbackTranscript?: string;
  /** Close a socket that received neither audio nor KeepAlive for this long (Deepgram: 10 s, NET-0001). */
  idleTimeoutMs?: number;
  /** RMS (linear, 0..32768) above which a 20 ms block counts as speech. */
  speechRms?: number;
  /** Refuse the handshake with this HTTP status. */
  refuseStatus?: number;
  /** Wall-clock delay before each final Results (models STT latency). */
  finalDelayMs?: number;
}

export interface FakeDeepgram {
  /** Base URL for `DeepgramClient({ baseUrl })` (ws://127.0.0.1:P). */
  url: string;
  connections: DeepgramConnection[];
  options: FakeDeepgramOptions;
  /** Drops every open socket abruptly (code 1011), like a provider outage. */
  dropAll(): void;
  close(): Promise<void>;
}

const REQUEST_ID = '8c8ebea9-dbec-45fa-a035-e4632cb05b5f';
const METADATA = { request_id: REQUEST_ID, model_info: { name: 'general-nova-3', version: '2024-01-01', arch: 'nova-3' }, model_uuid: '00000000-0000-0000-0000-000000000000' };
/**
 * What Deepgram puts in the close frame when it times out an idle socket: code 1011 and this
 * reason, with no JSON message before it (the SDKs' logs quote it verbatim, e.g.
 * deepgram-python-sdk#319, pipecat#1113; Deepgram's troubleshooting page: the reason is in
 * the close frame).
 */
export const NET_0001_REASON = 'Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001';
/** Interim results roughly every 250 ms of speech, like Deepgram's default cadence (UNVERIFIED exact rate). */
const INTERIM_EVERY_MS = 250;

export async function startFakeDeepgram(opts: FakeDeepgramOptions = {}): Promise<FakeDeepgram> {
  const options = opts;
  const apiKey = opts.apiKey ?? 'dg-test';
  const connections: DeepgramConnection[] = [];
  let utteranceIndex = 0;
  const server = http.createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const reject = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"err_code":"${text}"}`);
    };
    if (options.refuseStatus) return reject(options.refuseStatus, 'Refused');
    if (url.pathname !== '/v1/listen') return reject(404, 'Not Found');
    const auth = req.headers.authorization ?? '';
    // An API key goes as `Token <key>` (§3.2); `Bearer` is for short-lived JWTs, not keys.
    if (auth !== `Token ${apiKey}`) return reject(401, 'INVALID_AUTH');
    const query = Object.fromEntries(url.searchParams.entries());
    // Deepgram: sample_rate is required whenever encoding is set (raw audio), else 400.
    if (query.encoding && !query.sample_rate) return reject(400, 'Bad Request');
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, url, query, req.headers));
  });

  function serve(ws: WebSocket, url: URL, query: Record<string, string>, headers: http.IncomingHttpHeaders): void {
    const conn: DeepgramConnection = { url, query, headers, audioBytes: 0, received: [], controls: [], sent: [], closed: false, socket: ws };
    connections.push(conn);
    const encoding = query.encoding ?? 'linear16';
    const sampleRate = Number(query.sample_rate ?? 16000);
    const bytesPerSample = encoding === 'mulaw' || encoding === 'alaw' ? 1 : 2;
    const blockSamples = Math.round(sampleRate / 50); // 20 ms blocks
    const endpointingMs = query.endpointing === 'false' ? Infinity : Number(query.endpointing ?? 10);
    const utteranceEndMs = query.utterance_end_ms ? Number(query.utterance_end_ms) : 0;
    const interim = query.interim_results === 'true';
    const vadEvents = query.vad_events === 'true';
    const threshold = options.speechRms ?? 500;

    let streamMs = 0; // audio time received
    let carry = Buffer.alloc(0);
    // Current segment (since the last final) and utterance (since the last speech_final).
    let inSpeech = false;
    let segStartMs = -1;
    let speechMsInSeg = 0;
    let silenceMs = 0;
    let lastInterimMs = 0;
    let lastWordEndMs = -1;
    let utteranceEndPending = false;
    let sinceLastWordMs = 0;
    let transcript: string | null = null;
    let idleTimer: NodeJS.Timeout | undefined;

    const send = (msg: Record<string, unknown>) => {
      conn.sent.push(msg);
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    const armIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => ws.close(1011, NET_0001_REASON), options.idleTimeoutMs ?? 10_000);
    };
    armIdle();

    const currentTranscript = () => {
      if (transcript === null) {
        transcript = options.transcripts?.[utteranceIndex] ?? options.fallbackTranscript ?? 'hello';
        utteranceIndex++;
      }
      return transcript;
    };
    const results = (text: string, isFinal: boolean, speechFinal: boolean, fromFinalize: boolean) => {
      const start = Math.max(0, segStartMs) / 1000;
      const duration = Math.max(0, streamMs / 1000 - start);
      const words = text.split(/\s+/).filter(Boolean);
      const per = words.length ? duration / words.length : 0;
      send({
        type: 'Results',
        channel_index: [0, 1],
        duration,
        start,
        is_final: isFinal,
        speech_final: speechFinal,
        from_finalize: fromFinalize,
        channel: {
          alternatives: [
            {
              transcript: text,
              confidence: 0.98,
              words: words.map((w, i) => ({ word: w.toLowerCase().replace(/[^\p{L}\p{N}']/gu, ''), start: start + i * per, end: start + (i + 1) * per, confidence: 0.99, punctuated_word: w })),
            },
          ],
        },
        metadata: METADATA,
      });
    };
    const finalizeSegment = (speechFinal: boolean, fromFinalize: boolean) => {
      const emit = () => {
        const text = speechMsInSeg > 0 ? currentTranscript() : '';
        results(text, true, speechFinal, fromFinalize);
        if (text) {
          lastWordEndMs = streamMs;
          utteranceEndPending = utteranceEndMs > 0;
          sinceLastWordMs = 0;
        }
        if (speechFinal || fromFinalize) transcript = null;
        speechMsInSeg = 0;
        segStartMs = -1;
      };
      if (options.finalDelayMs) setTimeout(emit, options.finalDelayMs);
      else emit();
    };

    const processBlock = (block: Buffer) => {
      let sum = 0;
      const n = block.length / bytesPerSample;
      for (let i = 0; i < n; i++) {
        const s = bytesPerSample === 1 ? ULAW_DECODE_TABLE[block[i]!]! : block.readInt16LE(2 * i);
        sum += s * s;
      }
      const rms = Math.sqrt(sum / n);
      const blockMs = (n / sampleRate) * 1000;
      streamMs += blockMs;
      if (rms >= threshold) {
        if (!inSpeech) {
          inSpeech = true;
          if (segStartMs < 0) segStartMs = streamMs - blockMs;
          if (vadEvents && speechMsInSeg === 0) send({ type: 'SpeechStarted', channel: [0, 1], timestamp: (streamMs - blockMs) / 1000 });
        }
        speechMsInSeg += blockMs;
        silenceMs = 0;
        utteranceEndPending = false;
        if (interim && streamMs - lastInterimMs >= INTERIM_EVERY_MS) {
          lastInterimMs = streamMs;
          const words = currentTranscript().split(/\s+/).filter(Boolean);
          const partial = words.slice(0, Math.max(1, Math.ceil(words.length * Math.min(1, speechMsInSeg / 1000)))).join(' ');
          results(partial, false, false, false);
        }
      } else {
        silenceMs += blockMs;
        if (inSpeech && silenceMs >= endpointingMs) {
          inSpeech = false;
          finalizeSegment(true, false);
        }
        if (utteranceEndPending) {
          sinceLastWordMs += blockMs;
          if (sinceLastWordMs >= utteranceEndMs) {
            utteranceEndPending = false;
            send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: lastWordEndMs / 1000 });
          }
        }
      }
    };

    ws.on('message', (data, isBinary) => {
      armIdle();
      if (!isBinary) {
        let msg: { type?: string };
        try {
          msg = JSON.parse(data.toString()) as { type?: string };
        } catch {
          return;
        }
        if (msg.type) {
          conn.controls.push(msg.type);
          conn.received.push(msg.type);
        }
        if (msg.type === 'Finalize') {
          if (speechMsInSeg > 0) {
            inSpeech = false;
            finalizeSegment(false, true);
          }
        } else if (msg.type === 'CloseStream') {
          if (speechMsInSeg > 0) finalizeSegment(true, false);
          send({ type: 'Metadata', transaction_key: 'deprecated', request_id: REQUEST_ID, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', created: new Date().toISOString(), duration: streamMs / 1000, channels: 1 });
          ws.close(1000);
        }
        return;
      }
      const buf = data as Buffer;
      conn.audioBytes += buf.length;
      conn.received.push(buf.length);
      const blockBytes = blockSamples * bytesPerSample;
      let all = carry.length ? Buffer.concat([carry, buf]) : buf;
      let off = 0;
      while (all.length - off >= blockBytes) {
        processBlock(all.subarray(off, off + blockBytes));
        off += blockBytes;
      }
      carry = Buffer.from(all.subarray(off));
      all = Buffer.alloc(0);
    });
    ws.on('close', (code, reason) => {
      clearTimeout(idleTimer);
      conn.closed = true;
      conn.closeCode = code;
      conn.closeReason = reason.toString();
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
