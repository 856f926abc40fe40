/**
 * The bus contract on Redis (127.0.0.1:6379), each test under its own channel prefix, plus
 * what only a cluster bus promises: two nodes (two RedisBus instances) see each other.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createBus } from '../../src/bus/index.js';
import { RedisBus } from '../../src/bus/redis-bus.js';
import type { CallControlMessage, CallEventMessage } from '../../src/bus/types.js';
import { busContract, waitFor } from './bus-contract.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = (): string => `vgtest-${randomBytes(6).toString('hex')}`;

busContract('redis', async () => {
  const p = prefix();
  return { open: (options) => RedisBus.connect(REDIS_URL, { ...options, prefix: p }) };
});

describe('redis bus', () => {
  it('carries events and control messages between two nodes', async () => {
    const p = prefix();
    const nodeA = await RedisBus.connect(REDIS_URL, { prefix: p });
    const nodeB = await RedisBus.connect(REDIS_URL, { prefix: p });
    try {
      const onA: CallEventMessage[] = [];
      const controlOnA: CallControlMessage[] = [];
      const controlOnB: CallControlMessage[] = [];
      await nodeA.subscribeCallEvents('call_x', (m) => onA.push(m));
      await nodeA.subscribeControl((m) => controlOnA.push(m));
      await nodeB.subscribeControl((m) => controlOnB.push(m));
      const ev: CallEventMessage = { callId: 'call_x', seq: 4, type: 'call.status', data: { status: 'in-progress' } };
      const end: CallControlMessage = { callId: 'call_x', control: { command: 'end', reason: 'from B' } };
      await nodeB.publishCallEvent(ev);
      await nodeB.publishControl(end);
      await waitFor(() => onA.length === 1 && controlOnA.length === 1 && controlOnB.length === 1, 'cross-node delivery');
      expect(onA).toEqual([ev]);
      expect(controlOnA).toEqual([end]);
      expect(controlOnB).toEqual([end]);
    } finally {
      await nodeA.close();
      await nodeB.close();
    }
  });

  it('keeps deployments with different prefixes apart', async () => {
    const a = await RedisBus.connect(REDIS_URL, { prefix: prefix() });
    const b = await RedisBus.connect(REDIS_URL, { prefix: prefix() });
    try {
      const onA: number[] = [];
      await a.subscribeCallEvents('call_x', (m) => onA.push(m.seq));
      await b.publishCallEvent({ callId: 'call_x', seq: 1, type: 'call.ended', data: {} });
      await a.publishCallEvent({ callId: 'call_x', seq: 2, type: 'call.ended', data: {} });
      await waitFor(() => onA.length > 0, 'own message');
      expect(onA).toEqual([2]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('reports undecodable payloads without breaking delivery', async () => {
    const p = prefix();
    const errors: unknown[] = [];
    const bus = await RedisBus.connect(REDIS_URL, { prefix: p, onError: (e) => errors.push(e) });
    const raw = await RedisBus.connect(REDIS_URL, { prefix: p });
    try {
      const seen: number[] = [];
      await bus.subscribeCallEvents('call_x', (m) => seen.push(m.seq));
      // Publish a non-JSON payload on the call's channel through a plain connection.
      const { Redis } = await import('ioredis');
      const plain = new Redis(REDIS_URL);
      await plain.publish(`${p}:call:call_x`, '{not json');
      await plain.quit();
      await raw.publishCallEvent({ callId: 'call_x', seq: 1, type: 'call.ended', data: {} });
      await waitFor(() => seen.length === 1, 'valid message after a bad one');
      expect(errors).toHaveLength(1);
      expect(String(errors[0])).toMatch(/undecodable/);
    } finally {
      await bus.close();
      await raw.close();
    }
  });

  it('is what createBus returns with REDIS_URL, and fails fast when Redis is unreachable', async () => {
    const bus = await createBus(loadConfig({ REDIS_URL }), { prefix: prefix() });
    expect(bus.kind).toBe('redis');
    await bus.ping();
    await bus.close();
    await expect(RedisBus.connect('redis://127.0.0.1:1', { onError: () => undefined })).rejects.toThrow();
  });
});
