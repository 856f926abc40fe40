import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import type { TwilioRest } from '../../src/transport/twilio/rest-client.js';
import type { CallEventMessage } from '../../src/bus/types.js';
import { createPhoneCall, metricValue, toneEngineFactory, waitFor, type ToneEngineProbe } from './call-fixtures.js';

let t: TestApp;
let probes: Map<string, ToneEngineProbe>;
const carriers: TwilioCarrier[] = [];

class RecordingTwilio implements TwilioRest {
  twiml: Array<{ sid: string; twiml: string }> = [];
  async createCall(): Promise<{ sid: string; status: string }> {
    throw new Error('not used');
  }
  async endCall(): Promise<void> {}
  async updateCallTwiml(sid: string, twiml: string): Promise<void> {
    this.twiml.push({ sid, twiml });
  }
}

async function setup(twilio: TwilioRest | null = null): Promise<void> {
  t = await createTestApp({ twilio });
  probes = new Map();
  t.ctx.calls.configure({ engineFactory: toneEngineFactory(0, probes) });
}

async function liveCall(): Promise<{ carrier: TwilioCarrier; callId: string; probe: ToneEngineProbe }> {
  const callSid = 'CA' + String(carriers.length + 1).padStart(32, '0');
  const { call, token } = await createPhoneCall(t.ctx, { twilioCallSid: callSid });
  const carrier = await TwilioCarrier.connect({ url: `${t.wsUrl}/twilio/media`, token, callSid });
  carriers.push(carrier);
  await waitFor(() => probes.get(call.id)?.started === true, 3000, 'attached');
  await waitFor(async () => (await t.ctx.store.getCall(call.id))!.status === 'in-progress', 3000, 'answered');
  return { carrier, callId: call.id, probe: probes.get(call.id)! };
}

afterEach(async () => {
  for (const c of carriers.splice(0)) c.terminate();
  await t.close();
});

