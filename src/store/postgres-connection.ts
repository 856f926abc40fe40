/**
 * Builds the `pg` Pool configuration from DATABASE_URL and the store options.
 *
 * Schema selection (for tests and for several deployments sharing one database), in order:
 * 1. `createStore(config, { schema: 'name' })` / `PostgresStore.connect(url, { schema })`;
 * 2. a `schema` query parameter on DATABASE_URL: `postgres://u@h/db?schema=voxgate`.
 * The schema is set as the connection's `search_path` through the startup `options` parameter
 * (`-c search_path=<schema>`), so it costs no extra round trip per connection, and `migrate()`
 * creates the schema if it is missing. An `options` parameter already on the URL is kept.
 * Without either, PostgreSQL's default search_path (normally `public`) is used.
 */
import { createHash } from 'node:crypto';
import type { PoolConfig, QueryConfig } from 'pg';

/** Lower-case only: unquoted identifiers in search_path are folded to lower case. */
const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** How many connections one node keeps; the default of `pg` (10) suits a 2-core node. */
const POOL_SIZE = 10;
/**
 * A connection attempt that takes longer than this fails (pg's default is to wait forever):
 * while PostgreSQL is unreachable a request answers 503 within 2 s instead of hanging, and a
 * live call's write queue retries. A healthy local or same-region server connects in ms.
 */
const CONNECT_TIMEOUT_MS = 2_000;
/**
 * A query with no answer for this long fails (pg's default: never). Covers a server that
 * vanished without closing the socket (a network partition, a frozen host): without it the
 * pool's connections hang and every later request queues behind them. Our slowest statements
 * (contact imports in one transaction) take well under a second.
 */
const QUERY_TIMEOUT_MS = 10_000;

export interface PgTarget {
  pool: PoolConfig;
  /** The schema tables live in, or null for the server's default search_path. */
  schema: string | null;
}

export function pgTarget(databaseUrl: string, schemaOption?: string): PgTarget {
  const url = new URL(databaseUrl);
  const fromUrl = url.searchParams.get('schema');
  const existingOptions = url.searchParams.get('options');
  url.searchParams.delete('schema');
  url.searchParams.delete('options');
  const schema = schemaOption ?? (fromUrl && fromUrl.length > 0 ? fromUrl : null);
  if (schema !== null && !SCHEMA_RE.test(schema)) {
    throw new Error(`PostgreSQL schema "${schema}" must match ${SCHEMA_RE} (lower-case letters, digits, underscores)`);
  }
  const options = [existingOptions, schema ? `-c search_path=${schema}` : null].filter(Boolean).join(' ');
  return {
    schema,
    pool: {
      connectionString: url.toString(),
      max: POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      // Dead peers are found by TCP keep-alive too, not only by the next query.
      keepAlive: true,
      ...(options ? { options } : {}),
    },
  };
}

const names = new Map<string, string>();

/** A prepared-statement config named after its SQL, so equal SQL shares one name. */
export function q(text: string, values: unknown[] = []): QueryConfig {
  let name = names.get(text);
  if (!name) {
    name = `vg_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return { name, text, values };
}

/** `$1, $2, ...` starting after `offset` placeholders. */
export function placeholders(n: number, offset = 0): string {
  return Array.from({ length: n }, (_, i) => `$${i + offset + 1}`).join(', ');
}
