/**
 * `GET /web/call?token=…`: the web-call page (src/web/call/), static files with no build step.
 * The page reads the token from its own URL and opens `/web/media` with it; it holds nothing
 * else. Strict CSP: same-origin scripts, styles, worklets and sockets only, no framing, and the
 * URL (which carries the token) is never sent as a referrer.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { TERMINAL_CALL_STATUSES } from '../../store/types.js';
import { VoxgateError } from '../../errors.js';
import { verifyWebToken } from './web-token.js';

export const WEB_CALL_PAGE_PATH = '/web/call';

const ASSETS: Record<string, readonly [file: string, type: string]> = {
  [WEB_CALL_PAGE_PATH]: ['index.html', 'text/html; charset=utf-8'],
  [`${WEB_CALL_PAGE_PATH}/call.js`]: ['call.js', 'text/javascript; charset=utf-8'],
  [`${WEB_CALL_PAGE_PATH}/call.css`]: ['call.css', 'text/css; charset=utf-8'],
  [`${WEB_CALL_PAGE_PATH}/audio-worklet.js`]: ['audio-worklet.js', 'text/javascript; charset=utf-8'],
};

/** `'self'` covers ws:/wss: to the same host in CSP Level 3 (Chromium, Firefox, Safari 15.4+). */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "media-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * What the page may know before it connects (issue 19): the agent's name, and whether the link
 * can still be used, so a used, ended or expired link says so instead of a Start button that
 * fails. It reveals nothing the token's holder could not learn by connecting.
 */
export type WebCallLinkState = 'ready' | 'used' | 'ended' | 'expired' | 'invalid';

export async function webCallPagePlugin(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  app.get(`${WEB_CALL_PAGE_PATH}/info`, { schema: { hide: true } }, async (req, reply) => {
    const token = (req.query as Record<string, unknown>)['token'];
    if (typeof token !== 'string' || token === '') throw new VoxgateError('bad_request', 'the query needs the call link token: ?token=…');
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    const check = verifyWebToken(ctx.secrets.tokenKey, token, ctx.now());
    const answer = (state: WebCallLinkState, agentName: string | null = null, endReason: string | null = null) => ({ state, agentName, endReason });
    if (!check.ok) return answer(check.reason === 'expired' ? 'expired' : 'invalid');
    const call = await ctx.store.getCall(check.callId);
    if (!call || call.direction !== 'web') return answer('invalid');
    const agent = await ctx.store.getAgent(call.agentId);
    const name = agent?.name ?? null;
    if (TERMINAL_CALL_STATUSES.includes(call.status)) return answer('ended', name, call.endReason);
    // The media route admits only a `queued` web call: anything later means the link was used.
    return answer(call.status === 'queued' ? 'ready' : 'used', name);
  });

  const dir = new URL('../../web/call/', import.meta.url);
  for (const [route, [file, type]] of Object.entries(ASSETS)) {
    // Read once at start-up: the files are small, and a missing one should fail loudly, early.
    const body = readFileSync(new URL(file, dir));
    app.get(route, { schema: { hide: true } }, async (_req, reply) =>
      reply
        .header('content-type', type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        // The microphone only for this origin; nothing else the page does not use.
        .header('permissions-policy', 'microphone=(self), camera=(), geolocation=()')
        .header('cache-control', 'no-store')
        .send(body),
    );
  }
}
