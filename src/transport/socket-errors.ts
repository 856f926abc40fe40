/**
 * Errors on an accepted media WebSocket. Most are the peer's fault, not ours: a message over
 * `maxPayload` (ws: WS_ERR_UNSUPPORTED_MESSAGE_LENGTH, close 1009), an invalid frame or UTF-8
 * sequence, a reset connection. @fastify/websocket's default handler logs every one of them at
 * error level with a stack trace and terminates the socket; bad input is a warning and a metric
 * (the `ws` receiver has already started the close with the right code, so it is left to finish).
 */
import type { WebSocket } from 'ws';
import type { FastifyRequest } from 'fastify';
import type { Metrics, MalformedReason } from '../metrics/index.js';
import type { Logger } from '../logger.js';

/** A close that `ws` started itself is given this long to complete before the socket is dropped. */
const CLOSE_GRACE_MS = 1000;

/** ws's receiver error codes (ws/lib/receiver.js `createError`) mapped to our metric reasons. */
function reasonFor(code: string | undefined): MalformedReason | null {
  if (!code) return null;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return 'oversized';
  if (code === 'WS_ERR_INVALID_UTF8') return 'invalid_json';
  if (code.startsWith('WS_ERR_')) return 'bad_frame';
  return null;
}

function transportOf(url: string | undefined): 'twilio' | 'web' | 'other' {
  if (url?.startsWith('/twilio/')) return 'twilio';
  if (url?.startsWith('/web/')) return 'web';
  return 'other';
}

export function mediaSocketErrorHandler(metrics: Metrics, log: Logger) {
  return (error: Error & { code?: string }, socket: WebSocket, request: FastifyRequest): void => {
    const reason = reasonFor(error.code);
    const transport = transportOf(request.url);
    if (reason) {
      metrics.malformed.labels(transport, reason).inc();
      log.warn({ transport, reason, code: error.code, message: error.message, path: request.url?.split('?')[0] }, 'media socket closed on bad input');
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
      return;
    }
    if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || (error as NodeJS.ErrnoException).code === 'EPIPE') {
      log.info({ transport, code: error.code }, 'media socket connection lost');
      socket.terminate();
      return;
    }
    log.error({ err: error, transport }, 'media socket failed');
    socket.terminate();
  };
}
