/**
 * Transcripts: `GET /v1/calls/:id/transcript` (final items only) and the SSE stream over a real
 * socket — stored events replayed first, `Last-Event-ID` resume, live events from the bus
 * without duplicates or gaps, partials without ids, pings, and the close after `call.ended`.
 */
import { request, type IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/store/types.js';
import { recordCallEvent } from '../../src/calls/lifecycle.js';
import { transcriptStreamSettings } from '../../src/api/calls-transcript.js';
import { makeCall } from '../store/fixtures.js';
import { seedAgent, seedKey, startCallsGateway, waitFor, type CallsGateway } from './calls-fixtures.js';

let g: CallsGateway;
let subscriptions = 0;

beforeAll(async () => {
  g = await startCallsGateway();
  // Count live bus subscriptions, to see the stream let go of its own.
  const bus = g.t.ctx.bus;
  const subscribe = bus.subscribeCallEvents.bind(bus);
  bus.subscribeCallEvents = async (callId, handler) => {
    const unsub = await subscribe(callId, handler);
    subscriptions++;
    return async () => {
      subscriptions--;
      await unsub();
    };
  };
});
afterAll(async () => g.close());
afterEach(() => {
  transcriptStreamSettings.pingIntervalMs = 15_000;
});

interface SseEvent {
  id?: string;
  event?: string;
  data?: unknown;
  comment?: string;
}

interface SseClient {
  res: IncomingMessage;
  events: SseEvent[];
  ended: Promise<void>;
  isEnded(): boolean;
  close(): void;
}

/** A minimal EventSource over node:http that keeps comments too. */
function openSse(path: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = request(`${g.t.baseUrl}${path}`, { headers: { authorization: `Bearer ${g.t.adminKey}`, accept: 'text/event-stream', ...headers } }, (res) => {
      const events: SseEvent[] = [];
      let buffer = '';
      let done = false;
      const ended = new Promise<void>((r) => res.on('close', () => ((done = true), r())));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const ev: SseEvent = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) ev.comment = line.slice(1).trim();
            else if (line.startsWith('id: ')) ev.id = line.slice(4);
            else if (line.startsWith('event: ')) ev.event = line.slice(7);
            else if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6));
          }
          events.push(ev);
        }
      });
      resolve({ res, events, ended, isEnded: () => done, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

async function liveCall(over: Partial<Call> = {}): Promise<Call> {
  const agent = await seedAgent(g.t);
  return g.t.ctx.store.createCall(makeCall('admin', agent.id, { status: 'in-progress', ...over }));
}

const say = (text: string, role = 'user') => ({ role, text, startMs: 0, endMs: 500 });
const stored = (c: SseClient) => c.events.filter((e) => e.id !== undefined);

describe('GET /v1/calls/:id/transcript', () => {
  it('returns the final items only, in order', async () => {
    const call = await liveCall();
    const s = g.t.ctx.store;
    await s.appendCallEvent(call.id, 'call.status', { status: 'in-progress' });
    await s.appendCallEvent(call.id, 'transcript.final', say('Hello?'));
    await s.appendCallEvent(call.id, 'transcript.final', { ...say('Hi, this is Acme', 'agent'), interrupted: true });
    const res = await g.t.api('GET', `/v1/calls/${call.id}/transcript`);
    expect(res.status).toBe(200);
    expect(res.body.callId).toBe(call.id);
    expect(res.body.items).toEqual([
      { seq: 2, role: 'user', text: 'Hello?', startMs: 0, endMs: 500, final: true },
      { seq: 3, role: 'agent', text: 'Hi, this is Acme', startMs: 0, endMs: 500, interrupted: true, final: true },
    ]);
  });

  it("is 404 for another owner's call", async () => {
    const call = await liveCall();
    const bob = await seedKey(g.t, 'bob', ['calls:read']);
    expect((await g.t.api('GET', `/v1/calls/${call.id}/transcript`, undefined, bob)).status).toBe(404);
    expect((await g.t.api('GET', `/v1/calls/${call.id}/transcript/stream`, undefined, bob)).status).toBe(404);
  });
});

describe('GET /v1/calls/:id/transcript/stream', () => {
  it('replays stored events, then streams live ones, and closes after call.ended', async () => {
    const call = await liveCall();
    await recordCallEvent(g.t.ctx, call.id, 'call.status', { status: 'in-progress' });
    await recordCallEvent(g.t.ctx, call.id, 'transcript.final', say('Hello?'));

    const c = await openSse(`/v1/calls/${call.id}/transcript/stream`);
    expect(c.res.statusCode).toBe(200);
    expect(c.res.headers['content-type']).toContain('text/event-stream');
    await waitFor(() => c.events.length >= 2, 'replay');
    expect(c.events).toEqual([
      { id: '1', event: 'call.status', data: { status: 'in-progress' } },
      { id: '2', event: 'transcript.final', data: say('Hello?') },
    ]);

    // A partial carries the last stored seq: sent without an id so resume stays on stored events.
    await g.t.ctx.bus.publishCallEvent({ callId: call.id, seq: 2, type: 'transcript.partial', data: { role: 'agent', text: 'Hi th' } });
    await recordCallEvent(g.t.ctx, call.id, 'transcript.final', say('Hi there', 'agent'));
    await waitFor(() => c.events.length >= 4, 'live events');
    expect(c.events.slice(2)).toEqual([
      { event: 'transcript.partial', data: { role: 'agent', text: 'Hi th' } },
      { id: '3', event: 'transcript.final', data: say('Hi there', 'agent') },
    ]);

    await recordCallEvent(g.t.ctx, call.id, 'call.ended', { status: 'completed', reason: 'caller_hangup' });
    await c.ended;
    expect(c.events.at(-1)).toEqual({ id: '4', event: 'call.ended', data: { status: 'completed', reason: 'caller_hangup' } });
    await waitFor(() => subscriptions === 0, 'unsubscribe after close');
  });

  it('resumes after Last-Event-ID', async () => {
    const call = await liveCall();
    for (const text of ['one', 'two', 'three']) await g.t.ctx.store.appendCallEvent(call.id, 'transcript.final', say(text));
    const c = await openSse(`/v1/calls/${call.id}/transcript/stream`, { 'last-event-id': '2' });
    await waitFor(() => c.events.length >= 1, 'resume');
    await recordCallEvent(g.t.ctx, call.id, 'transcript.final', say('four'));
    await waitFor(() => c.events.length >= 2, 'live after resume');
    expect(stored(c).map((e) => [e.id, (e.data as { text: string }).text])).toEqual([
      ['3', 'three'],
      ['4', 'four'],
    ]);
    c.close();
    await waitFor(() => subscriptions === 0, 'unsubscribe on client disconnect');
  });

  it('sends each stored event once, filling gaps the bus dropped from the store', async () => {
    const call = await liveCall();
    const c = await openSse(`/v1/calls/${call.id}/transcript/stream`);
    await waitFor(() => subscriptions === 1, 'subscribed');
    const first = await recordCallEvent(g.t.ctx, call.id, 'transcript.final', say('a'));
    // Published twice (a redelivery) and an event stored but never published (a lost message).
    await g.t.ctx.bus.publishCallEvent({ callId: call.id, seq: first.seq, type: first.type, data: first.data });
    await g.t.ctx.store.appendCallEvent(call.id, 'transcript.final', say('b'));
    await recordCallEvent(g.t.ctx, call.id, 'transcript.final', say('c'));
    await waitFor(() => c.events.length >= 3, 'three events');
    await recordCallEvent(g.t.ctx, call.id, 'call.ended', { status: 'completed' });
    await c.ended;
    expect(stored(c).map((e) => e.id)).toEqual(['1', '2', '3', '4']);
    expect(stored(c).slice(0, 3).map((e) => (e.data as { text: string }).text)).toEqual(['a', 'b', 'c']);
  });

  it('sends a ping comment on the interval while idle', async () => {
    transcriptStreamSettings.pingIntervalMs = 20;
    const call = await liveCall();
    const c = await openSse(`/v1/calls/${call.id}/transcript/stream`);
    await waitFor(() => c.events.some((e) => e.comment === 'ping'), 'ping');
    expect(c.events.every((e) => e.comment === 'ping')).toBe(true);
    c.close();
  });

  it('replays and closes at once for a call that has already ended', async () => {
    const call = await liveCall({ status: 'completed', endReason: 'caller_hangup' });
    await g.t.ctx.store.appendCallEvent(call.id, 'transcript.final', say('bye'));
    await g.t.ctx.store.appendCallEvent(call.id, 'call.ended', { status: 'completed' });
    const c = await openSse(`/v1/calls/${call.id}/transcript/stream`);
    await c.ended;
    expect(c.events.map((e) => e.event)).toEqual(['transcript.final', 'call.ended']);

    // Over, but its call.ended was never stored: still replays and closes.
    const quiet = await liveCall({ status: 'failed', endReason: 'error:twilio:21211' });
    await g.t.ctx.store.appendCallEvent(quiet.id, 'call.status', { status: 'failed' });
    const q = await openSse(`/v1/calls/${quiet.id}/transcript/stream`);
    await q.ended;
    expect(q.events.map((e) => e.event)).toEqual(['call.status']);
    await waitFor(() => subscriptions === 0, 'no subscriptions left');
  });
});
