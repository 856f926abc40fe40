/**
 * Picks the store from the configuration: PostgreSQL when `DATABASE_URL` is set, otherwise the
 * embedded SQLite file `DATA_DIR/voxgate.db`. The caller runs `migrate()` once at start-up.
 */
import type { Config } from '../config.js';
import type { Store } from './types.js';
import { SqliteStore } from './sqlite-store.js';
import type { StoreOptions } from './shared.js';

export type * from './types.js';
export type { StoreOptions } from './shared.js';

export async function createStore(config: Config, options: StoreOptions = {}): Promise<Store> {
  if (config.databaseUrl) {
    // Loaded on demand: a SQLite deployment never loads `pg`.
    const { PostgresStore } = await import('./postgres-store.js');
    return PostgresStore.connect(config.databaseUrl, options);
  }
  return SqliteStore.forDataDir(config.dataDir, options);
}
