/**
 * Background loops and the process-level net: a failing pass is counted, logged as a
 * warning and retried later and later (capped back-off) until one succeeds; an unhandled
 * rejection or exception is counted and logged instead of ending the process; connection
 * failures of either driver are told apart from other errors.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SupervisedLoop, installProcessGuard, isConnectionError, ServiceUnavailableError, serviceOf } from '../../src/faults/index.js';
import { toVoxgateError } from '../../src/api/index.js';
import { createMetrics } from '../../src/metrics/index.js';

function manualTimers() {
  const pending: Array<{ fn: () => void; ms: number; unref: () => void }> = [];
  return {
    pending,
    setTimer: (fn: () => void, ms: number) => {
      const t = { fn, ms, unref: () => undefined };
      pending.push(t);
      return t;
    },
    clearTimer: (t: unknown) => {
      const i = pending.indexOf(t as (typeof pending)[number]);
      if (i >= 0) pending.splice(i, 1);
    },
    async fire() {
      const t = pending.shift()!;
      t.fn();
      await new Promise((r) => setImmediate(r));
      return t.ms;
    },
  };
}

const quietLog = () => {
  const warnings: string[] = [];
  return { warnings, log: { warn: (_o: unknown, m: string) => void warnings.push(m), info: () => undefined, error: () => undefined } as never };
};

describe('SupervisedLoop', () => {
  it('backs off while passes fail, counts each failure, and returns to its interval after a success', async () => {
    const timers = manualTimers();
    const metrics = createMetrics();
    const { warnings, log } = quietLog();
    let failing = true;
    let passes = 0;
    const loop = new SupervisedLoop({
      name: 'test',
      intervalMs: 1000,
      maxBackoffMs: 8000,
      log,
      errors: metrics.faults.loopErrors,
      setTimer: timers.setTimer,
      clearTimer: timers.clearTimer,
      run: async () => {
        passes++;
        if (failing) throw new ServiceUnavailableError('store', new Error('Connection terminated unexpectedly'));
      },
    });
    loop.start();
    const delays: number[] = [await timers.fire()];
    for (let i = 0; i < 4; i++) delays.push(await timers.fire());
    failing = false;
    delays.push(await timers.fire());
    delays.push(await timers.fire());
    expect(passes).toBe(7);
    expect(delays[0]).toBe(1000);
    // 2 s, 4 s, 8 s, 8 s (capped), each ±20 % jitter; then back to 1 s after the success.
    const expected = [2000, 4000, 8000, 8000];
    delays.slice(1, 5).forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(expected[i]! * 0.8);
      expect(d).toBeLessThanOrEqual(expected[i]! * 1.2);
    });
    expect(delays[6]).toBe(1000);
    expect((await metrics.faults.loopErrors.get()).values).toEqual([expect.objectContaining({ labels: { loop: 'test' }, value: 5 })]);
    expect(warnings.filter((w) => /backing off/.test(w))).toHaveLength(5);
    await loop.stop();
    expect(timers.pending).toHaveLength(0);
  });
});

describe('process guard', () => {
  it('counts and logs unhandled rejections and uncaught exceptions instead of exiting', () => {
    const target = new EventEmitter();
    const metrics = createMetrics();
    const logged: Array<[string, string]> = [];
    const off = installProcessGuard({
      target: target as never,
      errors: metrics.faults.processErrors,
      log: { warn: (_o: unknown, m: string) => void logged.push(['warn', m]), error: (_o: unknown, m: string) => void logged.push(['error', m]) } as never,
    });
    target.emit('unhandledRejection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    target.emit('uncaughtException', new TypeError('x is not a function'));
    expect(logged.map((l) => l[0])).toEqual(['warn', 'error']);
    off();
    expect(target.listenerCount('unhandledRejection')).toBe(0);
    expect(target.listenerCount('uncaughtException')).toBe(0);
  });
});

describe('connection failures', () => {
  it.each([
    ['pg refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'store'],
    ['pg terminated', new Error('Connection terminated unexpectedly'), 'store'],
    ['pg pool timeout', new Error('timeout exceeded when trying to connect'), 'store'],
    ['pg admin shutdown', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), 'store'],
    ['happy eyeballs', Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], ''), {}), 'store'],
    ['ioredis closed', new Error('Connection is closed.'), 'bus'],
    ['ioredis retries', Object.assign(new Error('Reached the max retries per request limit (which is 3). Refer to "maxRetriesPerRequest" option for details.'), { name: 'MaxRetriesPerRequestError' }), 'bus'],
  ])('%s → 503 service_unavailable (%s)', (_name, err, service) => {
    expect(isConnectionError(err)).toBe(true);
    expect(serviceOf(err)).toBe(service);
    const ve = toVoxgateError(err);
    expect(ve.status).toBe(503);
    expect(ve.toBody().error).toMatchObject({ code: 'service_unavailable', details: [{ field: 'service', message: service }] });
  });

  it.each([new Error('duplicate key'), Object.assign(new Error('syntax error'), { code: '42601' }), new TypeError('boom')])('leaves other errors alone: %s', (err) => {
    expect(isConnectionError(err)).toBe(false);
    expect(toVoxgateError(err).code).toBe('internal_error');
  });
});
