import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { recordingPath } from '../../src/session/index.js';
import { createPhoneCall, metricValue, soxi, toneEngineFactory, toneUlaw, waitFor, type ToneEngineProbe } from './call-fixtures.js';

let t: TestApp;
let probes: Map<string, ToneEngineProbe>;
const carriers: TwilioCarrier[] = [];

beforeEach(async () => {
  t = await createTestApp();
  probes = new Map();
  t.ctx.calls.configure({ engineFactory: toneEngineFactory(300, probes) });
});

afterEach(async () => {
  for (const c of carriers.splice(0)) c.terminate();
  await t.close();
});

async function liveCall(): Promise<{ carrier: TwilioCarrier; callId: string }> {
  const { call, token } = await createPhoneCall(t.ctx);
  const carrier = await TwilioCarrier.connect({ url: `${t.wsUrl}/twilio/media`, token });
  carriers.push(carrier);
  carrier.say(toneUlaw(5000, 440));
  await waitFor(() => probes.get(call.id)?.started === true, 3000, 'attached');
  return { carrier, callId: call.id };
}

describe('graceful drain (SIGTERM)', () => {
  it('lets live calls run until the deadline, then ends them with gateway_shutdown and valid recordings', async () => {
    const a = await liveCall();
    const b = await liveCall();
    // Announced here but its stream never came: dropped, its record left for whichever node gets it.
    const { call: ringing } = await createPhoneCall(t.ctx);
    t.ctx.calls.announce({ call: ringing, agent: (await t.ctx.store.getAgent(ringing.agentId))!, channel: 'phone' });
    await waitFor(() => probes.get(a.callId)!.framesIn > 25 && probes.get(b.callId)!.framesIn > 25, 5000, 'media flowing');

    t.ctx.draining = true;
    let drained = false;
    const draining = t.ctx.calls.drain(2000).then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 100));
    // Still up during the grace period.
    expect(drained).toBe(false);
    expect(a.carrier.open && b.carrier.open).toBe(true);
    // New streams are refused meanwhile.
    const { token } = await createPhoneCall(t.ctx);
    const refused = await TwilioCarrier.connect({ url: `${t.wsUrl}/twilio/media`, token });
    carriers.push(refused);
    expect((await refused.closed).code).toBe(1013);

    await draining;
    for (const { carrier, callId } of [a, b]) {
      expect(await carrier.closed).toEqual({ code: 1000, reason: 'gateway_shutdown' });
      const call = (await t.ctx.store.getCall(callId))!;
      expect(call).toMatchObject({ status: 'completed', endReason: 'gateway_shutdown', recordingAvailable: true });
      const info = soxi(recordingPath(t.dataDir, callId));
      expect(info).toMatchObject({ channels: 2, rate: 8000, bits: 16 });
      expect(info.samples).toBeGreaterThan(25 * 160);
      const events = await t.ctx.store.listCallEvents(callId, 0);
      expect(events.at(-1)).toMatchObject({ type: 'call.ended', data: { reason: 'gateway_shutdown' } });
    }
    expect((await t.ctx.store.getCall(ringing.id))!.status).toBe('ringing');
    expect(probes.get(ringing.id)!.closed).toBe(true);
    expect(t.ctx.calls.size).toBe(0);
    expect(await metricValue(t.ctx, 'voxgate_active_calls')).toBe(0);
  });

  it('returns as soon as the last live call ends on its own', async () => {
    const a = await liveCall();
    t.ctx.draining = true;
    const draining = t.ctx.calls.drain(10 * 60_000);
    await a.carrier.hangup();
    await draining; // would time the test out if it waited for the deadline
    expect((await t.ctx.store.getCall(a.callId))!.endReason).toBe('caller_hangup');
  });
});
