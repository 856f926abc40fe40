/** The store contract on SQLite: a fresh file under a temp DATA_DIR per test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { loadConfig } from '../../src/config.js';
import { createStore } from '../../src/store/index.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { storeContract } from './store-contract.js';

storeContract('sqlite', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-store-'));
  return {
    open: async () => SqliteStore.forDataDir(dir),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('createStore without DATABASE_URL', () => {
  it('opens DATA_DIR/voxgate.db in WAL mode', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-store-'));
    try {
      const store = await createStore(loadConfig({ DATA_DIR: path.join(dir, 'nested') }));
      expect(store.kind).toBe('sqlite');
      await store.migrate();
      await store.close();
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(path.join(dir, 'nested', 'voxgate.db'), { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
