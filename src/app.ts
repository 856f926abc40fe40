/**
 * Builds the Fastify app from its parts. `main.ts` listens; tests call `buildApp` and use
 * `inject`/`injectWS` or listen on 127.0.0.1:0.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { Config } from './config.js';
import type { Store } from './store/types.js';
import type { EventBus } from './bus/types.js';
import { createMetrics, type Metrics } from './metrics/index.js';
import type { Logger } from './logger.js';
import { apiPlugin, emptyErrorBody, errorHandler, frameworkErrors, notFoundHandler, textGuard, toVoxgateError } from './api/index.js';
import { LoadGuard, ServiceUnavailableError } from './faults/index.js';
import { twilioMediaPlugin, twilioWebhooksPlugin } from './transport/twilio/index.js';
import { CallRegistry } from './session/index.js';
import { createTwilioRest, type TwilioRest } from './transport/twilio/rest-client.js';
import { webPlugin } from './transport/web/index.js';
import { mediaSocketErrorHandler } from './transport/socket-errors.js';
import { bodyStrictValidator } from './api/validator.js';
import { acceptEmptyJsonBodies, emptyBodyGuard } from './api/empty-body.js';
import { approvalsPagePlugin } from './campaigns/index.js';
import { consolePagePlugin } from './console/index.js';
import { createKnowledgeSearch } from './knowledge/index.js';
import { deriveSecrets, type Secrets } from './secrets.js';
import { randomBytes } from 'node:crypto';
import type { AppContext } from './context.js';

export type { AppContext } from './context.js';

export interface AppDeps {
  config: Config;
  store: Store;
  bus: EventBus;
  logger: Logger;
  metrics?: Metrics;
  now?: () => Date;
  /** Defaults to a random key (tests); main.ts passes the persistent one. */
  secrets?: Secrets;
  /** Defaults to the SDK client built from config; tests may pass their own. */
  twilio?: TwilioRest | null;
}

export interface BuiltApp {
  app: FastifyInstance;
  ctx: AppContext;
}

/** 1 MiB, API.md: bodies over it are refused with 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

export async function buildApp(deps: AppDeps): Promise<BuiltApp> {
  const metrics = deps.metrics ?? createMetrics();
  const ctx: AppContext = {
    config: deps.config,
    store: deps.store,
    bus: deps.bus,
    metrics,
    log: deps.logger,
    secrets: deps.secrets ?? deriveSecrets(randomBytes(32)),
    twilio: deps.twilio !== undefined ? deps.twilio : createTwilioRest(deps.config),
    knowledge: createKnowledgeSearch(deps.store),
    calls: undefined as unknown as CallRegistry,
    now: deps.now ?? (() => new Date()),
    draining: false,
    load: new LoadGuard({ maxLagMs: deps.config.overload.maxEventLoopLagMs, gauge: metrics.faults.eventLoopLagMs }),
  };
  ctx.load.start();
  ctx.calls = new CallRegistry(ctx);

  const app: FastifyInstance = Fastify({
    // Fastify's own info lines (one per request, "Server listening at …" per interface) are
    // noise next to main.ts's single structured start-up line: its logger starts at `warn`.
    loggerInstance: deps.logger.child({}, { level: minLevel(deps.logger.level, 'warn') }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Live calls are drained before app.close(); whatever is still connected then (an SSE reader
    // of a call on another node, a stuck keep-alive) must not hold the shutdown open forever.
    forceCloseConnections: true,
    trustProxy: true,
    // Ids in paths are ours; keep routing strict and predictable.
    routerOptions: { ignoreTrailingSlash: true },
    // Router-level failures (bad URL encoding, over-long params) get the error body too.
    frameworkErrors,
    schemaController: { compilersFactory: { buildValidator: bodyStrictValidator() } },
  }) as unknown as FastifyInstance;

  app.setErrorHandler(errorHandler);
  app.addHook('onError', async (_req, _reply, err) => {
    const ve = toVoxgateError(err);
    if (ve instanceof ServiceUnavailableError) metrics.faults.serviceUnavailable.inc({ service: ve.service });
  });
  app.setNotFoundHandler(notFoundHandler);
  // Every route: text the stores cannot hold is 422, and no error leaves without its body.
  acceptEmptyJsonBodies(app);
  app.addHook('preValidation', emptyBodyGuard);
  app.addHook('preValidation', textGuard);
  app.addHook('onSend', emptyErrorBody);

  await app.register(websocket, {
    options: { maxPayload: deps.config.media.maxMessageBytes },
    errorHandler: mediaSocketErrorHandler(metrics, deps.logger),
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {};
    let ok = true;
    for (const [name, probe] of [
      ['store', () => ctx.store.ping()],
      ['bus', () => ctx.bus.ping()],
    ] as const) {
      try {
        await withTimeout(probe(), READY_PROBE_TIMEOUT_MS, `${name} did not answer within ${READY_PROBE_TIMEOUT_MS} ms`);
        checks[name] = 'ok';
      } catch (err) {
        ok = false;
        checks[name] = (err as Error).message;
      }
    }
    if (ctx.draining) {
      ok = false;
      checks.draining = 'shutting down';
    }
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  await app.register(apiPlugin, { ctx });
  await app.register(twilioWebhooksPlugin, { ctx });
  await app.register(twilioMediaPlugin, { ctx });
  await app.register(webPlugin, { ctx });
  await app.register(approvalsPagePlugin, { ctx });
  await app.register(consolePagePlugin);
  await ctx.calls.start();

  app.addHook('preClose', async () => {
    ctx.draining = true;
    await ctx.calls.drain(0);
  });
  app.addHook('onClose', async () => ctx.load.stop());

  return { app, ctx };
}

/**
 * A readiness probe that waits longer than a load balancer's probe timeout (commonly 1-5 s)
 * is as good as none: a service that stopped answering (partition, frozen host) is "not ready".
 */
const READY_PROBE_TIMEOUT_MS = 1_000;

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  p.catch(() => undefined); // a late rejection after the timeout is no one's business
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const LEVEL_ORDER = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
/** The stricter of two pino levels. */
function minLevel(current: string, floor: string): string {
  return LEVEL_ORDER.indexOf(current) >= LEVEL_ORDER.indexOf(floor) ? current : floor;
}
