/**
 * The one contract both event buses pass. Each test gets a fresh harness (for Redis: a unique
 * channel prefix). "Nothing arrived" is checked with a sentinel: messages from one publisher
 * arrive in publish order, so once a later sentinel has arrived, an earlier message that was
 * going to arrive would have.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallControlMessage, CallEventMessage, EventBus } from '../../src/bus/types.js';
import type { BusOptions } from '../../src/bus/options.js';

export interface BusHarness {
  /** A bus of this harness's cluster (for Redis: same prefix, a new pair of connections). */
  open(options?: Pick<BusOptions, 'onError'>): Promise<EventBus>;
}

export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function event(callId: string, seq: number, text = `t${seq}`): CallEventMessage {
  return { callId, seq, type: 'transcript.final', data: { role: 'user', text, startMs: seq * 10, endMs: seq * 10 + 5 } };
}

export function busContract(label: string, fresh: () => Promise<BusHarness>): void {
  describe(`${label} bus contract`, () => {
    let harness: BusHarness;
    const opened: EventBus[] = [];
    const open = async (options?: Pick<BusOptions, 'onError'>) => {
      const bus = await harness.open(options);
      opened.push(bus);
      return bus;
    };

    beforeEach(async () => {
      harness = await fresh();
    });

    afterEach(async () => {
      for (const b of opened.splice(0)) await b.close();
    });

    it('delivers a call’s events, in order, only to that call’s subscribers', async () => {
      const bus = await open();
      const a: CallEventMessage[] = [];
      const b: CallEventMessage[] = [];
      await bus.subscribeCallEvents('call_a', (m) => a.push(m));
      await bus.subscribeCallEvents('call_b', (m) => b.push(m));
      for (let i = 1; i <= 5; i++) await bus.publishCallEvent(event('call_a', i));
      await bus.publishCallEvent({ callId: 'call_c', seq: 1, type: 'call.ended', data: {} });
      await bus.publishCallEvent(event('call_b', 1, 'sentinel'));
      await waitFor(() => b.length === 1 && a.length === 5, 'both calls');
      expect(a).toEqual([1, 2, 3, 4, 5].map((i) => event('call_a', i)));
      expect(b).toEqual([event('call_b', 1, 'sentinel')]);
    });

    it('stops delivering after unsubscribe and keeps the call’s other subscribers', async () => {
      const bus = await open();
      const first: number[] = [];
      const second: number[] = [];
      const unsubscribe = await bus.subscribeCallEvents('call_a', (m) => first.push(m.seq));
      await bus.subscribeCallEvents('call_a', (m) => second.push(m.seq));
      await bus.publishCallEvent(event('call_a', 1));
      await waitFor(() => first.length === 1 && second.length === 1, 'first event');
      await unsubscribe();
      await unsubscribe();
      await bus.publishCallEvent(event('call_a', 2));
      await waitFor(() => second.length === 2, 'second event');
      expect(first).toEqual([1]);
      expect(second).toEqual([1, 2]);
    });

    it('resubscribes cleanly after the last subscriber left', async () => {
      const bus = await open();
      const seen: number[] = [];
      const off = await bus.subscribeCallEvents('call_a', () => undefined);
      await off();
      await bus.subscribeCallEvents('call_a', (m) => seen.push(m.seq));
      await bus.publishCallEvent(event('call_a', 7));
      await waitFor(() => seen.length === 1, 'event after resubscribe');
      expect(seen).toEqual([7]);
    });

    it('delivers control messages to every control subscriber and not to call subscribers', async () => {
      const bus = await open();
      const c1: CallControlMessage[] = [];
      const c2: CallControlMessage[] = [];
      const calls: CallEventMessage[] = [];
      await bus.subscribeControl((m) => c1.push(m));
      const off2 = await bus.subscribeControl((m) => c2.push(m));
      await bus.subscribeCallEvents('call_a', (m) => calls.push(m));
      const end: CallControlMessage = { callId: 'call_a', control: { command: 'end', reason: 'api' } };
      const transfer: CallControlMessage = { callId: 'call_b', control: { command: 'transfer', toNumber: '+15551234567' } };
      await bus.publishControl(end);
      await bus.publishControl(transfer);
      await waitFor(() => c1.length === 2 && c2.length === 2, 'control messages');
      expect(c1).toEqual([end, transfer]);
      expect(c2).toEqual([end, transfer]);
      await off2();
      await bus.publishControl(end);
      await bus.publishCallEvent(event('call_a', 1));
      await waitFor(() => calls.length === 1 && c1.length === 3, 'sentinel');
      expect(c2).toHaveLength(2);
      expect(calls).toEqual([event('call_a', 1)]);
    });

    it('isolates a throwing handler from the others and reports the error', async () => {
      const errors: unknown[] = [];
      const bus = await open({ onError: (e) => errors.push(e) });
      const seen: number[] = [];
      const control: string[] = [];
      await bus.subscribeCallEvents('call_a', () => {
        throw new Error('boom');
      });
      await bus.subscribeCallEvents('call_a', (m) => seen.push(m.seq));
      await bus.subscribeControl(() => {
        throw new Error('control boom');
      });
      await bus.subscribeControl((m) => control.push(m.callId));
      await bus.publishCallEvent(event('call_a', 1));
      await bus.publishCallEvent(event('call_a', 2));
      await bus.publishControl({ callId: 'call_a', control: { command: 'end', reason: 'x' } });
      await waitFor(() => seen.length === 2 && control.length === 1, 'deliveries past the throwing handlers');
      expect(seen).toEqual([1, 2]);
      expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'boom', 'control boom']);
    });

    it('answers ping while open', async () => {
      const bus = await open();
      await expect(bus.ping()).resolves.toBeUndefined();
    });
  });
}
