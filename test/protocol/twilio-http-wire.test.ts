/**
 * Twilio's HTTP side as the real Twilio sees it (PROTOCOLS.md §1.1, §2.3, §2.5;
 * docs/protocols-audit.md): the TwiML documents, the signature check's URL variants, and the
 * REST hang-up, against the REST fake's model of `completed` vs `canceled`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import type { Config } from '../../src/config.js';
import { createTwilioRest, type TwilioRest } from '../../src/transport/twilio/rest-client.js';
import { isValidTwilioSignature } from '../../src/transport/twilio/signature.js';
import { connectStreamTwiml, dialTwiml, mediaStreamUrl, sayHangupTwiml } from '../../src/transport/twilio/twiml.js';
import { FakeTwilioRest, parseStream } from '../fakes/twilio-rest.js';

describe('TwiML', () => {
  it('<Connect><Stream> uses wss:// for an https PUBLIC_URL (Twilio accepts only wss) and keeps a path prefix', () => {
    expect(mediaStreamUrl('https://gw.example.com')).toBe('wss://gw.example.com/twilio/media');
    expect(mediaStreamUrl('https://gw.example.com:8443/voice/')).toBe('wss://gw.example.com:8443/voice/twilio/media');
    const xml = connectStreamTwiml('https://gw.example.com', 'a&b<"c">');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Connect><Stream url="wss:\/\/gw\.example\.com\/twilio\/media">/);
    expect(xml).not.toContain('?'.concat('token')); // never a query string on the stream URL (§1.6)
    expect(parseStream(xml)).toEqual({ url: 'wss://gw.example.com/twilio/media', parameters: { token: 'a&b<"c">' } });
    expect(xml).toContain('value="a&amp;b&lt;&quot;c&quot;>"'); // a raw `>` is valid in an attribute
  });

  it('Say + Hangup, and Dial with a Number for transfers', () => {
    expect(sayHangupTwiml('Sorry & goodbye')).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry &amp; goodbye</Say><Hangup/></Response>');
    expect(dialTwiml('+14155550123', { callerId: '+14155550100' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Dial answerOnBridge="true" callerId="+14155550100"><Number>+14155550123</Number></Dial></Response>',
    );
  });
});

describe('X-Twilio-Signature (§2.3)', () => {
  const token = '12345';
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };
  it('matches the published test vector, with the query string signed', () => {
    expect(isValidTwilioSignature(token, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', 'https://mycompany.com/myapp.php?foo=1&bar=2', params)).toBe(true);
    expect(isValidTwilioSignature(token, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', 'https://mycompany.com/myapp.php', params)).toBe(false);
  });
  it('accepts a signature over the URL with or without the default port, like twilio.validateRequest', () => {
    const withPort = 'https://mycompany.com:443/myapp.php?foo=1&bar=2';
    const sig = twilio.getExpectedTwilioSignature(token, withPort, params);
    expect(isValidTwilioSignature(token, sig, 'https://mycompany.com/myapp.php?foo=1&bar=2', params)).toBe(true);
    const sigNoPort = twilio.getExpectedTwilioSignature(token, 'https://mycompany.com/myapp.php?foo=1&bar=2', params);
    expect(isValidTwilioSignature(token, sigNoPort, withPort, params)).toBe(true);
  });
});

describe('REST hang-up (§2.5)', () => {
  let fake: FakeTwilioRest;
  let rest: TwilioRest;
  beforeEach(async () => {
    fake = await new FakeTwilioRest().start();
    rest = createTwilioRest({ twilio: { accountSid: fake.accountSid, authToken: fake.authToken, apiBaseUrl: fake.baseUrl } } as unknown as Config)!;
  });
  afterEach(async () => {
    await fake.close();
  });

  async function placeCall(): Promise<string> {
    const { sid } = await rest.createCall({ to: '+14155550199', from: '+14155550100', twiml: '<Response/>', statusCallback: 'http://127.0.0.1:1/twilio/status' });
    return sid;
  }

  it('creates calls with repeated StatusCallbackEvent params and POST callbacks', async () => {
    await placeCall();
    const p = fake.requests[0]!.params;
    expect(p.StatusCallbackEvent).toEqual(['initiated', 'ringing', 'answered', 'completed']);
    expect(p.StatusCallbackMethod).toBe('POST');
    expect(p.Twiml).toBe('<Response/>');
  });

  it('hangs up with Status=completed, which ends a ringing call (canceled) and an answered one (completed)', async () => {
    const ringing = await placeCall();
    fake.calls.get(ringing)!.status = 'ringing';
    await rest.endCall(ringing);
    expect(fake.requests.at(-1)!.params.Status).toBe('completed');
    expect(fake.calls.get(ringing)!.status).toBe('canceled');

    const answered = await placeCall();
    fake.calls.get(answered)!.status = 'in-progress';
    await rest.endCall(answered);
    expect(fake.calls.get(answered)!.status).toBe('completed');
  });

  it('the fake models Status=canceled as Twilio documents it: no effect on an answered call', async () => {
    const sid = await placeCall();
    fake.calls.get(sid)!.status = 'in-progress';
    const res = await fetch(`${fake.baseUrl}/2010-04-01/Accounts/${fake.accountSid}/Calls/${sid}.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Status=canceled',
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('in-progress');
  });

  it('turns a Twilio error body into TwilioRestError with code and status', async () => {
    fake.failNumber('+15005550001');
    await expect(rest.createCall({ to: '+15005550001', from: '+14155550100', twiml: '<Response/>', statusCallback: 'http://127.0.0.1:1/s' })).rejects.toMatchObject({ status: 400, code: 21211, reasonTag: 'error:twilio:21211' });
  });
});
