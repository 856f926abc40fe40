/**
 * A fake OpenAI Realtime server speaking PROTOCOLS.md §5 (GA) on 127.0.0.1: `/v1/realtime?model=…`
 * with `Authorization: Bearer`, `session.created` first, energy-based server VAD on the received
 * audio (in the session's format), scripted responses with tone audio at a configurable pace,
 * validated `response.cancel` and `conversation.item.truncate` (errors where the real API errors),
 * scriptable function calls, `dropSocket()` to kill a session mid-call. Everything is recorded.
 * `dialect: 'xai'` speaks xAI's Grok Voice Agent variant instead (xai-realtime-dialect.ts).
 * Reused by bench/.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { FakeRealtimeConnection } from './openai-realtime-connection.js';

export { FakeRealtimeConnection } from './openai-realtime-connection.js';

/** What the fake says in one response. */
export interface ScriptedRealtimeResponse {
  /** Spoken text (the output transcript); audio length follows from `audioMs` or the text. */
  transcript?: string;
  audioMs?: number;
  /** A function call instead of audio. */
  functionCall?: { name: string; arguments: string; callId?: string };
}

export interface ResponderContext {
  trigger: 'vad' | 'response.create';
  /** `response.instructions` of a `response.create`, if any. */
  instructions: string | null;
  /** The latest user transcript (VAD turns). */
  userText: string | null;
  connection: FakeRealtimeConnection;
}

export interface FakeRealtimeOptions {
  apiKey?: string;
  /** ms from the response's start to its first audio delta. */
  firstDeltaMs?: number;
  /** Audio ms per `response.output_audio.delta`. */
  chunkMs?: number;
  /** Wall-clock ms between deltas; below `chunkMs` means faster than real time, like the real API. */
  deltaIntervalMs?: number;
  /** Received audio louder than this counts as speech. */
  speechDbfs?: number;
  /** Audio ms per word when a response has no `audioMs`. */
  msPerWord?: number;
  responder?: (ctx: ResponderContext) => ScriptedRealtimeResponse;
  /** 'xai': speak xAI's Grok Voice Agent dialect (xai-realtime-dialect.ts) instead of OpenAI's. */
  dialect?: 'openai' | 'xai';
}

export interface FakeRealtimeServer {
  /** `ws://127.0.0.1:P/v1/realtime` (OPENAI_REALTIME_URL). */
  url: string;
  apiKey: string;
  options: Required<Omit<FakeRealtimeOptions, 'responder'>>;
  connections: FakeRealtimeConnection[];
  /** Handshakes refused (wrong key, wrong path, `refuseConnections`). */
  refused: number;
  /** While true every handshake is answered with HTTP 503: a provider that never opens. */
  refuseConnections: boolean;
  /** While true every `conversation.item.truncate` is answered with an `error` (a rejected truncate). */
  rejectTruncates: boolean;
  /** Audio deltas of a cancelled response still sent after the cancel arrives (in-flight audio). */
  deltasAfterCancel: number;
  /** Transcripts for the caller's turns, used in order (then "hello"). */
  userTranscripts: string[];
  responder: (ctx: ResponderContext) => ScriptedRealtimeResponse;
  /** Closes the newest open session's socket abruptly (1006-style), as a dropped session. */
  dropSocket(): void;
  latest(): FakeRealtimeConnection | undefined;
  close(): Promise<void>;
}

/** Default: greetings say the quoted text of the instructions; turns answer with a fixed line. */
export function defaultResponder(ctx: ResponderContext): ScriptedRealtimeResponse {
  const quoted = ctx.instructions ? /"([^"]+)"/.exec(ctx.instructions) : null;
  if (quoted) return { transcript: quoted[1] };
  return { transcript: 'Sure, I can help with that.' };
}

export async function startFakeRealtime(options: FakeRealtimeOptions = {}): Promise<FakeRealtimeServer> {
  const http: Server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true });
  const fake: FakeRealtimeServer = {
    url: '',
    apiKey: options.apiKey ?? 'sk-fake-realtime',
    options: {
      apiKey: options.apiKey ?? 'sk-fake-realtime',
      firstDeltaMs: options.firstDeltaMs ?? 40,
      chunkMs: options.chunkMs ?? 100,
      deltaIntervalMs: options.deltaIntervalMs ?? 50,
      speechDbfs: options.speechDbfs ?? -40,
      msPerWord: options.msPerWord ?? 300,
      dialect: options.dialect ?? 'openai',
    },
    connections: [],
    refused: 0,
    refuseConnections: false,
    rejectTruncates: false,
    deltasAfterCancel: 0,
    userTranscripts: [],
    responder: options.responder ?? defaultResponder,
    dropSocket() {
      const conn = [...fake.connections].reverse().find((c) => c.isOpen);
      conn?.drop();
    },
    latest() {
      return fake.connections[fake.connections.length - 1];
    },
    async close() {
      for (const c of fake.connections) c.drop();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };

  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const auth = req.headers['authorization'];
    const refuse = (status: number, text: string): void => {
      fake.refused++;
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (fake.refuseConnections) return refuse(503, 'Service Unavailable');
    if (url.pathname !== '/v1/realtime' || !url.searchParams.get('model')) return refuse(404, 'Not Found');
    if (auth !== `Bearer ${fake.apiKey}`) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const conn = new FakeRealtimeConnection(ws, url.searchParams.get('model')!, fake);
      fake.connections.push(conn);
    });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  fake.url = `ws://127.0.0.1:${port}/v1/realtime`;
  return fake;
}

/** Polls `check` until it returns a truthy value (tests: wait for an event without sleeping blindly). */
export async function waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
