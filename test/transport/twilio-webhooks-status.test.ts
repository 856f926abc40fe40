/**
 * `POST /twilio/status`: the fake Twilio drives a placed call through its lifecycle with signed
 * callbacks; the call only ever moves forward, repeats change nothing, and `call.ended` is
 * recorded exactly once whoever ends the call.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallControlMessage } from '../../src/bus/types.js';
import { e164, seedAgent, seedNumber, startCallsGateway, type CallsGateway } from '../api/calls-fixtures.js';
import { makeCall } from '../store/fixtures.js';

let g: CallsGateway;

beforeEach(async () => {
  g = await startCallsGateway();
});
afterEach(async () => g.close());

async function placeCall(): Promise<{ callId: string; sid: string }> {
  const agent = await seedAgent(g.t);
  await seedNumber(g.t, 'admin', agent.id);
  const res = await g.t.api('POST', '/v1/calls', { agentId: agent.id, toNumber: e164() });
  expect(res.status).toBe(201);
  return { callId: res.body.id, sid: res.body.twilioCallSid };
}

async function eventTypes(callId: string): Promise<string[]> {
  return (await g.t.ctx.store.listCallEvents(callId, 0)).map((e) => `${e.type}:${String(e.data.status ?? '')}`);
}

describe('POST /twilio/status', () => {
  it('follows ringing, answered and completed, with times, duration and one call.ended', async () => {
    const { callId, sid } = await placeCall();
    expect((await g.fake.ring(sid))!.responseStatus).toBe(200);
    expect((await g.t.ctx.store.getCall(callId))!.status).toBe('ringing');

    await g.fake.answer(sid);
    const answered = (await g.t.ctx.store.getCall(callId))!;
    expect(answered.status).toBe('in-progress');
    expect(answered.answeredAt).not.toBeNull();

    const done = await g.fake.complete(sid, 'completed', { durationSeconds: 42 });
    expect(done!.responseStatus).toBe(200);
    expect(done!.responseBody).toContain('<Response/>');
    const ended = (await g.t.ctx.store.getCall(callId))!;
    expect(ended).toMatchObject({ status: 'completed', durationSeconds: 42, endReason: 'caller_hangup' });
    expect(ended.endedAt).not.toBeNull();
    // The session announced for the call (on this node) was ended with it.
    expect(g.t.ctx.calls.get(callId)).toBeUndefined();
    expect(await eventTypes(callId)).toEqual(['call.status:ringing', 'call.status:in-progress', 'call.status:completed', 'call.ended:completed']);
  });

  it('ignores callbacks that arrive late or twice: a terminal call never moves', async () => {
    const { callId, sid } = await placeCall();
    await g.fake.answer(sid);
    await g.fake.sendStatusCallback(sid, 'ringing'); // late: behind in-progress
    expect((await g.t.ctx.store.getCall(callId))!.status).toBe('in-progress');
    await g.fake.sendStatusCallback(sid, 'in-progress'); // repeat
    await g.fake.sendStatusCallback(sid, 'no-answer', { CallDuration: '0' });
    await g.fake.sendStatusCallback(sid, 'completed', { CallDuration: '9' });
    await g.fake.sendStatusCallback(sid, 'in-progress');
    const call = (await g.t.ctx.store.getCall(callId))!;
    expect(call).toMatchObject({ status: 'no-answer', endReason: 'no_answer' });
    expect(await eventTypes(callId)).toEqual(['call.status:in-progress', 'call.status:no-answer', 'call.ended:no-answer']);
  });

  it('records busy, failed and canceled with their reasons', async () => {
    for (const [status, reason] of [
      ['busy', 'busy'],
      ['failed', 'error:twilio:failed'],
      ['canceled', 'canceled'],
    ] as const) {
      const { callId, sid } = await placeCall();
      await g.fake.ring(sid);
      await g.fake.complete(sid, status);
      expect(await g.t.ctx.store.getCall(callId)).toMatchObject({ status, endReason: reason });
      expect((await eventTypes(callId)).filter((e) => e.startsWith('call.ended'))).toEqual([`call.ended:${status}`]);
    }
  });

  it('finds the call by the id in its callback URL before the SID is stored, and stores the SID', async () => {
    const agent = await seedAgent(g.t);
    const call = await g.t.ctx.store.createCall(makeCall('admin', agent.id, { startedAt: new Date().toISOString() }));
    const url = `${g.t.baseUrl}/twilio/status?callId=${call.id}`;
    const params = { CallSid: `CA${'9'.repeat(32)}`, AccountSid: g.fake.accountSid, CallStatus: 'ringing', To: '+14155550100', From: '+14155550101' };
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': g.fake.sign(url, params) },
      body: new URLSearchParams(params).toString(),
    });
    expect(res.status).toBe(200);
    expect(await g.t.ctx.store.getCall(call.id)).toMatchObject({ status: 'ringing', twilioCallSid: params.CallSid });
  });

  it('tells other nodes to end the session when the call ends and no session is here', async () => {
    const { callId, sid } = await placeCall();
    // As if the media session lived on another node.
    await g.t.ctx.calls.get(callId)!.end('moved');
    await g.t.ctx.store.updateCall(callId, { status: 'in-progress', endReason: null, endedAt: null });
    const seen: CallControlMessage[] = [];
    const unsub = await g.t.ctx.bus.subscribeControl((m) => seen.push(m));
    await g.fake.complete(sid, 'busy');
    await unsub();
    expect(seen).toEqual([{ callId, control: { command: 'end', reason: 'busy' } }]);
  });

  it('answers 200 to a callback for an unknown call and 403 to an unsigned one', async () => {
    const params = { CallSid: `CA${'8'.repeat(32)}`, CallStatus: 'completed' };
    const url = `${g.t.baseUrl}/twilio/status`;
    const signed = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': g.fake.sign(url, params) },
      body: new URLSearchParams(params).toString(),
    });
    expect(signed.status).toBe(200);
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
    expect(unsigned.status).toBe(403);
  });
});
