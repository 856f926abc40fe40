/**
 * Small helpers over one better-sqlite3 connection, shared by the store and its contact
 * queries: statements prepared once and cached by SQL text, newest-first paging, patch UPDATEs.
 */
import type Database from 'better-sqlite3';
import { columnList, decodeRawRow, decodeRow, encodeRecord, encodeValue, patchColumns, type TableSpec } from './columns.js';
import { mapConstraintError } from './constraint-errors.js';
import { checkLimit, toPage } from './shared.js';
import type { Page, PageRequest } from './types.js';

export type Row = Record<string, unknown>;
export type Param = unknown;

export class SqliteDb {
  private readonly statements = new Map<string, Database.Statement>();
  /** Statements in raw mode (rows as arrays), for reads of whole records in `t.list` order. */
  private readonly rawStatements = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  /** The cached statement for `sql`; `raw`: one that returns rows as arrays (a separate cache entry). */
  stmt(sql: string, raw = false): Database.Statement {
    const cache = raw ? this.rawStatements : this.statements;
    let s = cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (raw) s.raw(true);
      cache.set(sql, s);
    }
    return s;
  }

  get(sql: string, params: Param[]): Row | undefined {
    return this.stmt(sql).get(...params) as Row | undefined;
  }

  all(sql: string, params: Param[]): Row[] {
    return this.stmt(sql).all(...params) as Row[];
  }

  run(sql: string, params: Param[]): number {
    return this.stmt(sql).run(...params).changes;
  }

  insert(t: TableSpec, record: object, what: string): void {
    const sql = `INSERT INTO ${t.table} (${columnList(t)}) VALUES (${t.columns.map(() => '?').join(', ')})`;
    try {
      this.run(sql, encodeRecord('sqlite', t, record));
    } catch (err) {
      throw mapConstraintError(err, what);
    }
  }

  byId<T>(t: TableSpec, id: string): T | null {
    const row = this.stmt(t.selectById.sqlite, true).get(id) as unknown[] | undefined;
    return row ? decodeRawRow<T>(t, row) : null;
  }

  /** Newest-first page over `t` with the given equality/inequality conditions. */
  page<T extends { id: string }>(t: TableSpec, where: string[], params: Param[], page: PageRequest): Page<T> {
    const limit = checkLimit(page.limit);
    const conds = [...where];
    const args = [...params];
    if (page.afterId !== undefined) {
      conds.push('id < ?');
      args.push(page.afterId);
    }
    const sql =
      `SELECT ${columnList(t)} FROM ${t.table}` +
      (conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : '') +
      ' ORDER BY id DESC LIMIT ?';
    args.push(limit + 1);
    return toPage((this.stmt(sql, true).all(...args) as unknown[][]).map((r) => decodeRawRow<T>(t, r)), limit);
  }

  ownerPage<T extends { id: string }>(t: TableSpec, owner: string | undefined, page: PageRequest): Page<T> {
    return owner === undefined ? this.page<T>(t, [], [], page) : this.page<T>(t, ['owner = ?'], [owner], page);
  }

  /** `UPDATE t SET <patch>, <extra> WHERE <where> RETURNING *` with the decoded row or null. */
  patch<T>(
    t: TableSpec,
    patch: object,
    forbidden: readonly string[],
    extra: Array<[column: string, value: Param]>,
    where: string,
    whereParams: Param[],
  ): T | null {
    const cols = patchColumns(t, patch, forbidden);
    const p = patch as Record<string, unknown>;
    const sets = [...cols.map((c) => `${c[1]} = ?`), ...extra.map(([c]) => `${c} = ?`)];
    const args = [...cols.map(([field, , kind]) => encodeValue('sqlite', kind, p[field])), ...extra.map(([, v]) => v)];
    const sql = `UPDATE ${t.table} SET ${sets.join(', ')} WHERE ${where} RETURNING ${columnList(t)}`;
    const row = this.get(sql, [...args, ...whereParams]);
    return row ? decodeRow<T>(t, row) : null;
  }
}
