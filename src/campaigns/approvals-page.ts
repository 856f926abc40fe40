/**
 * `GET /approvals`: the reviewer's page (src/web/approvals/), static files with no build step.
 * It holds no secret: the reviewer pastes their own `approvals:write` key, the page keeps it in
 * sessionStorage and calls the public API (`/v1/me`, `/v1/approvals`) with it, so the page can
 * do nothing the key could not do over curl. Served with a strict CSP (same-origin scripts and
 * fetches only, no framing) because it handles a key.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

const ASSETS = {
  '/approvals': ['index.html', 'text/html; charset=utf-8'],
  '/approvals/approvals.js': ['approvals.js', 'text/javascript; charset=utf-8'],
  '/approvals/approvals.css': ['approvals.css', 'text/css; charset=utf-8'],
} as const;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export async function approvalsPagePlugin(app: FastifyInstance, _opts: { ctx: AppContext }): Promise<void> {
  const dir = new URL('../web/approvals/', import.meta.url);
  for (const [route, [file, type]] of Object.entries(ASSETS)) {
    // Read once at start-up: the files are small and a missing one should fail loudly, early.
    const body = readFileSync(new URL(file, dir));
    app.get(route, { schema: { hide: true } }, async (_req, reply) =>
      reply
        .header('content-type', type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .send(body),
    );
  }
}
