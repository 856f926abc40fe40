/**
 * `GET /v1/calls` and `GET /v1/calls/:id`: filters, newest-first cursor pages, owner isolation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/store/types.js';
import { makeCall } from '../store/fixtures.js';
import { seedAgent, seedKey, startCallsGateway, type CallsGateway } from './calls-fixtures.js';

let g: CallsGateway;
let alice: string;
let calls: Call[];
let agentA: string;
let agentB: string;

beforeAll(async () => {
  g = await startCallsGateway();
  alice = await seedKey(g.t, 'alice', ['calls:read']);
  agentA = (await seedAgent(g.t, 'alice')).id;
  agentB = (await seedAgent(g.t, 'alice')).id;
  const bobAgent = (await seedAgent(g.t, 'bob')).id;
  calls = [];
  const specs: Array<[string, string, Partial<Call>]> = [
    ['alice', agentA, { direction: 'inbound', status: 'completed', phoneNumberId: 'num_1' }],
    ['alice', agentA, { direction: 'outbound', status: 'failed' }],
    ['alice', agentB, { direction: 'web', status: 'in-progress' }],
    ['bob', bobAgent, { direction: 'outbound', status: 'completed' }],
    ['alice', agentB, { direction: 'outbound', status: 'completed', phoneNumberId: 'num_1' }],
  ];
  for (const [owner, agentId, over] of specs) calls.push(await g.t.ctx.store.createCall(makeCall(owner, agentId, over)));
});
afterAll(async () => g.close());

const ids = (body: { items: Array<{ id: string }> }) => body.items.map((c) => c.id);

describe('GET /v1/calls', () => {
  it("lists only the key's owner's calls, newest first", async () => {
    const res = await g.t.api('GET', '/v1/calls', undefined, alice);
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual([calls[4]!.id, calls[2]!.id, calls[1]!.id, calls[0]!.id]);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.items[0]).not.toHaveProperty('owner');
    expect(res.body.items[0]).not.toHaveProperty('notes');
  });

  it('filters by agentId, status, direction and phoneNumberId', async () => {
    const q = async (qs: string) => ids((await g.t.api('GET', `/v1/calls?${qs}`, undefined, alice)).body);
    expect(await q(`agentId=${agentA}`)).toEqual([calls[1]!.id, calls[0]!.id]);
    expect(await q('status=completed')).toEqual([calls[4]!.id, calls[0]!.id]);
    expect(await q('direction=outbound')).toEqual([calls[4]!.id, calls[1]!.id]);
    expect(await q('phoneNumberId=num_1&direction=inbound')).toEqual([calls[0]!.id]);
  });

  it('pages with a cursor', async () => {
    const first = await g.t.api('GET', '/v1/calls?limit=3', undefined, alice);
    expect(first.body.items).toHaveLength(3);
    const second = await g.t.api('GET', `/v1/calls?limit=3&cursor=${first.body.next_cursor}`, undefined, alice);
    expect(ids(second.body)).toEqual([calls[0]!.id]);
    expect(second.body.next_cursor).toBeNull();
  });

  it('sees every owner with admin', async () => {
    const res = await g.t.api('GET', '/v1/calls?limit=100');
    expect(ids(res.body)).toContain(calls[3]!.id);
  });

  it('refuses bad filters and limits with 422', async () => {
    for (const qs of ['status=ringingish', 'direction=sideways', 'limit=0', 'limit=101']) {
      const res = await g.t.api('GET', `/v1/calls?${qs}`, undefined, alice);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });
});

describe('GET /v1/calls/:id', () => {
  it('returns the call in the public shape', async () => {
    const res = await g.t.api('GET', `/v1/calls/${calls[0]!.id}`, undefined, alice);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: calls[0]!.id,
      agentId: agentA,
      direction: 'inbound',
      status: 'completed',
      variables: { name: 'Ada' },
      metadata: { crm: 42 },
      latency: { turns: 0, p50Ms: null, p95Ms: null },
      recordingAvailable: false,
    });
  });

  it("is 404 for another owner's call and for unknown ids", async () => {
    for (const id of [calls[3]!.id, 'call_missing']) {
      const res = await g.t.api('GET', `/v1/calls/${id}`, undefined, alice);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
  });

  it('is 401 without a key and 403 without calls:read', async () => {
    const res = await fetch(`${g.t.baseUrl}/v1/calls/${calls[0]!.id}`);
    expect(res.status).toBe(401);
    const noScope = await seedKey(g.t, 'alice', ['agents:read']);
    expect((await g.t.api('GET', `/v1/calls/${calls[0]!.id}`, undefined, noScope)).status).toBe(403);
  });
});
