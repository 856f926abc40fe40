/**
 * `POST /v1/calls/:id/end`: phone calls hang up through Twilio (the fake sees
 * `Status=completed`), every call's media node is told over the bus, the call ends with
 * `api_end`, and ending again changes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallControlMessage } from '../../src/bus/types.js';
import { makeCall } from '../store/fixtures.js';
import { e164, seedAgent, seedKey, seedNumber, startCallsGateway, type CallsGateway } from './calls-fixtures.js';

let g: CallsGateway;
let control: CallControlMessage[];

beforeEach(async () => {
  g = await startCallsGateway();
  control = [];
  await g.t.ctx.bus.subscribeControl((m) => control.push(m));
});
afterEach(async () => g.close());

async function placeCall(owner = 'admin') {
  const agent = await seedAgent(g.t, owner);
  await seedNumber(g.t, owner, agent.id);
  const res = await g.t.api('POST', '/v1/calls', { agentId: agent.id, toNumber: e164() });
  expect(res.status).toBe(201);
  return { callId: res.body.id as string, sid: res.body.twilioCallSid as string };
}

const hangups = () => g.fake.requests.filter((r) => /\/Calls\/CA[0-9a-f]+\.json$/.test(r.path) && r.method === 'POST');

describe('POST /v1/calls/:id/end', () => {
  it('hangs up an answered phone call through Twilio and the bus, once', async () => {
    const { callId, sid } = await placeCall();
    await g.fake.answer(sid);
    const res = await g.t.api('POST', `/v1/calls/${callId}/end`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: callId, status: 'completed', endReason: 'api_end' });
    expect(res.body.endedAt).not.toBeNull();
    expect(hangups().map((r) => [r.path.endsWith(`/Calls/${sid}.json`), r.params])).toEqual([[true, { Status: 'completed' }]]);
    expect(control).toEqual([{ callId, control: { command: 'end', reason: 'api_end' } }]);
    expect(g.t.ctx.calls.get(callId)).toBeUndefined();

    // Twilio's own completed callback after the hang-up changes nothing.
    await g.fake.idle();
    const again = await g.t.api('POST', `/v1/calls/${callId}/end`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'completed', endReason: 'api_end' });
    expect(hangups()).toHaveLength(1);
    expect(control).toHaveLength(1);
    const events = await g.t.ctx.store.listCallEvents(callId, 0);
    expect(events.filter((e) => e.type === 'call.ended')).toHaveLength(1);
  });

  it('cancels a call that was not answered yet', async () => {
    const { callId } = await placeCall();
    const res = await g.t.api('POST', `/v1/calls/${callId}/end`);
    expect(res.body).toMatchObject({ status: 'canceled', endReason: 'api_end', durationSeconds: 0 });
    expect(hangups()).toHaveLength(1);
  });

  it('still ends the call when Twilio refuses the hang-up, noting it', async () => {
    const { callId, sid } = await placeCall();
    await g.fake.answer(sid);
    g.fake.failNext.push({ status: 503, code: 20503, message: 'Service Unavailable' });
    const res = await g.t.api('POST', `/v1/calls/${callId}/end`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('completed');
    expect((await g.t.ctx.store.getCall(callId))!.notes.join(' ')).toContain('error:twilio:20503');
  });

  it('ends a web call over the bus without Twilio', async () => {
    const agent = await seedAgent(g.t);
    const call = await g.t.ctx.store.createCall(makeCall('admin', agent.id, { direction: 'web', status: 'in-progress', fromNumber: null, toNumber: null, answeredAt: new Date().toISOString() }));
    const before = g.fake.requests.length;
    const res = await g.t.api('POST', `/v1/calls/${call.id}/end`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'completed', endReason: 'api_end' });
    expect(g.fake.requests.length).toBe(before);
    expect(control).toEqual([{ callId: call.id, control: { command: 'end', reason: 'api_end' } }]);
  });

  it("is 404 for another owner's call and 403 without calls:write", async () => {
    const { callId } = await placeCall('bob');
    const alice = await seedKey(g.t, 'alice', ['calls:write', 'calls:read']);
    const res = await g.t.api('POST', `/v1/calls/${callId}/end`, undefined, alice);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    const reader = await seedKey(g.t, 'bob', ['calls:read', 'read:all']);
    expect((await g.t.api('POST', `/v1/calls/${callId}/end`, undefined, reader)).status).toBe(403);
    expect((await g.t.ctx.store.getCall(callId))!.status).toBe('queued');
    expect((await g.t.api('POST', '/v1/calls/call_nope/end')).status).toBe(404);
  });
});
