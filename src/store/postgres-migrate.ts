/**
 * Applies pending migrations on PostgreSQL. Nodes starting together serialise on a session
 * advisory lock (keyed by schema, so separate schemas migrate independently); each migration
 * then runs in its own transaction together with its `schema_migrations` row, so a failed
 * migration leaves neither its tables nor its version behind.
 */
import type { Pool } from 'pg';
import { checkedMigrations, MIGRATIONS, type Migration } from './migrations/index.js';

export async function migratePostgres(pool: Pool, schema: string | null, list: readonly Migration[] = MIGRATIONS): Promise<void> {
  const migrations = checkedMigrations(list);
  const client = await pool.connect();
  const lockName = `voxgate.migrate.${schema ?? '(default)'}`;
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockName]);
    try {
      if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const applied = new Set(rows.map((r) => r.version));
      const newest = Math.max(0, ...applied);
      const known = migrations.length > 0 ? migrations[migrations.length - 1].version : 0;
      if (newest > known) {
        throw new Error(`database schema is at version ${newest}, newer than this voxgate knows (${known}); upgrade voxgate`);
      }
      for (const m of migrations) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.postgres);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockName]).catch((err: Error) => {
        // A connection that cannot unlock must not go back to the pool still holding the lock.
        broken = err;
      });
    }
  } finally {
    client.release(broken);
  }
}
