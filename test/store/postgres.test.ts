/**
 * The store contract on PostgreSQL (127.0.0.1:5432, db `test`): a fresh schema per test,
 * dropped afterwards, so parallel runs and other test files never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { loadConfig } from '../../src/config.js';
import { createStore } from '../../src/store/index.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { pgTarget } from '../../src/store/postgres-connection.js';
import { storeContract } from './store-contract.js';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

function schemaName(): string {
  return `vg_test_${randomBytes(6).toString('hex')}`;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

storeContract('postgres', async () => {
  const schema = schemaName();
  return {
    open: async () => PostgresStore.connect(DATABASE_URL, { schema }),
    dispose: () => dropSchema(schema),
  };
});

describe('createStore with DATABASE_URL', () => {
  it('uses PostgreSQL in the schema named by the URL and records the migration once', async () => {
    const schema = schemaName();
    try {
      const config = loadConfig({ DATABASE_URL: `${DATABASE_URL}?schema=${schema}` });
      const store = await createStore(config);
      expect(store.kind).toBe('postgres');
      await store.migrate();
      await store.migrate();
      await store.close();
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      try {
        const { rows } = await client.query(`SELECT version, name FROM ${schema}.schema_migrations ORDER BY version`);
        expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
        const tables = await client.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'calls'", [schema]);
        expect(tables.rows[0].n).toBe(1);
      } finally {
        await client.end();
      }
    } finally {
      await dropSchema(schema);
    }
  });

  it('refuses schema names that would need quoting', () => {
    expect(() => pgTarget(`${DATABASE_URL}?schema=Bad-Name`)).toThrow(/schema/);
    expect(() => pgTarget(DATABASE_URL, 'x; DROP TABLE calls')).toThrow(/schema/);
  });

  it('keeps an options parameter already on the URL next to the search_path', () => {
    const t = pgTarget(`${DATABASE_URL}?options=-c%20statement_timeout%3D5000&schema=abc`);
    expect(t.schema).toBe('abc');
    expect(t.pool.options).toBe('-c statement_timeout=5000 -c search_path=abc');
    expect(t.pool.connectionString).not.toMatch(/schema|options/);
  });
});
