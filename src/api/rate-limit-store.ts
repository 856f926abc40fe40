/**
 * The rate limiter's counter store: one budget per key across the cluster in Redis, and the
 * same limit counted on this node alone while Redis cannot answer (API.md, Conventions:
 * "rate limits fall back to per-node counting"). @fastify/rate-limit's own Redis store has no
 * fallback: every `/v1` request answered 500 while Redis was down (issue 15).
 *
 * The store contract is @fastify/rate-limit's (`incr`/`read` with a node-style callback,
 * `child` for per-route limits; see its store/RedisStore.js). During an outage each node allows
 * up to the full limit, so a key may get (nodes × limit) per window: the honest cost of
 * staying up without the shared counter.
 */
import type { Redis } from 'ioredis';
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';

type Result = { current: number; ttl: number };
type Callback = (err: Error | null, res: Result | null) => void;

/** The Lua script of @fastify/rate-limit's RedisStore (fixed window, INCR + PEXPIRE). */
const INCR_LUA = `
local current = redis.call('INCR', KEYS[1])
local ttl = tonumber(ARGV[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ttl) else ttl = redis.call('PTTL', KEYS[1]) end
return {current, ttl}`;
const READ_LUA = `
local current = redis.call('GET', KEYS[1])
if not current then return {0, 0} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return {tonumber(current), ttl}`;

/** Counters of this node only, fixed windows like the Redis script; bounded like an LRU. */
export class LocalCounters {
  private readonly windows = new Map<string, { count: number; startMs: number }>();
  constructor(
    private readonly maxKeys = 10_000,
    private readonly nowMs: () => number = Date.now,
  ) {}

  incr(key: string, timeWindowMs: number): Result {
    return this.at(key, timeWindowMs, 1);
  }

  read(key: string, timeWindowMs: number): Result {
    return this.at(key, timeWindowMs, 0);
  }

  private at(key: string, timeWindowMs: number, add: number): Result {
    const now = this.nowMs();
    let w = this.windows.get(key);
    if (!w || w.startMs + timeWindowMs <= now) {
      if (add === 0) return { current: 0, ttl: 0 };
      if (!w && this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
      w = { count: 0, startMs: now };
      this.windows.set(key, w);
    }
    w.count += add;
    return { current: w.count, ttl: w.startMs + timeWindowMs - now };
  }
}

export interface FallbackStoreOptions {
  redis: Redis;
  nameSpace: string;
  /** Called once per request counted locally because Redis failed (metric, throttled log). */
  onFallback: (err: Error) => void;
}

type RedisWithScripts = Redis & {
  voxgateRateLimit?: (key: string, windowMs: number) => Promise<[number, number]>;
  voxgateRateLimitRead?: (key: string) => Promise<[number, number]>;
};

/** The class @fastify/rate-limit instantiates (`store` option): Redis first, this node's counters when Redis fails. */
export function fallbackRateLimitStore(opts: FallbackStoreOptions): FastifyRateLimitStoreCtor {
  const redis = opts.redis as RedisWithScripts;
  if (!redis.voxgateRateLimit) redis.defineCommand('voxgateRateLimit', { numberOfKeys: 1, lua: INCR_LUA });
  if (!redis.voxgateRateLimitRead) redis.defineCommand('voxgateRateLimitRead', { numberOfKeys: 1, lua: READ_LUA });

  class FallbackStore {
    constructor(
      // The plugin passes its global options first (`new Store(globalParams)`); nothing we need.
      _pluginOptions?: unknown,
      private readonly prefix = opts.nameSpace,
      private readonly local = new LocalCounters(),
    ) {}

    incr(key: string, cb: Callback, timeWindow: number): void {
      this.run(key, cb, timeWindow, 'incr');
    }

    read(key: string, cb: Callback, timeWindow: number): void {
      this.run(key, cb, timeWindow, 'read');
    }

    child(routeOptions: { routeInfo: { method: string; url: string } }): FallbackStore {
      return new FallbackStore(undefined, `${this.prefix}${routeOptions.routeInfo.method}${routeOptions.routeInfo.url}-`, new LocalCounters());
    }

    private run(key: string, cb: Callback, timeWindow: number, op: 'incr' | 'read'): void {
      const local = (err: Error): void => {
        opts.onFallback(err);
        cb(null, op === 'incr' ? this.local.incr(key, timeWindow) : this.local.read(key, timeWindow));
      };
      // Not connected: do not queue behind ioredis' reconnect, count here at once.
      if (redis.status !== 'ready') return local(new Error(`redis connection is ${redis.status}`));
      const call = op === 'incr' ? redis.voxgateRateLimit!(this.prefix + key, timeWindow) : redis.voxgateRateLimitRead!(this.prefix + key);
      call.then(
        ([current, ttl]) => cb(null, { current, ttl }),
        (err: Error) => local(err),
      );
    }
  }
  return FallbackStore as unknown as FastifyRateLimitStoreCtor;
}
