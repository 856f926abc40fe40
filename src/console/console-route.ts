/**
 * `GET /console`: the operator console (API.md, Console), static ES modules under
 * src/web/console/ with no build step, and `GET /` → `/console`. Like the approvals page it
 * holds no secret and has no private endpoint: the operator signs in with an API key, kept in
 * sessionStorage, and every read or action is a `/v1` call with that key, so the console can do
 * exactly what the key can do over curl. Strict CSP (same-origin scripts, styles and fetches;
 * `blob:` media for the recording, which is fetched with the key and played from memory).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

export const CONSOLE_PATH = '/console';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  // The recording plays from /v1 through the console's service worker (Range requests), or
  // from an object URL where service workers are unavailable (plain http off localhost).
  "media-src 'self' blob:",
  "worker-src 'self'",
  "img-src 'self' data: blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export async function consolePagePlugin(app: FastifyInstance): Promise<void> {
  const dir = new URL('../web/console/', import.meta.url);
  // Read once at start-up: the files are small, and a missing one should fail loudly, early.
  // Only files that exist here are routes, so no path from the URL ever reaches the disk.
  const assets = new Map<string, readonly [Buffer, string]>();
  for (const file of readdirSync(dir)) {
    const ext = file.slice(file.lastIndexOf('.'));
    const type = TYPES[ext];
    if (!type) continue;
    assets.set(file, [readFileSync(new URL(file, dir)), type]);
  }
  const index = assets.get('index.html');
  if (!index) throw new Error('src/web/console/index.html is missing');

  const send = (reply: import('fastify').FastifyReply, [body, type]: readonly [Buffer, string]) =>
    reply
      // The worker's scope is the page itself (/console), one level above its script's folder.
      .header('service-worker-allowed', CONSOLE_PATH)
      .header('content-type', type)
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .send(body);

  // A new user's first look at the gateway is `GET /`: show them the console, not a JSON 404.
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect(CONSOLE_PATH, 302));
  app.get(CONSOLE_PATH, { schema: { hide: true } }, async (_req, reply) => send(reply, index));
  for (const [file, asset] of assets) {
    if (file === 'index.html') continue;
    app.get(`${CONSOLE_PATH}/${file}`, { schema: { hide: true } }, async (_req, reply) => send(reply, asset));
  }
}
