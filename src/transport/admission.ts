/**
 * The steps both media routes take to hand an authenticated socket to its call's session. The
 * token checks differ (a stream token in Twilio's `start`, a web-call token in the URL) and stay
 * in each route; what follows the token is the same: refuse while draining, find the session
 * (announced on this node by the webhook or `POST /v1/web-calls`, or announced now when that
 * request hit another node), and attach, a second attach being `token_reused`.
 */
import type { WebSocket } from 'ws';
import type { AppContext } from '../context.js';
import type { Call } from '../store/types.js';
import type { MalformedReason } from '../metrics/index.js';
import { SessionAttachError, type CallSession } from '../session/index.js';
import type { Transport } from './types.js';
import { CLOSE_TRY_AGAIN } from './socket-guard.js';

/** What admission needs of a media socket besides being a Transport. */
export interface AdmittedSocket extends Transport {
  readonly closed: boolean;
  reject(reason: MalformedReason, message: string): void;
  closeWith(code: number, reason: string): void;
}

/** 1013 on a node that is shutting down: the carrier's retry (or the next call) lands elsewhere. */
export function refuseWhileDraining(ctx: Pick<AppContext, 'draining'>, socket: WebSocket): boolean {
  if (!ctx.draining) return false;
  socket.close(CLOSE_TRY_AGAIN, 'gateway draining');
  return true;
}

/**
 * The session that takes `transport`, or undefined when the socket was refused or closed
 * meanwhile (the refusal is already sent).
 */
export async function sessionFor(ctx: AppContext, call: Call, channel: 'phone' | 'web', transport: AdmittedSocket): Promise<CallSession | undefined> {
  if (ctx.draining) {
    transport.closeWith(CLOSE_TRY_AGAIN, 'gateway draining');
    return undefined;
  }
  const here = ctx.calls.get(call.id);
  if (here) return here;
  const agent = await ctx.store.getAgent(call.agentId);
  if (transport.closed) return undefined;
  if (!agent) {
    transport.reject('call_mismatch', 'the call has no agent');
    return undefined;
  }
  return ctx.calls.get(call.id) ?? ctx.calls.announce({ call, agent, channel });
}

/** Attaches; a call that already has its media (or has ended) refuses the socket as reused. */
export function attachOrRefuse(session: CallSession, transport: AdmittedSocket): void {
  try {
    session.attach(transport);
  } catch (err) {
    if (err instanceof SessionAttachError) return transport.reject('token_reused', err.message);
    throw err;
  }
}
