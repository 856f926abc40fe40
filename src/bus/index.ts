/**
 * Picks the event bus from the configuration: Redis pub/sub when `REDIS_URL` is set (every
 * node of a cluster sees every call's events and control messages), otherwise in-process.
 */
import type { Config } from '../config.js';
import type { EventBus } from './types.js';
import { MemoryBus } from './memory-bus.js';
import type { BusOptions } from './options.js';

export type * from './types.js';
export type { BusOptions } from './options.js';

export async function createBus(config: Config, options: BusOptions = {}): Promise<EventBus> {
  if (config.redisUrl) {
    // Loaded on demand: a single-node deployment never loads ioredis.
    const { RedisBus } = await import('./redis-bus.js');
    return RedisBus.connect(config.redisUrl, options);
  }
  return new MemoryBus(options);
}
export { publishControlWithRetry, CONTROL_RETRY_DELAYS_MS, type ControlRetryDeps } from './control-retry.js';
export { reconnectDelayMs } from './options.js';
