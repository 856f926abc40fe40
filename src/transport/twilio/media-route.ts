/**
 * `GET /twilio/media`: the Media Streams WebSocket (API.md, Twilio-facing endpoints).
 *
 * The socket is accepted first (Twilio cannot send credentials on the upgrade: PROTOCOLS.md
 * §1.6) and authenticated on `start`: the stream token must verify, be unexpired, name a call
 * that exists, is not over, is a phone call and (once known) has this Twilio CallSid. Then the
 * call's session — announced by the webhook on this node, or announced now if the webhook hit
 * another node — takes the transport. A second stream for the same call is `token_reused`.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContext } from '../../context.js';
import { TERMINAL_CALL_STATUSES } from '../../store/types.js';
import { attachOrRefuse, refuseWhileDraining, sessionFor } from '../admission.js';
import { TwilioMediaSocket } from './media-socket.js';
import { STREAM_TOKEN_PARAM, verifyStreamToken } from './stream-token.js';
import type { StartInfo } from './codec.js';

export const TWILIO_MEDIA_PATH = '/twilio/media';

export interface TwilioMediaPluginOptions {
  ctx: AppContext;
  /** Tests: a smaller storm threshold or start timeout. */
  maxMalformedInRow?: number;
  startTimeoutMs?: number;
}

export async function twilioMediaPlugin(app: FastifyInstance, opts: TwilioMediaPluginOptions): Promise<void> {
  const { ctx } = opts;
  app.get(TWILIO_MEDIA_PATH, { websocket: true }, (socket: WebSocket, req) => {
    if (refuseWhileDraining(ctx, socket)) return;
    new TwilioMediaSocket(socket, {
      metrics: ctx.metrics,
      maxMalformedInRow: opts.maxMalformedInRow,
      startTimeoutMs: opts.startTimeoutMs,
      tcp: req.raw.socket,
      onStart: (start, transport) => admit(ctx, start, transport),
    });
  });
}

async function admit(ctx: AppContext, start: StartInfo, transport: TwilioMediaSocket): Promise<void> {
  const token = start.customParameters[STREAM_TOKEN_PARAM];
  if (token === undefined) return transport.reject('token_missing', 'no stream token parameter');
  const check = verifyStreamToken(ctx.secrets.tokenKey, token, ctx.now());
  if (!check.ok) {
    return check.reason === 'expired'
      ? transport.reject('token_expired', 'stream token expired')
      : transport.reject('token_invalid', `stream token ${check.reason}`);
  }
  const call = await ctx.store.getCall(check.callId);
  if (transport.closed) return;
  if (!call) return transport.reject('call_mismatch', 'unknown call');
  if (call.direction === 'web') return transport.reject('call_mismatch', 'not a phone call');
  if (TERMINAL_CALL_STATUSES.includes(call.status)) return transport.reject('call_mismatch', `call is ${call.status}`);
  if (call.twilioCallSid !== null && call.twilioCallSid !== start.callSid) {
    return transport.reject('call_mismatch', 'callSid does not match the call');
  }
  const session = await sessionFor(ctx, call, 'phone', transport);
  if (!session) return;
  if (call.twilioCallSid === null) {
    // Outbound calls learn their CallSid from Twilio's REST answer; if the stream won the race, record it.
    await ctx.store.updateCall(call.id, { twilioCallSid: start.callSid });
  }
  attachOrRefuse(session, transport);
}
