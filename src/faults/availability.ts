/**
 * Telling "the backing service is unreachable" apart from every other failure. A request that
 * needs PostgreSQL or Redis while it is gone answers 503 `service_unavailable` (API.md,
 * Conventions: "Backing services"), a live call's writes wait in its write queue instead of
 * being lost, and loops back off instead of spinning. Any other error keeps its meaning.
 */
import { VoxgateError } from '../errors.js';

export type BackingService = 'store' | 'bus';

/** The backing service could not be reached; `cause` is the driver's error. */
export class ServiceUnavailableError extends VoxgateError {
  constructor(
    readonly service: BackingService,
    cause: unknown,
  ) {
    const what = service === 'store' ? 'the store (PostgreSQL)' : 'the event bus (Redis)';
    super('service_unavailable', `${what} is unreachable right now; retry shortly`, [{ field: 'service', message: service }], true);
    this.name = 'ServiceUnavailableError';
    this.cause = cause;
  }
}

/** Socket-level failures Node reports by code (also on an AggregateError from happy-eyeballs). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN', 'EAI_AGAIN']);

/**
 * PostgreSQL SQLSTATEs meaning "the server is not there for you right now": class 08
 * (connection exception), 57P01..57P03 (admin/crash shutdown, cannot connect now) and 53300
 * (too many connections). PostgreSQL docs, Appendix A "Error Codes".
 */
const PG_UNAVAILABLE_STATES = /^(08...|57P0[123]|53300)$/;

/**
 * Messages of `pg` (pg-pool, pg Client) and ioredis for a lost or absent connection. They carry
 * no code, so the message is all there is; each is quoted from the driver's source.
 */
const DRIVER_MESSAGES = [
  /^Connection terminated/, // pg Client: "Connection terminated unexpectedly" / "… due to connection timeout"
  /^timeout exceeded when trying to connect/, // pg-pool connectionTimeoutMillis
  /^Client has encountered a connection error and is not queryable/, // pg Client after a socket error
  /^Query read timeout/, // pg Client query_timeout
  /^Cannot use a pool after calling end on the pool/, // pg-pool while the node shuts down
  /^Connection is closed\.?$/, // ioredis: command on a closed/reconnecting connection
  /^Stream isn't writeable/, // ioredis with the offline queue disabled
  /^Reached the max retries per request limit/, // ioredis MaxRetriesPerRequestError
  /^Command timed out/, // ioredis commandTimeout
];

/** True when `err` says the service could not be reached, not that the request was wrong. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof ServiceUnavailableError) return true;
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown; errors?: unknown[] };
  if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || PG_UNAVAILABLE_STATES.test(e.code))) return true;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (DRIVER_MESSAGES.some((re) => re.test(e.message))) return true;
  if (Array.isArray(e.errors) && e.errors.some(isConnectionError)) return true;
  return false;
}

/** `err` as a ServiceUnavailableError of `service` when it is a connection failure, else itself. */
export function asUnavailable(service: BackingService, err: unknown): unknown {
  if (err instanceof ServiceUnavailableError || !isConnectionError(err)) return err;
  return new ServiceUnavailableError(service, err);
}

/** ioredis' own error messages; anything else unreachable is taken to be the store. */
const REDIS_MESSAGES = /^(Connection is closed|Stream isn't writeable|Reached the max retries per request limit|Command timed out)/;

/** The backing service a connection failure came from, for errors not already wrapped. */
export function serviceOf(err: unknown): BackingService {
  if (err instanceof ServiceUnavailableError) return err.service;
  const e = err as { name?: string; message?: string };
  return e?.name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.test(e?.message ?? '') ? 'bus' : 'store';
}
