/**
 * The control API: OpenAPI, the `/v1` auth hook, per-key rate limits, idempotency, and one
 * plugin per resource. Everything under `/v1` registers inside this plugin so the hooks above
 * apply to it (Fastify encapsulation: hooks pass down, never up).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import { reconnectDelayMs } from '../bus/index.js';
import type { AppContext } from '../context.js';
import { VoxgateError } from '../errors.js';
import { callRoutes } from './calls.js';
import { webCallRoutes } from './web-calls.js';
import { campaignRoutes } from './campaigns.js';
import { authHook, isMcp, isV1, scopeHook } from './auth.js';
import { registerIdempotency } from './idempotency.js';
import { fallbackRateLimitStore } from './rate-limit-store.js';
import { transformOpenApi } from './openapi-extras.js';
import { allowedMethods, trackRoutes } from './method-guard.js';
import { meRoutes } from './me.js';
import { keyRoutes } from './keys.js';
import { agentRoutes } from './agents.js';
import { agentChatRoutes } from './agent-chat.js';
import { envVarRoutes } from './env-vars.js';
import { toolRoutes } from './tools.js';
import { knowledgeRoutes } from './knowledge.js';
import { phoneNumberRoutes } from './phone-numbers.js';
import { voiceRoutes } from './voices.js';
import { mcpPlugin } from '../mcp/index.js';

export { emptyErrorBody, errorHandler, frameworkErrors, toVoxgateError } from './error-handler.js';
export { textGuard } from './text-guard.js';
export { bootstrap } from './bootstrap.js';

export async function apiPlugin(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  trackRoutes(app, app.server, '/v1');

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'voxgate control API', version: '1' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    transformObject: transformOpenApi as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Bodies are JSON (API.md): anything else is 415, not a string the schema then rejects.
  app.removeContentTypeParser('text/plain');

  app.decorateRequest('auth', null as unknown as FastifyRequest['auth']);
  app.addHook('onRequest', authHook(ctx));
  app.addHook('preParsing', scopeHook);

  const redis = ctx.config.redisUrl ? rateLimitRedis(ctx, ctx.config.redisUrl) : null;
  if (redis) {
    app.addHook('onClose', async () => void redis.disconnect());
    await firstConnectAttempt(redis);
  }
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    timeWindow: 60_000,
    max: (req: FastifyRequest) => req.auth?.rpm ?? ctx.config.rateLimitRpm,
    keyGenerator: (req: FastifyRequest) => req.auth?.keyId ?? `ip:${req.ip}`,
    // Only authenticated /v1 and /mcp traffic is limited per key (one budget for both); docs
    // and public routes are not.
    allowList: (req: FastifyRequest) => !(isV1(req.routeOptions.url) || isMcp(req.routeOptions.url)) || !req.auth,
    ...(redis ? { store: fallbackRateLimitStore({ redis, nameSpace: 'voxgate-rl-', onFallback: rateLimitFallbackReporter(ctx) }) } : {}),
    addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true, 'retry-after': true },
    errorResponseBuilder: (_req, context) =>
      new VoxgateError('rate_limited', `rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`, [], true),
  });

  registerIdempotency(app, ctx);

  await app.register(meRoutes, opts);
  await app.register(keyRoutes, opts);
  await app.register(agentRoutes, opts);
  await app.register(agentChatRoutes, opts);
  await app.register(envVarRoutes, opts);
  await app.register(toolRoutes, opts);
  await app.register(knowledgeRoutes, opts);
  await app.register(phoneNumberRoutes, opts);
  await app.register(voiceRoutes, opts);

  await app.register(callRoutes, opts);
  await app.register(webCallRoutes, opts);
  await app.register(campaignRoutes, opts);
  // MCP (/mcp) runs the same service functions as the routes above, with the same keys.
  await app.register(mcpPlugin, opts);
  registerV1CatchAll(app);
}

/**
 * The rate limiter's own Redis connection. 250 ms per command: a rate-limit check sits in
 * front of every `/v1` request, and a Redis that stopped answering (partition, frozen host)
 * must cost a request at most that before it is counted on this node instead. Without the
 * offline queue a command while reconnecting fails at once rather than waiting for Redis.
 */
function rateLimitRedis(ctx: AppContext, url: string): Redis {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, commandTimeout: 250, enableOfflineQueue: false, retryStrategy: reconnectDelayMs });
  // ioredis reconnects by itself; without a listener it would print every attempt to stderr.
  redis.on('error', () => undefined);
  redis.on('ready', () => ctx.log.debug('rate limiter: redis connected'));
  return redis;
}

/**
 * Waits for the limiter's first connection attempt to settle (ready, refused, or 2 s), so a
 * node whose Redis is up counts its first requests in the shared budget instead of on its own
 * while the connection is still being set up. A Redis that is down at start costs no wait.
 */
const FIRST_CONNECT_WAIT_MS = 2_000;

async function firstConnectAttempt(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, FIRST_CONNECT_WAIT_MS);
    redis.once('ready', done);
    redis.once('error', done);
  });
}

/** 10 s between "counting per node" warnings: one line per outage-ish, not one per request. */
const FALLBACK_LOG_INTERVAL_MS = 10_000;

function rateLimitFallbackReporter(ctx: AppContext): (err: Error) => void {
  let lastLogMs = 0;
  return (err) => {
    ctx.metrics.faults.rateLimitFallbacks.inc();
    const now = Date.now();
    if (now - lastLogMs < FALLBACK_LOG_INTERVAL_MS) return;
    lastLogMs = now;
    ctx.log.warn({ err: err.message }, 'rate limits counted on this node: Redis is unreachable');
  };
}

/** The 405 (with the methods for `Allow`) or 404 for a request no route serves. */
function noRoute(req: FastifyRequest): { error: VoxgateError; allow?: string } {
  const path = req.url.split('?')[0]!;
  const allowed = isV1(path) ? allowedMethods(req.server.server, path) : null;
  if (allowed && !allowed.includes(req.method)) {
    return {
      error: new VoxgateError('method_not_allowed', `${req.method} is not allowed on ${path}; use ${allowed.join(', ')}`),
      allow: allowed.join(', '),
    };
  }
  return { error: new VoxgateError('not_found', `route ${req.method} ${path} not found`) };
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  const { error, allow } = noRoute(req);
  if (allow) void reply.header('allow', allow);
  void reply.code(error.status).send(error.toBody());
}

/**
 * Unknown paths and wrong methods under `/v1` are answered by a catch-all route inside this
 * plugin rather than the root not-found handler, so they pass the same hooks as every `/v1`
 * route: a missing or unknown key is 401 (routes cannot be probed without a key), and the
 * answer carries `x-ratelimit-*` and counts against the key (API.md: "on every response").
 * The 404/405 is thrown before the body is read, so a malformed body does not turn it into a 400.
 */
function registerV1CatchAll(app: FastifyInstance): void {
  const preParsing = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const { error, allow } = noRoute(req);
    if (allow) void reply.header('allow', allow);
    throw error;
  };
  for (const url of ['/v1', '/v1/*']) {
    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url,
      config: { scope: 'any', catchAll: true },
      schema: { hide: true },
      preParsing,
      handler: async () => {
        throw new VoxgateError('not_found', 'not found');
      },
    });
  }
}
