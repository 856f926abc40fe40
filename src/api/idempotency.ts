/**
 * `Idempotency-Key` on every POST under `/v1` (API.md, Conventions). Per API key: the same
 * key with the same request within 24 h replays the first response (status and body) with
 * `Idempotent-Replayed: true`; the same key with a different request → 422
 * `idempotency_key_reused`. The first request claims the key in the store (a pending record),
 * so a duplicate that arrives while it runs — on this node or on another one sharing the
 * store — waits for it and then replays it: the two never both execute.
 *
 * Hooks: `preValidation` hashes the body as the client sent it (before defaults and coercion),
 * `preHandler` replays or claims, `onSend` records the response, `onResponse` releases the claim.
 * Only responses below 500 are recorded: a server failure may be retried for real.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { IDEMPOTENCY_PENDING, type IdempotencyRecord } from '../store/types.js';
import { VoxgateError } from '../errors.js';
import { isV1 } from './auth.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Longest a duplicate waits for the first request before giving up with 409. */
const WAIT_FOR_FIRST_MS = 30_000;
/** A claim this old belongs to a request whose node died: the next retry takes it over. */
const STALE_CLAIM_MS = 5 * 60_000;
/** How often a duplicate looks at the store while the first request runs on another node. */
const CLAIM_POLL_MS = 50;
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
  /** The response is in the store (the claim became a replayable record). */
  stored: boolean;
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

  const age = (rec: IdempotencyRecord): number => ctx.now().getTime() - Date.parse(rec.createdAt);
  const live = (rec: IdempotencyRecord): boolean => age(rec) <= (rec.status === IDEMPOTENCY_PENDING ? STALE_CLAIM_MS : IDEMPOTENCY_TTL_MS);
  const iso = (msAgo: number): string => new Date(ctx.now().getTime() - msAgo).toISOString();

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
      stored: false,
    };
  });

  app.addHook('preHandler', async (req: WithState, reply) => {
    const st = req[STATE];
    if (!st) return;
    const keyId = req.auth.keyId;
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      const rec = await ctx.store.getIdempotency(keyId, st.idempotencyKey);
      if (rec && live(rec)) {
        if (rec.requestHash !== st.requestHash) throw reused();
        if (rec.status !== IDEMPOTENCY_PENDING) {
          st.replayed = true;
          return replay(reply, rec);
        }
        // The same request is running, here or on another node: wait for it, then look again
        // (it may have failed with a 5xx and left nothing behind, in which case this one runs).
        const left = deadline - Date.now();
        if (left <= 0) throw new VoxgateError('conflict', 'a request with this Idempotency-Key is still in progress', [], true);
        // On this node its end wakes us; on another node we look again shortly.
        const here = inFlight.get(st.slot);
        await (here ? Promise.race([here.done, sleep(left)]) : sleep(Math.min(CLAIM_POLL_MS, left)));
        continue;
      }
      const claim = { keyId, idempotencyKey: st.idempotencyKey, requestHash: st.requestHash, createdAt: ctx.now().toISOString() };
      if (await ctx.store.claimIdempotency(claim, { done: iso(IDEMPOTENCY_TTL_MS), pending: iso(STALE_CLAIM_MS) })) break;
      // Another request claimed it between our read and our claim: look again.
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
        st.stored = true;
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
    // Nothing replayable came of it (5xx, a stream, an aborted request): free the key for a retry.
    if (!st.stored) {
      await ctx.store.releaseIdempotency(req.auth.keyId, st.idempotencyKey).catch((err: unknown) => req.log.warn({ err }, 'could not release an idempotency claim'));
    }
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

function reused(): VoxgateError {
  return new VoxgateError('idempotency_key_reused', 'this Idempotency-Key was used with a different request', [
    { field: 'Idempotency-Key', message: 'reuse it only to retry the identical request' },
  ]);
}
