/**
 * A whole gateway for a test: SQLite in a fresh temp DATA_DIR, the in-process bus, a known
 * admin key, listening on 127.0.0.1 with PUBLIC_URL pointing at itself (Twilio signatures and
 * TwiML stream URLs are computed from it). Provider URLs come from `env` (aim them at fakes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { createBus } from '../../src/bus/index.js';
import { buildApp, type AppContext } from '../../src/app.js';
import { bootstrap } from '../../src/api/index.js';
import { deriveSecrets, loadSecrets } from '../../src/secrets.js';
import type { TwilioRest } from '../../src/transport/twilio/rest-client.js';
import type { FastifyInstance } from 'fastify';

export const TEST_ADMIN_KEY = 'vg_test_admin_key_0123456789abcdef';

export interface TestApp {
  app: FastifyInstance;
  ctx: AppContext;
  config: Config;
  baseUrl: string;
  wsUrl: string;
  dataDir: string;
  adminKey: string;
  /** fetch against the gateway with the admin key (or `key`) as Bearer. */
  api(method: string, path: string, body?: unknown, key?: string, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Replaces the SDK-backed Twilio client (null: Twilio not configured). */
  twilio?: TwilioRest | null;
  now?: () => Date;
  /**
   * 'load': the secrets come from `loadSecrets`, as `npm start` gets them (the store's key on
   * PostgreSQL, the DATA_DIR file on SQLite) instead of the suite's fixed key.
   */
  secrets?: 'load';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-test-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: baseUrl,
    DATA_DIR: dataDir,
    VOXGATE_ADMIN_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: 'silent',
    ALLOW_PRIVATE_URLS: 'true',
    // The overload guard judges the event loop of the test process, which shares a busy CI
    // machine with other tests: off unless a test turns it on (test/faults/overload.test.ts).
    OVERLOAD_LAG_MS: '0',
    ...options.env,
  });
  const logger = createLogger(config);
  const store = await createStore(config);
  await store.migrate();
  const bus = await createBus(config);
  const { app, ctx } = await buildApp({
    config,
    store,
    bus,
    logger,
    now: options.now,
    secrets: options.secrets === 'load' ? (await loadSecrets(config, store)).secrets : deriveSecrets('test-secrets-key-0123456789abcdef'),
    ...(options.twilio !== undefined ? { twilio: options.twilio } : {}),
  });
  await bootstrap(ctx);
  await app.listen({ port, host: '127.0.0.1' });

  const api: TestApp['api'] = async (method, p, body, key = TEST_ADMIN_KEY, headers = {}) => {
    const res = await fetch(baseUrl + p, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };

  return {
    app,
    ctx,
    config,
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, 'ws'),
    dataDir,
    adminKey: TEST_ADMIN_KEY,
    api,
    async close() {
      ctx.draining = true;
      await ctx.calls.drain(0);
      await app.close();
      await bus.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
