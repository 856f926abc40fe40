/**
 * An HTTP fault proxy in front of a provider fake (test/fakes/*), for the provider half of the
 * fault suite (issue 15). Requests pass through byte for byte unless the fault chosen for them
 * says otherwise:
 * - `no_answer`: the request is read and never answered (no status line, no headers);
 * - `stall_after_headers`: status and headers go out, the body never does;
 * - `stall_after_events` / `drop_after_events`: the first `events` server-sent events
 *   (`\n\n`-terminated, the framing of an OpenAI chat stream, PROTOCOLS.md §6) go out, then the
 *   body stops with the connection held open, or the socket is destroyed (a TCP reset mid-stream).
 * The upstream keeps producing meanwhile: its output is read and dropped, as a stalled load
 * balancer would. Every request's fault and the times things happened are recorded.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type HttpFault =
  | { kind: 'pass' }
  | { kind: 'no_answer' }
  | { kind: 'stall_after_headers' }
  | { kind: 'stall_after_events'; events: number }
  | { kind: 'drop_after_events'; events: number };

export interface ProxiedRequest {
  path: string;
  fault: HttpFault;
  /** ms since the proxy started. */
  receivedAt: number;
  headersAt?: number;
  /** When the fault took hold (the body stopped or the socket was dropped). */
  faultAt?: number;
  /** SSE events forwarded to the client. */
  eventsForwarded: number;
  /** The client went away (e.g. aborted its request). */
  clientClosedAt?: number;
}

export interface HttpFaultProxy {
  /** The upstream URL with the proxy's origin (same path prefix, e.g. `/v1`). */
  url: string;
  requests: ProxiedRequest[];
  /** Decides each request's fault by its index (0-based); default: pass. */
  fault(fn: (index: number, path: string) => HttpFault): void;
  close(): Promise<void>;
}

export async function startHttpFaultProxy(upstreamUrl: string): Promise<HttpFaultProxy> {
  const upstream = new URL(upstreamUrl);
  const t0 = Date.now();
  const now = (): number => Date.now() - t0;
  let choose: (index: number, path: string) => HttpFault = () => ({ kind: 'pass' });
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const fault = choose(requests.length, path);
    const rec: ProxiedRequest = { path, fault, receivedAt: now(), eventsForwarded: 0 };
    requests.push(rec);
    res.on('close', () => (rec.clientClosedAt ??= now()));
    if (fault.kind === 'no_answer') {
      req.resume();
      rec.faultAt = now();
      return; // held until the client gives up or the proxy closes
    }
    const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
    up.on('response', (ures) => {
      const headers = { ...ures.headers };
      delete headers['transfer-encoding']; // Node frames the body itself
      res.writeHead(ures.statusCode ?? 502, headers);
      res.flushHeaders();
      rec.headersAt = now();
      if (fault.kind === 'stall_after_headers') {
        rec.faultAt = now();
        ures.resume();
        return;
      }
      if (fault.kind === 'pass') {
        ures.pipe(res);
        return;
      }
      let pending = '';
      let stopped = false;
      ures.setEncoding('utf8');
      ures.on('data', (chunk: string) => {
        if (stopped) return;
        pending += chunk;
        for (let end = pending.indexOf('\n\n'); end >= 0; end = pending.indexOf('\n\n')) {
          if (rec.eventsForwarded >= fault.events) {
            stopped = true;
            rec.faultAt = now();
            if (fault.kind === 'drop_after_events') res.socket?.destroy();
            return;
          }
          res.write(pending.slice(0, end + 2));
          pending = pending.slice(end + 2);
          rec.eventsForwarded++;
        }
      });
      ures.on('end', () => {
        if (!stopped) res.end(pending);
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname.replace(/\/$/, '')}`,
    requests,
    fault(fn) {
      choose = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
