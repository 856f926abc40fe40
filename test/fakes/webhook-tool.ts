/**
 * A webhook tool endpoint for tests and bench: records every request and answers from a
 * script (status, body, content type, delay). Listens on 127.0.0.1, port 0.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedToolRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  /** Raw body text; `json` when it parses. */
  body: string;
  json: unknown;
}

export interface ScriptedToolResponse {
  status?: number;
  /** Object → JSON with `application/json`; string → as given. */
  body?: unknown;
  contentType?: string;
  /** Wait this long before answering (timeouts). */
  delayMs?: number;
}

export interface FakeWebhookTool {
  url: string;
  requests: RecordedToolRequest[];
  /** Responses used in order; the last one repeats. Default: 200 `{"ok":true}`. */
  script(...responses: Array<ScriptedToolResponse | ((req: RecordedToolRequest) => ScriptedToolResponse)>): void;
  close(): Promise<void>;
}

export async function startFakeWebhookTool(): Promise<FakeWebhookTool> {
  const requests: RecordedToolRequest[] = [];
  let queue: Array<ScriptedToolResponse | ((req: RecordedToolRequest) => ScriptedToolResponse)> = [];
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const recorded: RecordedToolRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
        json,
      };
      requests.push(recorded);
      const next = queue.length > 1 ? queue.shift()! : queue[0];
      const scripted = typeof next === 'function' ? next(recorded) : (next ?? { body: { ok: true } });
      const send = (): void => {
        if (res.destroyed) return;
        const payload = scripted.body ?? '';
        const isText = typeof payload === 'string';
        res.writeHead(scripted.status ?? 200, {
          'content-type': scripted.contentType ?? (isText ? 'text/plain' : 'application/json'),
        });
        res.end(isText ? payload : JSON.stringify(payload));
      };
      if (scripted.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t);
          send();
        }, scripted.delayMs);
        timers.add(t);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(...responses) {
      queue = responses;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
