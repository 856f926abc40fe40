/**
 * Builds the gateway's OpenAPI document without serving anything: a throwaway app over SQLite
 * in a temp directory, the in-process bus, no provider credentials. Used by the client
 * generator (`npm run client:generate`) and by the test that checks the committed client types
 * still match the document.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createStore } from '../store/index.js';
import { createBus } from '../bus/index.js';
import { buildApp } from '../app.js';

export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-openapi-'));
  try {
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', PUBLIC_URL: 'http://127.0.0.1:8080' });
    const store = await createStore(config);
    await store.migrate();
    const bus = await createBus(config);
    const { app, ctx } = await buildApp({ config, store, bus, logger: createLogger(config), twilio: null });
    try {
      const res = await app.inject({ method: 'GET', url: '/openapi.json' });
      return res.json() as Record<string, unknown>;
    } finally {
      ctx.draining = true;
      await app.close();
      await bus.close();
      await store.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
