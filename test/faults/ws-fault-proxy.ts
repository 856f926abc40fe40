/**
 * A WebSocket fault proxy in front of a provider fake (ElevenLabs stream-input, OpenAI
 * Realtime), for the provider half of the fault suite (issue 15). Each client upgrade opens the
 * same path (query, auth headers) upstream and relays messages both ways, text and binary kept
 * apart. A test watches server → client traffic (`onServerMessage`) and injects the fault on
 * the connection:
 * - `closeClient(code, reason)`: the client gets a close frame with that code (1012 "service
 *   restart", 1011 "internal error": RFC 6455 §7.4.1 and the IANA registry) and the upstream
 *   socket is cut, as when the provider's node restarts;
 * - `drop()`: the client's TCP socket is destroyed without a close frame (the client sees 1006);
 * - `stall()`: nothing more goes to the client (not even the upstream's close); the socket stays
 *   open until a `closeClient` or `drop` that may follow.
 * Plain HTTP requests (the ElevenLabs HTTP fallback shares the base URL) pass straight through.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer, type RawData } from 'ws';

export interface WsFaultConnection {
  path: string;
  /** Messages relayed server → client so far. */
  serverMessages: number;
  clientMessages: number;
  faulted: { kind: 'close'; code: number } | { kind: 'drop' } | { kind: 'stall' } | null;
  /** ms since the proxy started. */
  faultAt?: number;
  closeClient(code: number, reason?: string): void;
  drop(): void;
  stall(): void;
}

export interface WsFaultProxy {
  /** `http://127.0.0.1:port` (ElevenLabs derives ws:// from it). */
  httpUrl: string;
  /** `ws://127.0.0.1:port` plus the upstream's path (e.g. `/v1/realtime`). */
  wsUrl: string;
  connections: WsFaultConnection[];
  /** Sees every server → client message before it is relayed; return false to swallow it. */
  onServerMessage: ((conn: WsFaultConnection, data: RawData, isBinary: boolean) => boolean | void) | null;
  close(): Promise<void>;
}

/** Headers the client's handshake carries that the upstream needs (auth); the rest is ws's own. */
const FORWARDED = ['authorization', 'xi-api-key', 'openai-beta', 'user-agent'];

export async function startWsFaultProxy(upstreamUrl: string): Promise<WsFaultProxy> {
  const upstream = new URL(upstreamUrl.replace(/^http/, 'ws'));
  const httpUpstream = new URL(upstream.href.replace(/^ws/, 'http'));
  const t0 = Date.now();
  const connections: WsFaultConnection[] = [];
  const sockets = new Set<Socket>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  const server = http.createServer((req, res) => {
    const up = http.request({ host: httpUpstream.hostname, port: httpUpstream.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      ures.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const proxy: WsFaultProxy = {
    httpUrl: '',
    wsUrl: '',
    connections,
    onServerMessage: null,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        for (const s of sockets) s.destroy();
        wss.close();
        server.close(() => resolve());
      }),
  };

  server.on('upgrade', (req, socket, head) => {
    const headers: Record<string, string> = {};
    for (const h of FORWARDED) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const target = `${upstream.protocol}//${upstream.host}${req.url ?? '/'}`;
    const up = new WebSocket(target, { headers, perMessageDeflate: false });
    up.on('error', () => {});
    up.once('unexpected-response', (_r, ures) => {
      socket.end(`HTTP/1.1 ${ures.statusCode ?? 502} Refused\r\nconnection: close\r\n\r\n`);
      up.terminate();
    });
    up.once('open', () => {
      wss.handleUpgrade(req, socket, head, (client) => relay(client, up, req.url ?? '/'));
    });
  });

  function relay(client: WebSocket, up: WebSocket, path: string): void {
    const conn: WsFaultConnection = {
      path,
      serverMessages: 0,
      clientMessages: 0,
      faulted: null,
      closeClient(code, reason = '') {
        if (conn.faulted && conn.faulted.kind !== 'stall') return;
        conn.faulted = { kind: 'close', code };
        conn.faultAt = Date.now() - t0;
        client.close(code, reason);
        up.terminate();
      },
      drop() {
        if (conn.faulted && conn.faulted.kind !== 'stall') return;
        conn.faulted = { kind: 'drop' };
        conn.faultAt = Date.now() - t0;
        client.terminate();
        up.terminate();
      },
      stall() {
        if (conn.faulted) return;
        conn.faulted = { kind: 'stall' };
        conn.faultAt = Date.now() - t0;
      },
    };
    connections.push(conn);
    client.on('error', () => {});
    up.on('message', (data, isBinary) => {
      if (conn.faulted) return;
      if (proxy.onServerMessage?.(conn, data, isBinary) === false) return;
      if (conn.faulted || client.readyState !== WebSocket.OPEN) return;
      conn.serverMessages++;
      client.send(data, { binary: isBinary });
    });
    client.on('message', (data, isBinary) => {
      if (conn.faulted && conn.faulted.kind !== 'stall') return;
      conn.clientMessages++;
      if (up.readyState === WebSocket.OPEN) up.send(data, { binary: isBinary });
    });
    up.on('close', (code, reason) => {
      if (conn.faulted) return;
      // 1005/1006 cannot be sent in a close frame (RFC 6455 §7.4.1): pass them on as a cut.
      if (code === 1005 || code === 1006) client.terminate();
      else if (client.readyState === WebSocket.OPEN) client.close(code, reason);
    });
    client.on('close', () => {
      if (up.readyState <= WebSocket.OPEN) up.close();
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  proxy.httpUrl = `http://127.0.0.1:${port}`;
  proxy.wsUrl = `ws://127.0.0.1:${port}${upstream.pathname === '/' ? '' : upstream.pathname}`;
  return proxy;
}
