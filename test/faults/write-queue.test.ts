/**
 * The live-call write queue on its own, against a store stand-in whose "connection" the test
 * switches off and on (the real-server cases are in live-call-store-outage.test.ts): writes
 * wait in order while the store is unreachable, other errors go straight back, and what cannot
 * be kept (queue full, waited too long) is counted and logged with its content.
 */
import { describe, expect, it } from 'vitest';
import { WriteQueue } from '../../src/session/write-queue.js';
import { createMetrics } from '../../src/metrics/index.js';
import { ServiceUnavailableError } from '../../src/faults/index.js';
import { sleep, until } from './fault-fixtures.js';

function fakeStore() {
  const s = {
    up: true,
    written: [] as string[],
    async ping() {
      if (!s.up) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    },
    async write(item: string) {
      if (!s.up) throw new ServiceUnavailableError('store', new Error('Connection terminated unexpectedly'));
      s.written.push(item);
      return item;
    },
  };
  return s;
}

function recordingLog() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push({ level, obj, msg });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } as never };
}

const lost = async (m: ReturnType<typeof createMetrics>, reason: string) =>
  (await m.faults.writesLost.get()).values.find((v) => v.labels['reason'] === reason)?.value ?? 0;

describe('write queue', () => {
  it('holds writes in order while the store is unreachable and writes them when it returns', async () => {
    const store = fakeStore();
    const metrics = createMetrics();
    const { log } = recordingLog();
    const q = new WriteQueue({ store, log, metrics: metrics.faults });
    const lane = q.lane();
    await lane.run('a', () => store.write('a'));
    store.up = false;
    const pending = ['b', 'c', 'd'].map((x) => lane.run(x, () => store.write(x)));
    await sleep(150);
    expect(store.written).toEqual(['a']);
    expect(q.pending).toBe(3);
    expect((await metrics.faults.writeQueueDepth.get()).values[0]!.value).toBe(3);
    store.up = true;
    expect(await Promise.all(pending)).toEqual(['b', 'c', 'd']);
    expect(store.written).toEqual(['a', 'b', 'c', 'd']);
    expect(q.pending).toBe(0);
    expect((await metrics.faults.writesDeferred.get()).values[0]!.value).toBeGreaterThan(0);
  });

  it('returns a write its own error at once (not a connection failure: nothing to wait for)', async () => {
    const store = fakeStore();
    const q = new WriteQueue({ store, log: recordingLog().log });
    const lane = q.lane();
    await expect(lane.run('bad', async () => Promise.reject(new Error('violates check constraint')))).rejects.toThrow(/check constraint/);
    expect(await lane.run('next', () => store.write('next'))).toBe('next');
  });

  it('refuses writes beyond its bound, counted and logged with their content', async () => {
    const store = fakeStore();
    const metrics = createMetrics();
    const { lines, log } = recordingLog();
    const q = new WriteQueue({ store, log, metrics: metrics.faults, maxPending: 2 });
    const lane = q.lane();
    store.up = false;
    const kept = [lane.run('x', () => store.write('x')), lane.run('y', () => store.write('y'))];
    expect(await lane.run('z', () => store.write('z'), { text: 'the third line' })).toBeUndefined();
    expect(await lost(metrics, 'overflow')).toBe(1);
    expect(lines.find((l) => l.level === 'error')).toMatchObject({ obj: { what: 'z', content: { text: 'the third line' } }, msg: expect.stringMatching(/queue full/) });
    store.up = true;
    expect(await Promise.all(kept)).toEqual(['x', 'y']);
  });

  it('gives up a write that waited longer than maxWaitMs, counted and logged', async () => {
    const store = fakeStore();
    const metrics = createMetrics();
    const { lines, log } = recordingLog();
    const q = new WriteQueue({ store, log, metrics: metrics.faults, maxWaitMs: 100 });
    store.up = false;
    expect(await q.lane().run('old', () => store.write('old'), { text: 'never written' })).toBeUndefined();
    expect(await lost(metrics, 'timeout')).toBe(1);
    expect(lines.some((l) => l.level === 'error' && (l.obj['content'] as { text: string }).text === 'never written')).toBe(true);
    await until(() => q.pending === 0, 'the slot to be released');
  });

  it('lanes are independent: one call waiting does not hold another that writes fine', async () => {
    const store = fakeStore();
    const q = new WriteQueue({ store, log: recordingLog().log });
    let stuck = true;
    const blocked = q.lane().run('stuck', async () => {
      if (stuck) throw new ServiceUnavailableError('store', new Error('Connection terminated'));
      return 'late';
    });
    expect(await q.lane().run('other', () => store.write('other'))).toBe('other');
    stuck = false;
    expect(await blocked).toBe('late');
  });
});
