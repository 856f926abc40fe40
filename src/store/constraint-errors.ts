/**
 * Turns constraint violations from either driver into the API's errors, so a duplicate phone
 * number is a 409 `conflict` and a reference to a missing record a 404, not a 500.
 * SQLite codes: https://www.sqlite.org/rescode.html (extended codes, as better-sqlite3 reports
 * them); PostgreSQL SQLSTATEs: https://www.postgresql.org/docs/current/errcodes-appendix.html.
 */
import { VoxgateError } from '../errors.js';

const UNIQUE = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505']);
const FOREIGN_KEY = new Set(['SQLITE_CONSTRAINT_FOREIGNKEY', '23503']);

export function mapConstraintError(err: unknown, what: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  if (UNIQUE.has(code)) return new VoxgateError('conflict', `${what} already exists`);
  if (FOREIGN_KEY.has(code)) return new VoxgateError('not_found', `${what} refers to a record that does not exist`);
  return err;
}