describe('call control and the engine host', () => {
  it('ends a call on an `end` control message from the bus', async () => {
    await setup();
    const { carrier, callId } = await liveCall();
    await t.ctx.bus.publishControl({ callId, control: { command: 'end', reason: 'api_end' } });
    expect(await carrier.closed).toEqual({ code: 1000, reason: 'api_end' });
    await waitFor(async () => (await t.ctx.store.getCall(callId))!.status === 'completed', 3000, 'completed');
    expect((await t.ctx.store.getCall(callId))!.endReason).toBe('api_end');
    // Control messages for calls this node does not hold are ignored.
    await t.ctx.bus.publishControl({ callId: 'call_unknown', control: { command: 'end', reason: 'api_end' } });
  });

  it('transfers a phone call with <Dial> over Twilio REST, then ends it as transferred', async () => {
    const twilio = new RecordingTwilio();
    await setup(twilio);
    const { carrier, callId } = await liveCall();
    await t.ctx.bus.publishControl({ callId, control: { command: 'transfer', toNumber: '+15551234567' } });
    await carrier.closed;
    await waitFor(async () => (await t.ctx.store.getCall(callId))!.status === 'completed', 3000, 'completed');
    expect(twilio.twiml).toEqual([{ sid: carrier.callSid, twiml: '<Response><Dial>+15551234567</Dial></Response>' }]);
    expect((await t.ctx.store.getCall(callId))!.endReason).toBe('transfer');
  });

  it('refuses to transfer a web call', async () => {
    await setup(new RecordingTwilio());
    const { call } = await createPhoneCall(t.ctx, { direction: 'web' });
    const session = t.ctx.calls.announce({ call, agent: (await t.ctx.store.getAgent(call.agentId))!, channel: 'web' });
    await expect(session.transfer('+15551234567')).rejects.toThrow(/web calls cannot be transferred/);
    await session.end('api_end');
  });

  it('stores then publishes transcripts, marks interruptions, and keeps latency and notes on the call', async () => {
    await setup();
    const { callId, probe, carrier } = await liveCall();
    const seen: CallEventMessage[] = [];
    const unsubscribe = await t.ctx.bus.subscribeCallEvents(callId, (m) => seen.push(m));
    const host = probe.host;
    await host.transcript({ role: 'user', text: 'Hello there', startMs: 100, endMs: 900 });
    host.partial('agent', 'Hi, how');
    await host.transcript({ role: 'agent', text: 'Hi, how can', startMs: 1000, endMs: 1800, interrupted: true });
    const transcript = await t.ctx.store.listTranscript(callId);
    expect(transcript.map((i) => [i.role, i.text, i.interrupted ?? false])).toEqual([
      ['user', 'Hello there', false],
      ['agent', 'Hi, how can', true],
    ]);
    await waitFor(() => seen.length >= 4, 2000, 'published events');
    expect(seen.map((m) => m.type)).toEqual(['transcript.final', 'transcript.partial', 'transcript.final', 'agent.interrupted']);
    // A partial carries the last stored seq; stored events carry their own.
    expect(seen[1]!.seq).toBe(seen[0]!.seq);
    expect(seen[2]!.seq).toBe(seen[0]!.seq + 1);
    const stored = await t.ctx.store.listCallEvents(callId, 0);
    expect(stored.find((e) => e.type === 'agent.interrupted')!.data).toMatchObject({ text: 'Hi, how can' });

    for (const v of [400, 600, 800, 1000]) host.recordTurn({ sttFinalMs: 100, llmFirstTokenMs: 200, voiceToVoiceMs: v });
    host.note('llm reconnected');
    await waitFor(async () => (await t.ctx.store.getCall(callId))!.notes.length === 1, 2000, 'note stored');
    const call = (await t.ctx.store.getCall(callId))!;
    expect(call.latency).toMatchObject({ turns: 4, p50Ms: 600, p95Ms: 1000 });
    expect(call.latency.recent).toHaveLength(4);
    expect(call.notes).toEqual(['llm reconnected']);
    expect(await metricValue(t.ctx, 'voxgate_turn_latency_ms_count', { part: 'voice_to_voice', engine: 'pipeline' })).toBe(4);
    expect(await metricValue(t.ctx, 'voxgate_turn_latency_ms_count', { part: 'stt_final' })).toBe(4);

    await unsubscribe();
    await carrier.hangup();
    await waitFor(() => t.ctx.calls.size === 0, 3000, 'ended');
    // The session's last writes did not clobber latency or notes.
    const ended = (await t.ctx.store.getCall(callId))!;
    expect(ended.latency.turns).toBe(4);
    expect(ended.notes).toEqual(['llm reconnected']);
  });

  it('ends a call whose media never connects, without overriding a status Twilio already set', async () => {
    await setup();
    t.ctx.calls.configure({ mediaConnectTimeoutMs: 100 });
    const agentOf = async (id: string) => (await t.ctx.store.getAgent(id))!;
    const { call: lost } = await createPhoneCall(t.ctx, { direction: 'outbound', status: 'ringing' });
    t.ctx.calls.announce({ call: lost, agent: await agentOf(lost.agentId), channel: 'phone' });
    const { call: busy } = await createPhoneCall(t.ctx, { direction: 'outbound', status: 'ringing' });
    t.ctx.calls.announce({ call: busy, agent: await agentOf(busy.agentId), channel: 'phone' });
    await t.ctx.store.transitionCall(busy.id, 'busy', { endReason: 'busy' });

    await waitFor(() => t.ctx.calls.size === 0, 3000, 'sessions timed out');
    expect(await t.ctx.store.getCall(lost.id)).toMatchObject({ status: 'failed', endReason: 'error:media_never_connected' });
    expect(await t.ctx.store.getCall(busy.id)).toMatchObject({ status: 'busy', endReason: 'busy' });
    expect(probes.get(lost.id)!.closed).toBe(true);
    expect(await metricValue(t.ctx, 'voxgate_active_calls')).toBe(0);
  });
});
