/**
 * `/mcp`: the MCP Streamable HTTP transport (the SDK's `StreamableHTTPServerTransport`), with
 * sessions (`Mcp-Session-Id`). Authenticated exactly as `/v1` (Bearer or X-API-Key, the same
 * key lookup; 401 without). A session belongs to the key that opened it: any other key
 * presenting its id is told the session does not exist (404), the same answer as for an id
 * that never existed, so session ids reveal nothing and reach no other owner's data.
 * Every tool call runs with the key of the HTTP request that carried it.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { AppContext } from '../context.js';
import type { AuthContext } from '../api/auth-context.js';
import { presentedKey } from '../api/auth.js';
import { toVoxgateError } from '../api/error-handler.js';
import { VoxgateError } from '../errors.js';
import { createMcpServer, type AuthOf } from './server.js';

/** Same room as the contacts route: 5000 contacts in one add_contacts run past 1 MiB. */
export const MCP_BODY_LIMIT_BYTES = 8 * 1024 * 1024;
/** Idle sessions are closed after this long; a client that comes back re-initialises. */
const SESSION_IDLE_MS = 30 * 60_000;
/** Per key; opening one more closes that key's least recently used session. */
const MAX_SESSIONS_PER_KEY = 32;

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  keyId: string;
  lastSeen: number;
}

/** JSON-RPC error codes of the transport (the SDK answers the same for its own checks). */
const SESSION_NOT_FOUND = -32001;

function rpcError(reply: FastifyReply, status: number, code: number, message: string): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

const authOf: AuthOf = (extra) => {
  const auth = extra.authInfo?.extra?.voxgate as AuthContext | undefined;
  // http.ts sets it on every request before the transport sees it; its absence is a bug here.
  if (!auth) throw new VoxgateError('unauthorized', 'no key on this MCP request');
  return auth;
};

export async function mcpPlugin(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const sessions = new Map<string, Session>();

  const close = async (id: string) => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    await s.transport.close().catch(() => {});
    await s.server.close().catch(() => {});
  };
  const sweep = setInterval(() => {
    const cutoff = Date.now() - SESSION_IDLE_MS;
    for (const [id, s] of sessions) if (s.lastSeen < cutoff) void close(id);
  }, 60_000);
  sweep.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweep);
    await Promise.all([...sessions.keys()].map(close));
  });

  // Errors of this plugin (auth, body too large, bad JSON) in JSON-RPC shape with the REST
  // status and the REST error code leading the message.
  app.setErrorHandler((err, _req, reply) => {
    const e = toVoxgateError(err);
    if (e.code === 'unauthorized') void reply.header('www-authenticate', 'Bearer');
    const code = e.code === 'invalid_json' ? ErrorCode.ParseError : ErrorCode.InvalidRequest;
    return rpcError(reply, e.status, code, `${e.code}: ${e.message}`);
  });

  /** The key the app's auth hook already checked (api/auth.ts); here only its absence is answered. */
  function keyOf(req: FastifyRequest): AuthContext {
    if (req.auth) return req.auth;
    if (!presentedKey(req)) throw new VoxgateError('unauthorized', 'missing API key: send Authorization: Bearer <key> or X-API-Key');
    throw new VoxgateError('unauthorized', 'unknown or revoked API key');
  }

  async function openSession(auth: AuthContext): Promise<StreamableHTTPServerTransport> {
    const mine = [...sessions.entries()].filter(([, s]) => s.keyId === auth.keyId).sort((a, b) => a[1].lastSeen - b[1].lastSeen);
    for (const [id] of mine.slice(0, Math.max(0, mine.length - MAX_SESSIONS_PER_KEY + 1))) await close(id);
    const server = createMcpServer(ctx, authOf);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, keyId: auth.keyId, lastSeen: Date.now() });
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport;
  }

  async function handle(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> {
    const auth = keyOf(req);
    const header = req.headers['mcp-session-id'];
    const sid = typeof header === 'string' ? header : undefined;
    let transport: StreamableHTTPServerTransport;
    if (sid) {
      const s = sessions.get(sid);
      if (!s || s.keyId !== auth.keyId) return rpcError(reply, 404, SESSION_NOT_FOUND, 'not_found: session not found; initialise a new one');
      s.lastSeen = Date.now();
      transport = s.transport;
    } else if (req.method === 'POST' && isInitializeRequest(req.body)) {
      transport = await openSession(auth);
    } else {
      return rpcError(reply, 400, ErrorCode.InvalidRequest, 'bad_request: send initialize first, then the Mcp-Session-Id it returns');
    }
    const raw = req.raw as typeof req.raw & { auth?: AuthInfo };
    raw.auth = { token: 'api-key', clientId: auth.keyId, scopes: auth.scopes, extra: { voxgate: auth } };
    // The SDK writes the raw response itself: headers set so far (the rate limit's) go with it.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
    reply.hijack();
    await transport.handleRequest(raw, reply.raw, req.body);
  }

  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: '/mcp',
    bodyLimit: MCP_BODY_LIMIT_BYTES,
    config: { scope: 'public' },
    schema: { hide: true },
    handler: handle,
  });
}
