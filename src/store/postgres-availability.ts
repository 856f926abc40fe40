/**
 * Makes a `pg` Pool report an unreachable server as `ServiceUnavailableError('store')`, so
 * routes answer 503 `service_unavailable` and live calls queue their writes, whatever query
 * helper ran into the outage. Pool-level only: one place instead of every store method.
 */
import type pg from 'pg';
import { asUnavailable } from '../faults/index.js';

export function guardPool(pool: pg.Pool): pg.Pool {
  // An idle connection dropped by the server emits 'error' on the pool; without a listener
  // that would crash the process. The pool discards the client and the next query opens a
  // new connection, so there is nothing else to do here.
  pool.on('error', () => undefined);
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
  const guard = (out: unknown): unknown =>
    out instanceof Promise
      ? out.catch((err: unknown) => {
          throw asUnavailable('store', err);
        })
      : out; // the callback forms return nothing; we never use them
  (pool as unknown as { query: unknown }).query = (...args: unknown[]) => guard(query(...args));
  (pool as unknown as { connect: unknown }).connect = (...args: unknown[]) => guard(connect(...args));
  return pool;
}
