/**
 * The admin key at start-up (API.md, Configuration; src/api/bootstrap.ts): without
 * `VOXGATE_ADMIN_KEY` the first start writes a working key to `DATA_DIR/admin-key` (0600) and
 * later starts on the same DATA_DIR reuse it; with `VOXGATE_ADMIN_KEY` that exact value works.
 * Each "start" builds the app the way test/helpers/test-app.ts does (store, bus, buildApp,
 * bootstrap) and talks to it with `inject`.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { createBus } from '../../src/bus/index.js';
import { buildApp } from '../../src/app.js';
import { bootstrap } from '../../src/api/index.js';
import { deriveSecrets } from '../../src/secrets.js';
import { ALL_SCOPES } from '../../src/store/types.js';

interface Started {
  app: FastifyInstance;
  adminKeyFile: string | null;
  stop(): Promise<void>;
}

/** One gateway start on `dataDir`; `env` adds to (never inherits) the environment. */
async function start(dataDir: string, env: Record<string, string> = {}): Promise<Started> {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env });
  const logger = createLogger(config);
  const store = await createStore(config);
  await store.migrate();
  const bus = await createBus(config);
  const { app, ctx } = await buildApp({ config, store, bus, logger, secrets: deriveSecrets('test-secrets-key-0123456789abcdef') });
  const { adminKeyFile } = await bootstrap(ctx);
  await app.ready();
  return {
    app,
    adminKeyFile,
    async stop() {
      await app.close();
      await bus.close();
      await store.close();
    },
  };
}

async function me(app: FastifyInstance, key: string): Promise<{ status: number; body: any }> {
  const res = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${key}` } });
  return { status: res.statusCode, body: res.json() };
}

describe('bootstrap: the admin key', () => {
  let dataDir: string;
  const running: Started[] = [];
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-bootstrap-'));
  });
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('without VOXGATE_ADMIN_KEY, writes a working admin key to DATA_DIR/admin-key with mode 0600', { timeout: 60_000 }, async () => {
    const s = await start(dataDir);
    running.push(s);
    const file = path.join(dataDir, 'admin-key');
    expect(s.adminKeyFile).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readFileSync(file, 'utf8').trim();
    expect(key.length).toBeGreaterThanOrEqual(16);

    const who = await me(s.app, key);
    expect(who.status).toBe(200);
    expect(who.body.owner).toBe('admin');
    expect([...who.body.scopes].sort()).toEqual([...ALL_SCOPES].sort());
    // The key is really checked: a different one is refused.
    expect((await me(s.app, `${key}x`)).status).toBe(401);
  });

  it('a second start on the same DATA_DIR reuses the file and the key', { timeout: 60_000 }, async () => {
    const first = await start(dataDir);
    const file = path.join(dataDir, 'admin-key');
    const before = readFileSync(file);
    const mtimeBefore = statSync(file).mtimeMs;
    const key = before.toString('utf8').trim();
    expect((await me(first.app, key)).status).toBe(200);
    await first.stop();

    const second = await start(dataDir);
    running.push(second);
    expect(second.adminKeyFile).toBe(file);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(mtimeBefore);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const who = await me(second.app, key);
    expect(who.status).toBe(200);
    expect(who.body.owner).toBe('admin');
    expect([...who.body.scopes].sort()).toEqual([...ALL_SCOPES].sort());
    // Reused, not re-created: still one admin key in the store.
    const keys = await second.app.inject({ method: 'GET', url: '/v1/keys', headers: { authorization: `Bearer ${key}` } });
    expect(keys.statusCode).toBe(200);
    expect((keys.json().items as Array<{ owner: string }>).filter((k) => k.owner === 'admin')).toHaveLength(1);
  });

  it('with VOXGATE_ADMIN_KEY, that exact value is the admin key and no file is written', { timeout: 60_000 }, async () => {
    const configured = 'vg_configured_admin_key_abcdef0123456789';
    const s = await start(dataDir, { VOXGATE_ADMIN_KEY: configured });
    running.push(s);
    expect(s.adminKeyFile).toBeNull();
    expect(() => statSync(path.join(dataDir, 'admin-key'))).toThrow();
    const who = await me(s.app, configured);
    expect(who.status).toBe(200);
    expect(who.body.owner).toBe('admin');
    expect([...who.body.scopes].sort()).toEqual([...ALL_SCOPES].sort());
    expect((await me(s.app, configured.slice(0, -1))).status).toBe(401);

    // A restart with the same value still works (the key is found, not duplicated).
    await s.stop();
    running.splice(0);
    const again = await start(dataDir, { VOXGATE_ADMIN_KEY: configured });
    running.push(again);
    expect((await me(again.app, configured)).status).toBe(200);
  });
});
