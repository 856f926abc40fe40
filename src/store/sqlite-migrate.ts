/**
 * Applies pending migrations to a SQLite database. Each migration runs in its own IMMEDIATE
 * transaction that re-checks `schema_migrations` after taking the write lock, so two processes
 * starting on the same file apply each migration exactly once.
 */
import type Database from 'better-sqlite3';
import { checkedMigrations, MIGRATIONS, type Migration } from './migrations/index.js';

export function migrateSqlite(db: Database.Database, appliedAt: string, list: readonly Migration[] = MIGRATIONS): void {
  const migrations = checkedMigrations(list);
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const newest = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  const known = migrations.length > 0 ? migrations[migrations.length - 1].version : 0;
  if (newest.v !== null && newest.v > known) {
    throw new Error(`database schema is at version ${newest.v}, newer than this voxgate knows (${known}); upgrade voxgate`);
  }
  const applied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?');
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    db.transaction(() => {
      if (applied.get(m.version)) return;
      db.exec(m.sqlite);
      record.run(m.version, m.name, appliedAt);
    }).immediate();
  }
}
