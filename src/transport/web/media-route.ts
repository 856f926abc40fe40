/**
 * `GET /web/media?token=…`: the browser's media WebSocket (API.md, Web calls).
 *
 * Browsers cannot send headers on an upgrade, so the web-call token rides in the query. The
 * socket is accepted, then admitted or refused at once: the token must verify and be unexpired,
 * be unused on this node, and name a web call that is still `queued` (a token that already
 * connected left it `in-progress`, which also holds across nodes). Then the call's event relay
 * goes live and the call's session — announced by `POST /v1/web-calls` on this node, or
 * announced now if that request hit another node — takes the transport.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContext } from '../../context.js';
import { TERMINAL_CALL_STATUSES } from '../../store/types.js';
import { attachOrRefuse, refuseWhileDraining, sessionFor } from '../admission.js';
import { WebMediaSocket, CLOSE_ERROR } from './media-socket.js';
import { CallEventRelay } from './event-relay.js';
import { UsedWebTokens, verifyWebToken } from './web-token.js';

export const WEB_MEDIA_PATH = '/web/media';

export interface WebMediaPluginOptions {
  ctx: AppContext;
  /** Tests: a smaller storm threshold, jitter or close linger. */
  maxMalformedInRow?: number;
  jitterMs?: number;
  closeLingerMs?: number;
}

export async function webMediaPlugin(app: FastifyInstance, opts: WebMediaPluginOptions): Promise<void> {
  const { ctx } = opts;
  const used = new UsedWebTokens();
  app.get(WEB_MEDIA_PATH, { websocket: true, schema: { hide: true } }, (socket: WebSocket, req: FastifyRequest) => {
    // 1013 while draining: the page says so and the user can start a new call.
    if (refuseWhileDraining(ctx, socket)) return;
    const transport = new WebMediaSocket(socket, {
      metrics: ctx.metrics,
      pacer: ctx.calls.pacer,
      maxMalformedInRow: opts.maxMalformedInRow,
      jitterMs: opts.jitterMs,
      closeLingerMs: opts.closeLingerMs,
    });
    const token = (req.query as Record<string, unknown>)['token'];
    admit(ctx, used, token, transport, socket).catch((err: unknown) => {
      ctx.log.error({ err }, 'admitting a web call failed');
      transport.closeWith(CLOSE_ERROR, `attach failed: ${(err as Error).message ?? String(err)}`);
    });
  });
}

async function admit(ctx: AppContext, used: UsedWebTokens, token: unknown, transport: WebMediaSocket, socket: WebSocket): Promise<void> {
  if (typeof token !== 'string' || token === '') return transport.reject('token_missing', 'no token in the URL');
  const check = verifyWebToken(ctx.secrets.tokenKey, token, ctx.now());
  if (!check.ok) {
    return check.reason === 'expired'
      ? transport.reject('token_expired', 'this link has expired; start a new call')
      : transport.reject('token_invalid', `token ${check.reason.replace('_', ' ')}`);
  }
  // Claimed before any await: two sockets racing with one token cannot both pass.
  if (!used.claim(check.callId, check.expiresAtMs, ctx.now().getTime())) {
    return transport.reject('token_reused', 'this link was already used; start a new call');
  }
  const call = await ctx.store.getCall(check.callId);
  if (transport.closed) return;
  if (!call || call.direction !== 'web') return transport.reject('call_mismatch', 'unknown web call');
  if (TERMINAL_CALL_STATUSES.includes(call.status)) return transport.reject('call_mismatch', `the call is ${call.status}`);
  if (call.status !== 'queued') return transport.reject('token_reused', 'this link was already used; start a new call');
  const session = await sessionFor(ctx, call, 'web', transport);
  if (!session) return;

  // The relay is live before the session starts, so the page sees the greeting's events.
  const relay = new CallEventRelay(transport, {
    store: ctx.store,
    bus: ctx.bus,
    callId: call.id,
    onError: (err) => ctx.log.warn({ err, callId: call.id }, 'web call event relay failed'),
  });
  socket.once('close', () => void relay.stop());
  transport.onClosing(() => relay.catchUp());
  await relay.start();
  if (transport.closed) return void relay.stop();
  transport.admit();
  attachOrRefuse(session, transport);
}
