/**
 * `GET /web/call?token=…`: the web-call page (src/web/call/), static files with no build step.
 * The page reads the token from its own URL and opens `/web/media` with it; it holds nothing
 * else. Strict CSP: same-origin scripts, styles, worklets and sockets only, no framing, and the
 * URL (which carries the token) is never sent as a referrer.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

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

export async function webCallPagePlugin(app: FastifyInstance): Promise<void> {
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
