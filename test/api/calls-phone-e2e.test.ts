/**
 * A phone call end to end, with Twilio played by its two fakes: the REST fake takes the SDK's
 * create/update requests and sends signed callbacks; the carrier simulator opens the media
 * stream with the URL and token from the TwiML the REST fake received.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { parseStream } from '../fakes/twilio-rest.js';
import { e164, seedAgent, seedNumber, startCallsGateway, waitFor, type CallsGateway } from './calls-fixtures.js';

let g: CallsGateway;
const carriers: TwilioCarrier[] = [];

beforeEach(async () => {
  g = await startCallsGateway();
});
afterEach(async () => {
  for (const c of carriers.splice(0)) c.terminate();
  await g.close();
});

async function connectCarrier(callSid: string, twiml: string | undefined): Promise<TwilioCarrier> {
  const stream = parseStream(twiml ?? '')!;
  const carrier = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid, accountSid: g.fake.accountSid });
  carriers.push(carrier);
  return carrier;
}

describe('phone calls end to end', () => {
  it('places an outbound call, connects its media with the TwiML token, and hangs up over the API', async () => {
    const agent = await seedAgent(g.t);
    await seedNumber(g.t, 'admin', agent.id);
    const created = await g.t.api('POST', '/v1/calls', { agentId: agent.id, toNumber: e164() });
    expect(created.status).toBe(201);
    const { id: callId, twilioCallSid: sid } = created.body as { id: string; twilioCallSid: string };

    await g.fake.ring(sid);
    await g.fake.answer(sid);
    const carrier = await connectCarrier(sid, g.fake.calls.get(sid)!.twiml[0]);
    await waitFor(() => g.t.ctx.calls.get(callId)?.live === true, 'media attached');

    const ended = await g.t.api('POST', `/v1/calls/${callId}/end`);
    expect(ended.body).toMatchObject({ status: 'completed', endReason: 'api_end' });
    // The media socket was closed by the session, and Twilio was told to hang up.
    await carrier.closed;
    expect(g.fake.requests.some((r) => r.path.endsWith(`/Calls/${sid}.json`) && r.params.Status === 'completed')).toBe(true);
    await g.fake.idle(); // Twilio's own `completed` callback after the hang-up

    const call = (await g.t.ctx.store.getCall(callId))!;
    expect(call).toMatchObject({ status: 'completed', endReason: 'api_end', recordingAvailable: true });
    const events = await g.t.ctx.store.listCallEvents(callId, 0);
    expect(events.filter((e) => e.type === 'call.ended')).toHaveLength(1);
    const recording = await fetch(`${g.t.baseUrl}/v1/calls/${callId}/recording`, { headers: { authorization: `Bearer ${g.t.adminKey}`, range: 'bytes=0-11' } });
    expect(recording.status).toBe(206);
    expect(Buffer.from(await recording.arrayBuffer()).toString('latin1', 0, 4)).toBe('RIFF');
  });

  it('answers an inbound call and ends it when the caller hangs up', async () => {
    const agent = await seedAgent(g.t, 'acme');
    const number = await seedNumber(g.t, 'acme', agent.id);
    const inbound = await g.fake.inboundCall(`${g.t.baseUrl}/twilio/voice`, { from: '+14155550100', to: number.phoneNumber });
    const call = (await g.t.ctx.store.getCallByTwilioSid(inbound.call.sid))!;
    const carrier = await connectCarrier(inbound.call.sid, inbound.responseBody);
    await waitFor(() => g.t.ctx.calls.get(call.id)?.live === true, 'media attached');

    await carrier.hangup();
    await waitFor(async () => (await g.t.ctx.store.getCall(call.id))!.status === 'completed', 'call completed');
    expect(await g.t.ctx.store.getCall(call.id)).toMatchObject({ endReason: 'caller_hangup', owner: 'acme' });
    const types = (await g.t.ctx.store.listCallEvents(call.id, 0)).map((e) => e.type);
    expect(types.filter((t) => t === 'call.ended')).toHaveLength(1);
  });

  it('refuses a media stream whose callSid is not the call the token was minted for', async () => {
    const agent = await seedAgent(g.t);
    await seedNumber(g.t, 'admin', agent.id);
    const created = await g.t.api('POST', '/v1/calls', { agentId: agent.id, toNumber: e164() });
    const sid = created.body.twilioCallSid as string;
    const carrier = await connectCarrier(`CA${'f'.repeat(32)}`, g.fake.calls.get(sid)!.twiml[0]);
    await carrier.closed;
    expect(g.t.ctx.calls.get(created.body.id)?.live ?? false).toBe(false);
  });
});
