/**
 * A user's conversation server ("bring your own brain", API.md) for tests and bench: a plain
 * node:http endpoint for webhook brains and a `ws` endpoint for WebSocket brains, on 127.0.0.1
 * port 0. The test writes the brain: `onTurn` answers each webhook POST however it likes
 * (JSON, SSE, NDJSON, text, 204, garbage, silence); `onSocket` drives each WebSocket. Every
 * request and message is recorded with its headers, so signatures can be checked independently.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface BrainRequest {
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
  json: Record<string, any>;
  /** The client went away before the response ended (a barge-in abort, a hang-up). */
  aborted: boolean;
  ended: boolean;
}

export interface BrainSocket {
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  ws: WebSocket;
  messages: Array<Record<string, any>>;
  closed: boolean;
  closeCode: number | null;
  send(msg: Record<string, unknown>): void;
  /** Resolves with the first message (from now on, or already received) matching `pred`. */
  next(pred: (m: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
}

export type TurnHandler = (req: BrainRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeBrain {
  /** http://127.0.0.1:port */
  url: string;
  /** ws://127.0.0.1:port */
  wsUrl: string;
  requests: BrainRequest[];
  sockets: BrainSocket[];
  /** Answers `type: "turn"` POSTs (notices get 204 unless `onNotice` says otherwise). */
  onTurn: TurnHandler;
  onNotice: TurnHandler;
  onSocket: (s: BrainSocket) => void;
  /** Refuse WebSocket upgrades with this HTTP status (null: accept). */
  refuseUpgrades: number | null;
  turns(): BrainRequest[];
  notices(type: string): BrainRequest[];
  close(): Promise<void>;
}

/** The documented signature, computed independently of src/: HMAC-SHA256(secret, ts + "." + body). */
export function expectedSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export async function startFakeBrain(): Promise<FakeBrain> {
  const requests: BrainRequest[] = [];
  const sockets: BrainSocket[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, any> = {};
      try {
        json = JSON.parse(body);
      } catch {
        /* recorded as is */
      }
      const r: BrainRequest = { path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body, json, aborted: false, ended: false };
      requests.push(r);
      res.on('close', () => {
        if (!res.writableEnded) r.aborted = true;
      });
      res.on('finish', () => (r.ended = true));
      const handler = json.type === 'turn' ? fake.onTurn : fake.onNotice;
      Promise.resolve(handler(r, res)).catch(() => res.destroy());
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (fake.refuseUpgrades !== null) {
      socket.end(`HTTP/1.1 ${fake.refuseUpgrades} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const waiters: Array<{ pred: (m: Record<string, any>) => boolean; resolve: (m: Record<string, any>) => void; from: number }> = [];
      const s: BrainSocket = {
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        ws,
        messages: [],
        closed: false,
        closeCode: null,
        send: (msg) => ws.send(JSON.stringify(msg)),
        next(pred, timeoutMs = 20_000) {
          const seen = s.messages.find(pred);
          if (seen) return Promise.resolve(seen);
          return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no such message')), timeoutMs);
            waiters.push({ pred, from: 0, resolve: (m) => (clearTimeout(timer), resolve(m)) });
          });
        },
      };
      ws.on('message', (data) => {
        let m: Record<string, any>;
        try {
          m = JSON.parse(String(data));
        } catch {
          m = { unparsed: String(data) };
        }
        s.messages.push(m);
        for (const w of [...waiters]) {
          if (w.pred(m)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      });
      ws.on('close', (code) => {
        s.closed = true;
        s.closeCode = code;
      });
      sockets.push(s);
      fake.onSocket(s);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const fake: FakeBrain = {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    requests,
    sockets,
    onTurn: (_req, res) => void res.writeHead(204).end(),
    onNotice: (_req, res) => void res.writeHead(204).end(),
    onSocket: () => {},
    refuseUpgrades: null,
    turns: () => requests.filter((r) => r.json.type === 'turn'),
    notices: (type) => requests.filter((r) => r.json.type === type),
    async close() {
      for (const s of sockets) s.ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

/** Helpers to answer a webhook turn in each documented format. */
export const answer = {
  json(res: ServerResponse, body: unknown, status = 200): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  },
  text(res: ServerResponse, text: string): void {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
  },
  /** Starts an SSE body; write events with `sse(res, obj)`. */
  sseStart(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
  },
  sse(res: ServerResponse, data: unknown): void {
    res.write(`data: ${JSON.stringify(data)}\n\n`);
  },
  ndjsonStart(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.flushHeaders();
  },
  ndjson(res: ServerResponse, data: unknown): void {
    res.write(`${JSON.stringify(data)}\n`);
  },
};
