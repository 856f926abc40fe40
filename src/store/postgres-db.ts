/**
 * Small helpers over a `pg` Pool, shared by the store and its contact queries: named
 * statements, newest-first paging, patch UPDATEs, transactions.
 */
import type pg from 'pg';
import { columnList, decodeRow, encodeRecord, encodeValue, patchColumns, type TableSpec } from './columns.js';
import { mapConstraintError } from './constraint-errors.js';
import { placeholders, q } from './postgres-connection.js';
import { checkLimit, toPage } from './shared.js';
import type { Page, PageRequest } from './types.js';
import { asUnavailable } from '../faults/index.js';

export type Row = Record<string, unknown>;

export class PgDb {
  constructor(readonly pool: pg.Pool) {}

  /** Runs `fn` inside BEGIN/COMMIT on one pooled connection; ROLLBACK if it throws. */
  async tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw asUnavailable('store', err);
    } finally {
      client.release();
    }
  }

  async rows(text: string, values: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(q(text, values))).rows;
  }

  async one<T>(t: TableSpec, text: string, values: unknown[]): Promise<T | null> {
    const [row] = await this.rows(text, values);
    return row ? decodeRow<T>(t, row) : null;
  }

  async count(text: string, values: unknown[]): Promise<number> {
    return (await this.pool.query(q(text, values))).rowCount ?? 0;
  }

  async insert(t: TableSpec, record: object, what: string): Promise<void> {
    const text = `INSERT INTO ${t.table} (${columnList(t)}) VALUES (${placeholders(t.columns.length)})`;
    try {
      await this.pool.query(q(text, encodeRecord('postgres', t, record)));
    } catch (err) {
      throw mapConstraintError(err, what);
    }
  }

  byId<T>(t: TableSpec, id: string): Promise<T | null> {
    return this.one<T>(t, t.selectById.postgres, [id]);
  }

  /** Newest-first page; `where` uses `?` placeholders, numbered here. */
  async page<T extends { id: string }>(t: TableSpec, where: string[], values: unknown[], page: PageRequest): Promise<Page<T>> {
    const limit = checkLimit(page.limit);
    const conds = [...where];
    const args = [...values];
    if (page.afterId !== undefined) {
      conds.push('id < ?');
      args.push(page.afterId);
    }
    args.push(limit + 1);
    let n = 0;
    const text = (
      `SELECT ${columnList(t)} FROM ${t.table}` +
      (conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : '') +
      ' ORDER BY id DESC LIMIT ?'
    ).replace(/\?/g, () => `$${++n}`);
    return toPage((await this.rows(text, args)).map((r) => decodeRow<T>(t, r)), limit);
  }

  ownerPage<T extends { id: string }>(t: TableSpec, owner: string | undefined, page: PageRequest): Promise<Page<T>> {
    return owner === undefined ? this.page<T>(t, [], [], page) : this.page<T>(t, ['owner = ?'], [owner], page);
  }

  /** `UPDATE t SET <patch>, <extra> WHERE <where with ? placeholders> RETURNING *`. */
  async patch<T>(
    t: TableSpec,
    patch: object,
    forbidden: readonly string[],
    extra: Array<[column: string, value: unknown]>,
    where: string,
    whereValues: unknown[],
  ): Promise<T | null> {
    const cols = patchColumns(t, patch, forbidden);
    const p = patch as Record<string, unknown>;
    const sets = [...cols.map((c) => `${c[1]} = ?`), ...extra.map(([c]) => `${c} = ?`)];
    const args = [...cols.map(([field, , kind]) => encodeValue('postgres', kind, p[field])), ...extra.map(([, v]) => v), ...whereValues];
    let n = 0;
    const text = `UPDATE ${t.table} SET ${sets.join(', ')} WHERE ${where} RETURNING ${columnList(t)}`.replace(/\?/g, () => `$${++n}`);
    try {
      return await this.one<T>(t, text, args);
    } catch (err) {
      throw mapConstraintError(err, t.table);
    }
  }
}
