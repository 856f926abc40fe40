/**
 * Web calls: the browser media WebSocket (`GET /web/media`, a `Transport`), the call page
 * (`GET /web/call`), and the token that `POST /v1/web-calls` mints for them (API.md, Web calls).
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { webMediaPlugin } from './media-route.js';
import { webCallPagePlugin, WEB_CALL_PAGE_PATH } from './page-route.js';
import { WEB_MEDIA_PATH } from './media-route.js';

export { WebMediaSocket, WEB_FRAME_BYTES, DEFAULT_JITTER_MS } from './media-socket.js';
export { CallEventRelay } from './event-relay.js';
export { createWebToken, verifyWebToken, UsedWebTokens, WEB_TOKEN_TTL_MS, type WebTokenCheck } from './web-token.js';
export { webMediaPlugin, WEB_MEDIA_PATH, type WebMediaPluginOptions } from './media-route.js';
export { WEB_CALL_PAGE_PATH } from './page-route.js';

export async function webPlugin(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  await app.register(webMediaPlugin, { ctx: opts.ctx });
  await app.register(webCallPagePlugin, { ctx: opts.ctx });
}

/** Where the browser goes: the media socket (http→ws, https→wss) and the page, both carrying the token. */
export function webCallUrls(publicUrl: string, token: string): { websocketUrl: string; pageUrl: string } {
  const base = publicUrl.replace(/\/+$/, '');
  const q = `?token=${encodeURIComponent(token)}`;
  return {
    websocketUrl: `${base.replace(/^http/, 'ws')}${WEB_MEDIA_PATH}${q}`,
    pageUrl: `${base}${WEB_CALL_PAGE_PATH}${q}`,
  };
}
