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
import { SessionAttachError } from '../../session/index.js';
import { TwilioMediaSocket, CLOSE_TRY_AGAIN } from './media-socket.js';
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
    if (ctx.draining) {
      // 1013: this node is shutting down; Twilio's retry (or the next call) lands elsewhere.
      socket.close(CLOSE_TRY_AGAIN, 'gateway draining');
      return;
    }
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
  if (ctx.draining) return transport.closeWith(CLOSE_TRY_AGAIN, 'gateway draining');

  let session = ctx.calls.get(call.id);
  if (!session) {
    const agent = await ctx.store.getAgent(call.agentId);
    if (transport.closed) return;
    if (!agent) return transport.reject('call_mismatch', 'the call has no agent');
    session = ctx.calls.get(call.id) ?? ctx.calls.announce({ call, agent, channel: 'phone' });
  }
  if (call.twilioCallSid === null) {
    // Outbound calls learn their CallSid from Twilio's REST answer; if the stream won the race, record it.
    await ctx.store.updateCall(call.id, { twilioCallSid: start.callSid });
  }
  try {
    session.attach(transport);
  } catch (err) {
    if (err instanceof SessionAttachError) return transport.reject('token_reused', err.message);
    throw err;
  }
}
