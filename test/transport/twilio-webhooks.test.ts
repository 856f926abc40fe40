/**
 * `POST /twilio/voice`: only requests signed like Twilio signs them get in; an inbound call is
 * routed to its number's agent and answered with `<Connect><Stream>` and a stream token, and
 * calls nobody can take get `<Say>` + `<Hangup/>`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyStreamToken } from '../../src/transport/twilio/stream-token.js';
import { parseStream } from '../fakes/twilio-rest.js';
import { e164, seedAgent, seedNumber, startCallsGateway, type CallsGateway } from '../api/calls-fixtures.js';

let g: CallsGateway;
let voiceUrl: string;

beforeEach(async () => {
  g = await startCallsGateway();
  voiceUrl = `${g.t.baseUrl}/twilio/voice`;
});
afterEach(async () => g.close());

function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

async function post(path: string, params: Record<string, string>, signature?: string) {
  const res = await fetch(g.t.baseUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature !== undefined ? { 'x-twilio-signature': signature } : {}) },
    body: form(params),
  });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

const inboundParams = (to: string, callSid = `CA${'1'.repeat(32)}`) => ({
  CallSid: callSid,
  AccountSid: g.fake.accountSid,
  From: '+14155550100',
  To: to,
  CallStatus: 'ringing',
  ApiVersion: '2010-04-01',
  Direction: 'inbound',
});

describe('POST /twilio/voice signature check', () => {
  it('refuses a missing signature with 403 twilio_signature_invalid', async () => {
    const res = await post('/twilio/voice', inboundParams(e164()));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text).error.code).toBe('twilio_signature_invalid');
  });

  it('refuses a signature made with another token, another URL, or over altered params', async () => {
    const params = inboundParams(e164());
    const wrongToken = new (g.fake.constructor as typeof import('../fakes/twilio-rest.js').FakeTwilioRest)({ authToken: 'other' }).sign(voiceUrl, params);
    expect((await post('/twilio/voice', params, wrongToken)).status).toBe(403);
    const wrongUrl = g.fake.sign('https://elsewhere.example.com/twilio/voice', params);
    expect((await post('/twilio/voice', params, wrongUrl)).status).toBe(403);
    const signed = g.fake.sign(voiceUrl, params);
    expect((await post('/twilio/voice', { ...params, From: '+14155550999' }, signed)).status).toBe(403);
    expect((await g.t.ctx.store.listCalls({}, { limit: 5 })).items).toHaveLength(0);
  });

  it('accepts a valid signature, also with a query string in the signed URL', async () => {
    const params = inboundParams(e164());
    const ok = await post('/twilio/voice', params, g.fake.sign(voiceUrl, params));
    expect(ok.status).toBe(200);
    expect(ok.type).toContain('text/xml');
    const withQuery = { ...params, CallSid: `CA${'2'.repeat(32)}` };
    const q = await post('/twilio/voice?tenant=a%20b', withQuery, g.fake.sign(`${voiceUrl}?tenant=a%20b`, withQuery));
    expect(q.status).toBe(200);
    // The same signature does not carry over to another query string.
    const moved = await post('/twilio/voice?tenant=c', withQuery, g.fake.sign(`${voiceUrl}?tenant=a%20b`, withQuery));
    expect(moved.status).toBe(403);
  });

  it('refuses everything when Twilio is not configured', async () => {
    const bare = await startCallsGateway({ twilio: false });
    try {
      const params = inboundParams(e164());
      const res = await fetch(`${bare.t.baseUrl}/twilio/voice`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': bare.fake.sign(`${bare.t.baseUrl}/twilio/voice`, params) },
        body: form(params),
      });
      expect(res.status).toBe(403);
      expect((await res.json()).error.code).toBe('twilio_signature_invalid');
    } finally {
      await bare.close();
    }
  });
});

describe('POST /twilio/voice routing', () => {
  it("answers with the number's agent: Connect/Stream with a token for the new inbound call", async () => {
    const agent = await seedAgent(g.t, 'acme');
    const number = await seedNumber(g.t, 'acme', agent.id);
    const res = await g.fake.inboundCall(voiceUrl, { from: '+14155550100', to: number.phoneNumber });
    expect(res.responseStatus).toBe(200);
    expect(res.responseBody).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Connect><Stream url=/);
    const stream = parseStream(res.responseBody)!;
    expect(stream.url).toBe(`${g.t.wsUrl}/twilio/media`);

    const call = (await g.t.ctx.store.getCallByTwilioSid(res.call.sid))!;
    expect(call).toMatchObject({
      owner: 'acme',
      agentId: agent.id,
      direction: 'inbound',
      status: 'in-progress',
      fromNumber: '+14155550100',
      toNumber: number.phoneNumber,
      phoneNumberId: number.id,
      record: true,
    });
    expect(call.answeredAt).not.toBeNull();
    expect(verifyStreamToken(g.t.ctx.secrets.tokenKey, stream.parameters.token, new Date())).toEqual({ ok: true, callId: call.id });
    expect(g.announced).toEqual([call.id]);
    const events = await g.t.ctx.store.listCallEvents(call.id, 0);
    expect(events.map((e) => [e.type, e.data.status])).toEqual([
      ['call.status', 'ringing'],
      ['call.status', 'in-progress'],
    ]);
  });

  it('handles a repeated webhook for the same CallSid with the same call', async () => {
    const agent = await seedAgent(g.t);
    const number = await seedNumber(g.t, 'admin', agent.id);
    const first = await g.fake.inboundCall(voiceUrl, { from: '+14155550100', to: number.phoneNumber });
    const again = await g.fake.inboundCall(voiceUrl, { from: '+14155550100', to: number.phoneNumber, callSid: first.call.sid });
    expect(again.responseStatus).toBe(200);
    const t1 = parseStream(first.responseBody)!.parameters.token;
    const t2 = parseStream(again.responseBody)!.parameters.token;
    const key = g.t.ctx.secrets.tokenKey;
    expect(verifyStreamToken(key, t2, new Date())).toEqual(verifyStreamToken(key, t1, new Date()));
    expect((await g.t.ctx.store.listCalls({}, { limit: 10 })).items).toHaveLength(1);
    expect(g.announced).toHaveLength(1);
  });

  it('says sorry and hangs up when the number is unknown or has no agent, recording nothing', async () => {
    const unattached = await seedNumber(g.t, 'admin', null);
    for (const to of [e164(), unattached.phoneNumber]) {
      const res = await g.fake.inboundCall(voiceUrl, { from: '+14155550100', to });
      expect(res.responseStatus).toBe(200);
      expect(res.responseBody).toMatch(/<Response><Say>[^<]+<\/Say><Hangup\/><\/Response>$/);
    }
    expect((await g.t.ctx.store.listCalls({}, { limit: 10 })).items).toHaveLength(0);
    expect(g.announced).toHaveLength(0);
  });

  it('refuses agents that cannot take phone calls, noting why on a failed call record', async () => {
    const cases = [
      { over: { voiceMode: 'web' as const }, reason: 'error:voice_mode_excludes_phone' },
      { over: { voiceMode: 'off' as const }, reason: 'error:voice_mode_excludes_phone' },
      { over: { architecture: 'text' as const }, reason: 'error:text_agent' },
    ];
    for (const c of cases) {
      const agent = await seedAgent(g.t, 'admin', c.over);
      const number = await seedNumber(g.t, 'admin', agent.id);
      const res = await g.fake.inboundCall(voiceUrl, { from: '+14155550100', to: number.phoneNumber });
      expect(res.responseBody).toContain('<Hangup/>');
      expect(res.responseBody).not.toContain('<Stream');
      const call = (await g.t.ctx.store.getCallByTwilioSid(res.call.sid))!;
      expect(call).toMatchObject({ status: 'failed', endReason: c.reason, agentId: agent.id });
      expect(call.notes.join(' ')).toContain(c.reason);
      const events = await g.t.ctx.store.listCallEvents(call.id, 0);
      expect(events.filter((e) => e.type === 'call.ended')).toHaveLength(1);
    }
    expect(g.announced).toHaveLength(0);
  });

  it('refuses new calls while draining', async () => {
    const agent = await seedAgent(g.t);
    const number = await seedNumber(g.t, 'admin', agent.id);
    g.t.ctx.draining = true;
    const res = await g.fake.inboundCall(voiceUrl, { from: '+14155550100', to: number.phoneNumber });
    g.t.ctx.draining = false;
    expect(res.responseBody).toContain('<Hangup/>');
    expect((await g.t.ctx.store.getCallByTwilioSid(res.call.sid))!.endReason).toBe('error:draining');
  });

  it('rejects a signed webhook without a CallSid with 400', async () => {
    const params = { From: '+14155550100', To: e164() };
    const res = await post('/twilio/voice', params, g.fake.sign(voiceUrl, params));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe('bad_request');
  });
});
