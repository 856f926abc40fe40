/**
 * The official `twilio` SDK, aimed at the fake Twilio REST server through our rebasing
 * RequestClient: the requests it sends are the ones Twilio documents (PROTOCOLS.md §2.5), and
 * Twilio's error bodies come back as TwilioRestError with code, status and retryability.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createTwilioRest, rebase, TwilioRestError, type TwilioRest } from '../../src/transport/twilio/rest-client.js';
import { connectStreamTwiml } from '../../src/transport/twilio/twiml.js';
import { FakeTwilioRest } from '../fakes/twilio-rest.js';

let fake: FakeTwilioRest;
let rest: TwilioRest;

beforeAll(async () => {
  fake = await new FakeTwilioRest().start();
  rest = createTwilioRest(loadConfig(fake.env()))!;
});
afterAll(async () => fake.close());

describe('twilio REST client over the SDK', () => {
  it('is absent without credentials', () => {
    expect(createTwilioRest(loadConfig({}))).toBeNull();
  });

  it('rebases request URIs onto TWILIO_API_BASE_URL, keeping a path prefix', () => {
    const uri = 'https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?x=1';
    expect(rebase(uri, new URL('http://127.0.0.1:9/proxy/'))).toBe('http://127.0.0.1:9/proxy/2010-04-01/Accounts/AC1/Calls.json?x=1');
  });

  it('creates a call with form params Twilio documents and basic auth', async () => {
    const twiml = connectStreamTwiml('https://gw.example.com', 'tok');
    const res = await rest.createCall({ to: '+14155550199', from: '+14155550100', twiml, statusCallback: 'https://gw.example.com/twilio/status' });
    expect(res.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(res.status).toBe('queued');
    const req = fake.requests.at(-1)!;
    expect(req.path).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Calls.json`);
    expect(req.contentType).toContain('application/x-www-form-urlencoded');
    expect([req.username, req.password]).toEqual([fake.accountSid, fake.authToken]);
    expect(req.params).toMatchObject({
      To: '+14155550199',
      From: '+14155550100',
      Twiml: twiml,
      StatusCallback: 'https://gw.example.com/twilio/status',
      StatusCallbackMethod: 'POST',
      StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
    });
    expect(fake.streamOf(res.sid)).toEqual({ url: 'wss://gw.example.com/twilio/media', parameters: { token: 'tok' } });
  });

  it('hangs up with Status=completed and redirects with Twiml', async () => {
    const { sid } = await rest.createCall({ to: '+14155550199', from: '+14155550100', twiml: '<Response/>', statusCallback: 'http://127.0.0.1:1/none' });
    fake.calls.get(sid)!.status = 'in-progress';
    await rest.updateCallTwiml(sid, '<Response><Dial>+14155550123</Dial></Response>');
    expect(fake.requests.at(-1)!.params).toEqual({ Twiml: '<Response><Dial>+14155550123</Dial></Response>' });
    fake.calls.get(sid)!.statusCallback = null; // no callback target for this one
    await rest.endCall(sid);
    const req = fake.requests.at(-1)!;
    expect(req.path).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Calls/${sid}.json`);
    expect(req.params).toEqual({ Status: 'completed' });
    expect(fake.calls.get(sid)!.status).toBe('completed');
  });

  it('turns a Twilio error body into a non-retryable TwilioRestError with the code', async () => {
    fake.failNumber('+15005550001');
    const err = await rest
      .createCall({ to: '+15005550001', from: '+14155550100', twiml: '<Response/>', statusCallback: 'https://x/twilio/status' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TwilioRestError);
    expect(err).toMatchObject({ status: 400, code: 21211, retryable: false, provider: 'twilio' });
    expect((err as TwilioRestError).reasonTag).toBe('error:twilio:21211');
  });

  it('marks 5xx and network failures retryable', async () => {
    fake.failNext.push({ status: 503, code: 20503, message: 'Service unavailable' });
    const err = await rest.endCall('CA0').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: 20503, retryable: true });

    const down = createTwilioRest(loadConfig({ ...fake.env(), TWILIO_API_BASE_URL: 'http://127.0.0.1:1' }))!;
    const netErr = await down.endCall('CA0').catch((e: unknown) => e);
    expect(netErr).toBeInstanceOf(TwilioRestError);
    expect(netErr).toMatchObject({ status: undefined, retryable: true });
    expect((netErr as TwilioRestError).reasonTag).toBe('error:twilio:network');
  });

  it('refuses wrong credentials with Twilio 20003', async () => {
    const wrong = createTwilioRest(loadConfig({ ...fake.env(), TWILIO_AUTH_TOKEN: 'nope' }))!;
    const err = await wrong.endCall('CA0').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 401, code: 20003 });
  });
});
