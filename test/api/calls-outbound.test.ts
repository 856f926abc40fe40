/**
 * `POST /v1/calls`: the official SDK places the call on the fake Twilio REST server with
 * `<Connect><Stream>` TwiML carrying a stream token for this call; Twilio refusals fail the
 * call and answer 502; bad requests are 4xx before anything is dialed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyStreamToken } from '../../src/transport/twilio/stream-token.js';
import { mediaStreamUrl } from '../../src/transport/twilio/twiml.js';
import { e164, seedAgent, seedKey, seedNumber, startCallsGateway, type CallsGateway } from './calls-fixtures.js';

let g: CallsGateway;

beforeEach(async () => {
  g = await startCallsGateway();
});
afterEach(async () => g.close());

async function agentWithNumber(owner = 'admin') {
  const agent = await seedAgent(g.t, owner);
  const number = await seedNumber(g.t, owner, agent.id);
  return { agent, number };
}

describe('POST /v1/calls', () => {
  it('places the call through the SDK with stream TwiML, a verifiable token and status callbacks', async () => {
    const { agent, number } = await agentWithNumber();
    const to = e164();
    const res = await g.t.api('POST', '/v1/calls', {
      agentId: agent.id,
      toNumber: to,
      initialGreeting: 'Hi {{name}}',
      variables: { name: 'Ada' },
      metadata: { crm: 7 },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      agentId: agent.id,
      direction: 'outbound',
      status: 'queued',
      toNumber: to,
      fromNumber: number.phoneNumber,
      phoneNumberId: number.id,
      variables: { name: 'Ada' },
      metadata: { crm: 7 },
      recordingAvailable: false,
    });
    expect(res.body).not.toHaveProperty('owner');
    const callId = res.body.id as string;

    const req = g.fake.requests.find((r) => r.path.endsWith('/Calls.json'))!;
    expect([req.username, req.password]).toEqual([g.fake.accountSid, g.fake.authToken]);
    expect(req.params).toMatchObject({
      To: to,
      From: number.phoneNumber,
      StatusCallback: `${g.t.baseUrl}/twilio/status?callId=${callId}`,
      StatusCallbackMethod: 'POST',
      StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
    });

    const sid = res.body.twilioCallSid as string;
    expect(sid).toMatch(/^CA[0-9a-f]{32}$/);
    const stream = g.fake.streamOf(sid)!;
    expect(stream.url).toBe(`${g.t.wsUrl}/twilio/media`);
    const check = verifyStreamToken(g.t.ctx.secrets.tokenKey, stream.parameters.token, new Date());
    expect(check).toEqual({ ok: true, callId });

    const stored = (await g.t.ctx.store.getCall(callId))!;
    expect(stored).toMatchObject({ owner: 'admin', twilioCallSid: sid, record: true, overrides: { initialGreeting: 'Hi {{name}}' } });
    // The session was announced before dialing, so its provider sockets warm during the ring.
    expect(g.announced).toEqual([callId]);
    expect(g.t.ctx.calls.get(callId)).toBeDefined();
  });

  it('dials once for a repeated Idempotency-Key, replaying the first answer', async () => {
    const { agent } = await agentWithNumber();
    const body = { agentId: agent.id, toNumber: e164() };
    const headers = { 'idempotency-key': 'dial-once-1' };
    const first = await g.t.api('POST', '/v1/calls', body, undefined, headers);
    const again = await g.t.api('POST', '/v1/calls', body, undefined, headers);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(g.fake.requests.filter((r) => r.path.endsWith('/Calls.json'))).toHaveLength(1);
  });

  it('derives wss from an https PUBLIC_URL, keeping a path prefix', () => {
    expect(mediaStreamUrl('https://gw.example.com')).toBe('wss://gw.example.com/twilio/media');
    expect(mediaStreamUrl('https://gw.example.com:8443/voice')).toBe('wss://gw.example.com:8443/voice/twilio/media');
    expect(mediaStreamUrl('http://127.0.0.1:9')).toBe('ws://127.0.0.1:9/twilio/media');
  });

  it('calls from fromNumberId when the caller owns it', async () => {
    const { agent } = await agentWithNumber();
    const other = await seedNumber(g.t, 'admin', null);
    const res = await g.t.api('POST', '/v1/calls', { agentId: agent.id, toNumber: e164(), fromNumberId: other.id, record: false });
    expect(res.status).toBe(201);
    expect(res.body.fromNumber).toBe(other.phoneNumber);
    expect(g.fake.requests.at(-1)!.params.From).toBe(other.phoneNumber);
    expect((await g.t.ctx.store.getCall(res.body.id))!.record).toBe(false);
  });

  it('fails the call and answers 502 provider_error when Twilio refuses it', async () => {
    const { agent } = await agentWithNumber();
    const to = e164();
    g.fake.failNumber(to);
    const res = await g.t.api('POST', '/v1/calls', { agentId: agent.id, toNumber: to });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('provider_error');
    expect(res.body.error.details[0]).toMatchObject({ provider: 'twilio', status: 400, code: 21211 });

    const page = await g.t.ctx.store.listCalls({ agentId: agent.id }, { limit: 10 });
    expect(page.items).toHaveLength(1);
    const call = page.items[0]!;
    expect(call).toMatchObject({ status: 'failed', endReason: 'error:twilio:21211', twilioCallSid: null });
    expect(call.endedAt).not.toBeNull();
    expect(g.t.ctx.calls.get(call.id)).toBeUndefined();
    const events = await g.t.ctx.store.listCallEvents(call.id, 0);
    expect(events.filter((e) => e.type === 'call.ended')).toHaveLength(1);
    expect(events.at(-1)!.data).toMatchObject({ status: 'failed', reason: 'error:twilio:21211' });
  });

  it('reports a Twilio server error as retryable 502 with the status in the reason', async () => {
    const { agent } = await agentWithNumber();
    g.fake.failNext.push({ status: 500, code: 20500, message: 'Internal Server Error' });
    const res = await g.t.api('POST', '/v1/calls', { agentId: agent.id, toNumber: e164() });
    expect(res.status).toBe(502);
    const call = (await g.t.ctx.store.listCalls({ agentId: agent.id }, { limit: 1 })).items[0]!;
    expect(call.endReason).toBe('error:twilio:20500');
  });

  describe('refuses before dialing', () => {
    async function expectRefused(body: Record<string, unknown>, status: number, code: string, key?: string) {
      const before = g.fake.requests.length;
      const res = await g.t.api('POST', '/v1/calls', body, key);
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(g.fake.requests.length).toBe(before);
      return res;
    }

    it('an unknown or deleted agent: 404', async () => {
      await expectRefused({ agentId: 'agt_nope', toNumber: e164() }, 404, 'not_found');
      const { agent } = await agentWithNumber();
      await g.t.ctx.store.deleteAgent(agent.id);
      await expectRefused({ agentId: agent.id, toNumber: e164() }, 404, 'not_found');
    });

    it("another owner's agent: 404", async () => {
      const { agent } = await agentWithNumber('bob');
      const alice = await seedKey(g.t, 'alice', ['calls:write']);
      await expectRefused({ agentId: agent.id, toNumber: e164() }, 404, 'not_found', alice);
    });

    it('a text agent or one whose voiceMode excludes phone: 422', async () => {
      const text = await seedAgent(g.t, 'admin', { architecture: 'text', stt: null, tts: null });
      await seedNumber(g.t, 'admin', text.id);
      await expectRefused({ agentId: text.id, toNumber: e164() }, 422, 'validation_failed');
      const webOnly = await seedAgent(g.t, 'admin', { voiceMode: 'web' });
      await seedNumber(g.t, 'admin', webOnly.id);
      const res = await expectRefused({ agentId: webOnly.id, toNumber: e164() }, 422, 'validation_failed');
      expect(JSON.stringify(res.body.error.details)).toContain('voiceMode');
    });

    it('a toNumber that is not E.164: 422', async () => {
      const { agent } = await agentWithNumber();
      for (const toNumber of ['4155550100', '+0123', '+1 415 555 0100', '+1234567890123456']) {
        await expectRefused({ agentId: agent.id, toNumber }, 422, 'validation_failed');
      }
    });

    it('no number to call from, or a fromNumberId the caller does not own: 422', async () => {
      const lonely = await seedAgent(g.t);
      await expectRefused({ agentId: lonely.id, toNumber: e164() }, 422, 'validation_failed');
      const bobs = await seedNumber(g.t, 'bob', null);
      const carol = await seedKey(g.t, 'carol', ['calls:write']);
      const carolAgent = await seedAgent(g.t, 'carol');
      await expectRefused({ agentId: carolAgent.id, toNumber: e164(), fromNumberId: bobs.id }, 422, 'validation_failed', carol);
    });

    it('a missing scope: 403', async () => {
      const { agent } = await agentWithNumber();
      const reader = await seedKey(g.t, 'admin', ['calls:read']);
      await expectRefused({ agentId: agent.id, toNumber: e164() }, 403, 'forbidden', reader);
    });
  });
});

describe('POST /v1/calls without Twilio credentials', () => {
  it('answers 503 provider_not_configured and creates no call', async () => {
    const bare = await startCallsGateway({ twilio: false });
    try {
      const agent = await seedAgent(bare.t);
      await seedNumber(bare.t, 'admin', agent.id);
      const res = await bare.t.api('POST', '/v1/calls', { agentId: agent.id, toNumber: e164() });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('provider_not_configured');
      expect((await bare.t.ctx.store.listCalls({}, { limit: 5 })).items).toHaveLength(0);
    } finally {
      await bare.close();
    }
  });
});
