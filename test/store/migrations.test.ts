/**
 * Migration runner behaviour on both dialects: a failing migration leaves neither its tables
 * nor its version behind, later runs pick up where the last stopped, and a database newer than
 * the code is refused instead of being written to.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, type Migration } from '../../src/store/migrations/index.js';
import { migrateSqlite } from '../../src/store/sqlite-migrate.js';
import { migratePostgres } from '../../src/store/postgres-migrate.js';
import { pgTarget } from '../../src/store/postgres-connection.js';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Past every real migration, so the suite holds as migrations are added. */
const TEST_VERSION = 900;
const released = MIGRATIONS.map((m) => ({ version: m.version, name: m.name }));

const broken: Migration = {
  version: TEST_VERSION,
  name: 'broken',
  sqlite: 'CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;',
  postgres: 'CREATE TABLE half_done (x integer); SELECT * FROM no_such_table;',
};
const fixed: Migration = { ...broken, name: 'fixed', sqlite: 'CREATE TABLE half_done (x INTEGER);', postgres: 'CREATE TABLE half_done (x integer);' };

describe('sqlite migrations', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  function openDb(): Database.Database {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-mig-'));
    dirs.push(dir);
    return new Database(path.join(dir, 'voxgate.db'));
  }

  it('rolls back a failing migration and applies its fixed version later', () => {
    const db = openDb();
    expect(() => migrateSqlite(db, new Date().toISOString(), [...MIGRATIONS, broken])).toThrow(/no_such_table/);
    const tables = () => (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name);
    expect(tables()).toContain('calls');
    expect(tables()).not.toContain('half_done');
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(released.map((m) => ({ version: m.version })));
    migrateSqlite(db, new Date().toISOString(), [...MIGRATIONS, fixed]);
    expect(tables()).toContain('half_done');
    expect(db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual([
      ...released,
      { version: TEST_VERSION, name: 'fixed' },
    ]);
    db.close();
  });

  it('refuses a database migrated by a newer voxgate, and out-of-order migration lists', () => {
    const db = openDb();
    migrateSqlite(db, new Date().toISOString(), [...MIGRATIONS, fixed]);
    expect(() => migrateSqlite(db, new Date().toISOString())).toThrow(/newer than this voxgate/);
    expect(() => migrateSqlite(db, new Date().toISOString(), [fixed, ...MIGRATIONS])).toThrow(/out of order/);
    db.close();
  });
});

describe('postgres migrations', () => {
  const schemas: string[] = [];
  afterEach(async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    for (const s of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await client.end();
  });

  function pool(): { pool: pg.Pool; schema: string } {
    const schema = `vg_mig_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return { pool: new pg.Pool(pgTarget(DATABASE_URL, schema).pool), schema };
  }

  it('rolls back a failing migration, serialises concurrent runners and refuses newer schemas', async () => {
    const { pool: p, schema } = pool();
    const other = new pg.Pool(pgTarget(DATABASE_URL, schema).pool);
    try {
      await expect(migratePostgres(p, schema, [...MIGRATIONS, broken])).rejects.toThrow(/no_such_table/);
      const tables = async () =>
        (await p.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema])).rows.map((r) => r.table_name);
      expect(await tables()).toContain('calls');
      expect(await tables()).not.toContain('half_done');
      // Two nodes starting at once: both succeed, the new version is applied once.
      await Promise.all([migratePostgres(p, schema, [...MIGRATIONS, fixed]), migratePostgres(other, schema, [...MIGRATIONS, fixed])]);
      expect((await p.query('SELECT version, name FROM schema_migrations ORDER BY version')).rows).toEqual([
        ...released,
        { version: TEST_VERSION, name: 'fixed' },
      ]);
      await expect(migratePostgres(p, schema)).rejects.toThrow(/newer than this voxgate/);
    } finally {
      await p.end();
      await other.end();
    }
  });
});
