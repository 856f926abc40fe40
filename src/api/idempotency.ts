/**
 * `Idempotency-Key` on every POST under `/v1` (API.md, Conventions). Per API key: the same
 * key with the same request within 24 h replays the first response (status and body) with
 * `Idempotent-Replayed: true`; the same key with a different request → 422
 * `idempotency_key_reused`. A duplicate that arrives while the first is still running waits
 * for it on this node and then replays it, so the two never both execute.
 *
 * Hooks: `preValidation` hashes the body as the client sent it (before defaults and coercion),
 * `preHandler` replays or claims, `onSend` records the response, `onResponse` releases the claim.
 * Only responses below 500 are recorded: a server failure may be retried for real.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app.js';
import type { IdempotencyRecord } from '../store/types.js';
import { VoxgateError } from '../errors.js';
import { isV1 } from './auth.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Longest a duplicate waits for the first request before giving up with 409. */
const WAIT_FOR_FIRST_MS = 30_000;
const HEADER = 'idempotency-key';
const MAX_KEY_LENGTH = 255;

interface IdemState {
  /** `${keyId}\n${idempotencyKey}` */
  slot: string;
  idempotencyKey: string;
  requestHash: string;
  /** Set when this request claimed the slot and must record/release it. */
  owner: boolean;
  replayed: boolean;
  recorded: boolean;
}

const STATE = Symbol('voxgate.idempotency');
type WithState = FastifyRequest & { [STATE]?: IdemState };

/** Canonical JSON: object keys sorted, so `{a,b}` and `{b,a}` hash alike. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as Record<string, unknown>).sort();
  return `{${keys
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${canonicalJson(body ?? null)}`).digest('hex');
}

export function registerIdempotency(app: FastifyInstance, ctx: AppContext): void {
  /** Requests in flight on this node, by slot; duplicates wait on the promise. */
  const inFlight = new Map<string, { hash: string; done: Promise<void>; resolve: () => void }>();

  const expired = (rec: IdempotencyRecord): boolean => ctx.now().getTime() - Date.parse(rec.createdAt) > IDEMPOTENCY_TTL_MS;

  const replay = (reply: FastifyReply, rec: IdempotencyRecord): FastifyReply =>
    reply.code(rec.status).header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(rec.body);

  app.addHook('preValidation', async (req: WithState) => {
    if (req.method !== 'POST' || !isV1(req.routeOptions.url) || !req.auth) return;
    const raw = req.headers[HEADER];
    if (raw === undefined) return;
    const idempotencyKey = Array.isArray(raw) ? raw[0]! : raw;
    if (idempotencyKey.length === 0 || idempotencyKey.length > MAX_KEY_LENGTH) {
      throw new VoxgateError('validation_failed', `Idempotency-Key must be 1..${MAX_KEY_LENGTH} characters`, [
        { field: 'Idempotency-Key', path: 'headers/idempotency-key', message: 'invalid length' },
      ]);
    }
    const path = req.url.split('?')[0]!;
    req[STATE] = {
      slot: `${req.auth.keyId}\n${idempotencyKey}`,
      idempotencyKey,
      requestHash: requestHash(req.method, path, req.body),
      owner: false,
      replayed: false,
      recorded: false,
    };
  });

  app.addHook('preHandler', async (req: WithState, reply) => {
    const st = req[STATE];
    if (!st) return;
    for (;;) {
      const rec = await ctx.store.getIdempotency(req.auth.keyId, st.idempotencyKey);
      if (rec && !expired(rec)) {
        if (rec.requestHash !== st.requestHash) throw reused();
        st.replayed = true;
        return replay(reply, rec);
      }
      const running = inFlight.get(st.slot);
      if (!running) break;
      if (running.hash !== st.requestHash) throw reused();
      // Same request still running here: wait for it, then look again (it may have failed
      // with a 5xx and left nothing behind, in which case this one runs).
      const waited = await Promise.race([
        running.done.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), WAIT_FOR_FIRST_MS).unref()),
      ]);
      if (!waited) throw new VoxgateError('conflict', 'a request with this Idempotency-Key is still in progress', [], true);
    }
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    inFlight.set(st.slot, { hash: st.requestHash, done, resolve });
    st.owner = true;
  });

  app.addHook('onSend', async (req: WithState, reply, payload) => {
    const st = req[STATE];
    if (!st || !st.owner || st.recorded) return payload;
    st.recorded = true;
    // Streams (SSE chat) and 5xx are not replayable; leave nothing behind.
    if (reply.statusCode < 500 && typeof payload === 'string') {
      try {
        await ctx.store.putIdempotency({
          keyId: req.auth.keyId,
          idempotencyKey: st.idempotencyKey,
          requestHash: st.requestHash,
          status: reply.statusCode,
          body: payload,
          createdAt: ctx.now().toISOString(),
        });
      } catch (err) {
        req.log.warn({ err }, 'could not record idempotent response');
      }
    }
    return payload;
  });

  const release = async (req: WithState): Promise<void> => {
    const st = req[STATE];
    if (!st || !st.owner) return;
    st.owner = false;
    const running = inFlight.get(st.slot);
    if (running && running.hash === st.requestHash) {
      inFlight.delete(st.slot);
      running.resolve();
    }
  };
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);

  // Expired records are ignored on read; this only keeps the table small.
  const purge = setInterval(() => {
    const cutoff = new Date(ctx.now().getTime() - IDEMPOTENCY_TTL_MS).toISOString();
    ctx.store.purgeIdempotency(cutoff).catch((err) => ctx.log.warn({ err }, 'idempotency purge failed'));
  }, 60 * 60 * 1000);
  purge.unref();
  app.addHook('onClose', async () => clearInterval(purge));
}

function reused(): VoxgateError {
  return new VoxgateError('idempotency_key_reused', 'this Idempotency-Key was used with a different request', [
    { field: 'Idempotency-Key', message: 'reuse it only to retry the identical request' },
  ]);
}
