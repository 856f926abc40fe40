/** The bus contract in process, plus what only the memory bus promises. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createBus } from '../../src/bus/index.js';
import { MemoryBus } from '../../src/bus/memory-bus.js';
import { busContract } from './bus-contract.js';

busContract('memory', async () => ({ open: async (options) => new MemoryBus(options) }));

describe('memory bus', () => {
  it('is what createBus returns without REDIS_URL', async () => {
    const bus = await createBus(loadConfig({}));
    expect(bus.kind).toBe('memory');
    await bus.close();
  });

  it('has delivered to every subscriber by the time publish resolves', async () => {
    const bus = new MemoryBus();
    const seen: number[] = [];
    await bus.subscribeCallEvents('call_a', (m) => seen.push(m.seq));
    await bus.publishCallEvent({ callId: 'call_a', seq: 3, type: 'call.ended', data: {} });
    expect(seen).toEqual([3]);
    await bus.close();
    await expect(bus.ping()).rejects.toThrow(/closed/);
  });
});
