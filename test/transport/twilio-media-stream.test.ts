import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { createStreamToken } from '../../src/transport/twilio/index.js';
import { recordingPath } from '../../src/session/index.js';
import { channelRms, createPhoneCall, metricValue, soxi, toneEngineFactory, toneUlaw, waitFor, type ToneEngineProbe } from '../session/call-fixtures.js';

let t: TestApp;
let probes: Map<string, ToneEngineProbe>;
const carriers: TwilioCarrier[] = [];

async function connect(token: string | undefined, extra: Partial<Parameters<typeof TwilioCarrier.connect>[0]> = {}): Promise<TwilioCarrier> {
  const c = await TwilioCarrier.connect({ url: `${t.wsUrl}/twilio/media`, token, ...extra });
  carriers.push(c);
  return c;
}

beforeEach(async () => {
  t = await createTestApp();
  probes = new Map();
  t.ctx.calls.configure({ engineFactory: toneEngineFactory(600, probes) });
});

afterEach(async () => {
  for (const c of carriers.splice(0)) c.terminate();
  await t.close();
});

describe('Twilio media stream', () => {
  it('connects an announced call, greets with paced audio and marks, and records both sides', async () => {
    const { call, token } = await createPhoneCall(t.ctx);
    const agent = (await t.ctx.store.getAgent(call.agentId))!;
    t.ctx.calls.announce({ call, agent, channel: 'phone' });
    await waitFor(() => probes.get(call.id)?.prepared === true, 2000, 'prepare');

    const carrier = await connect(token, { keepHeardAudio: true });
    carrier.say(toneUlaw(1500, 440));
    await waitFor(() => probes.get(call.id)!.done.length === 1, 5000, 'greeting played');
    const probe = probes.get(call.id)!;
    expect(probe.started).toBe(true);
    expect(probe.done[0]).toEqual({ utteranceId: 'greeting', heardMs: 600, sentMs: 600 });

    // The carrier heard all 600 ms, byte for byte, with marks echoed along the way.
    expect(carrier.protocolErrors).toEqual([]);
    expect(carrier.playedBytes).toBe(4800);
    expect(Buffer.concat(carrier.heardAudio).equals(toneUlaw(600))).toBe(true);
    const echoed = carrier.marksEchoed.map((m) => m.name);
    expect(echoed.length).toBeGreaterThanOrEqual(6);
    expect(echoed.at(-1)).toBe('vg1:600:end');
    expect(carrier.marksEchoed.every((m) => !m.cleared)).toBe(true);

    const live = await t.ctx.store.getCall(call.id);
    expect(live!.status).toBe('in-progress');
    expect(live!.answeredAt).not.toBeNull();
    expect(await metricValue(t.ctx, 'voxgate_active_calls')).toBe(1);

    carrier.sendDtmf('5');
    await waitFor(() => probe.dtmf.length === 1, 2000, 'dtmf');
    expect(probe.dtmf).toEqual(['5']);
    await waitFor(() => probe.framesIn >= 60, 5000, 'caller frames');

    await carrier.hangup();
    await waitFor(async () => (await t.ctx.store.getCall(call.id))!.status === 'completed', 3000, 'call completed');
    const ended = (await t.ctx.store.getCall(call.id))!;
    expect(ended.endReason).toBe('caller_hangup');
    expect(ended.recordingAvailable).toBe(true);
    expect(ended.twilioCallSid).toBe(carrier.callSid);
    expect(probe.closed).toBe(true);
    const events = await t.ctx.store.listCallEvents(call.id, 0);
    expect(events.map((e) => e.type)).toEqual(['call.status', 'call.status', 'call.ended']);
    expect(events[2]!.data).toMatchObject({ reason: 'caller_hangup', status: 'completed' });
    expect(t.ctx.calls.size).toBe(0);
    expect(await metricValue(t.ctx, 'voxgate_active_calls')).toBe(0);
    expect(await metricValue(t.ctx, 'voxgate_media_frames_in_total', { transport: 'twilio' })).toBe(carrier.framesSent);
    expect(await metricValue(t.ctx, 'voxgate_media_frames_out_total', { transport: 'twilio' })).toBe(30);
    expect(await metricValue(t.ctx, 'voxgate_calls_total', { direction: 'inbound' })).toBe(1);

    // Stereo, 8 kHz, 16-bit; the caller's 440 Hz on the left, the agent's greeting on the right.
    const file = recordingPath(t.dataDir, call.id);
    const info = soxi(file);
    expect(info).toMatchObject({ channels: 2, rate: 8000, bits: 16 });
    expect(Math.abs(info.samples - carrier.framesSent * 160)).toBeLessThanOrEqual(160 * 3);
    expect(channelRms(file, 1)).toBeGreaterThan(0.05);
    expect(channelRms(file, 2)).toBeGreaterThan(0.02);
  });

  it('announces the session itself when the webhook ran on another node', async () => {
    const { call, token } = await createPhoneCall(t.ctx);
    expect(t.ctx.calls.get(call.id)).toBeUndefined();
    const carrier = await connect(token);
    await waitFor(() => probes.get(call.id)?.done.length === 1, 5000, 'greeting played');
    expect(t.ctx.calls.get(call.id)).toBeDefined();
    await carrier.hangup();
  });

  it('closes with 1008 and counts a missing, forged, expired, reused or foreign token', async () => {
    const { call, token } = await createPhoneCall(t.ctx, { twilioCallSid: 'CA' + 'b'.repeat(32) });
    const cases: Array<{ token?: string; reason: string; callSid?: string }> = [
      { token: undefined, reason: 'token_missing' },
      { token: createStreamToken(Buffer.alloc(32, 1), { callId: call.id, expiresAt: new Date(Date.now() + 60_000) }), reason: 'token_invalid' },
      { token: token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA'), reason: 'token_invalid' },
      { token: 'garbage', reason: 'token_invalid' },
      { token: createStreamToken(t.ctx.secrets.tokenKey, { callId: call.id, expiresAt: new Date(Date.now() - 1000) }), reason: 'token_expired' },
      // A valid token, but Twilio says this stream belongs to another call.
      { token, reason: 'call_mismatch', callSid: 'CA' + 'c'.repeat(32) },
      { token: createStreamToken(t.ctx.secrets.tokenKey, { callId: 'call_00000000000000000000000000', expiresAt: new Date(Date.now() + 60_000) }), reason: 'call_mismatch' },
    ];
    for (const c of cases) {
      const carrier = await connect(c.token, { callSid: c.callSid ?? 'CA' + 'b'.repeat(32) });
      const closed = await carrier.closed;
      expect({ reason: c.reason, code: closed.code, text: closed.reason.split(':')[0] }).toEqual({ reason: c.reason, code: 1008, text: c.reason });
    }
    expect(await metricValue(t.ctx, 'voxgate_media_malformed_messages_total', { reason: 'token_invalid' })).toBe(3);
    expect(await metricValue(t.ctx, 'voxgate_media_malformed_messages_total', { reason: 'call_mismatch' })).toBe(2);
    expect(await metricValue(t.ctx, 'voxgate_media_malformed_messages_total', { reason: 'token_expired' })).toBe(1);
    expect(await metricValue(t.ctx, 'voxgate_media_malformed_messages_total', { reason: 'token_missing' })).toBe(1);

    // The right stream gets in; a second stream with the same token is refused.
    const good = await connect(token, { callSid: 'CA' + 'b'.repeat(32) });
    await waitFor(() => probes.get(call.id)?.started === true, 3000, 'first stream attached');
    const replay = await connect(token, { callSid: 'CA' + 'b'.repeat(32) });
    const closed = await replay.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^token_reused/);
    expect(good.open).toBe(true);
    await good.hangup();
    // An ended call cannot be joined again.
    const late = await connect(token, { callSid: 'CA' + 'b'.repeat(32) });
    expect((await late.closed).reason).toMatch(/^call_mismatch/);
  });

  it('closes a stream that talks before start, or sends no start at all', async () => {
    const early = await connect(undefined, { skipStart: true });
    early.sendRaw(JSON.stringify({ event: 'media', sequenceNumber: '2', streamSid: early.streamSid, media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '////' } }));
    const closed = await early.closed;
    expect(closed).toMatchObject({ code: 1008 });
    expect(closed.reason).toMatch(/^media_before_start/);
    expect(await metricValue(t.ctx, 'voxgate_media_malformed_messages_total', { reason: 'media_before_start' })).toBe(1);

    const junk = await connect(undefined, { skipStart: true });
    junk.sendRaw('{nope');
    expect((await junk.closed).code).toBe(1008);
  });

  it('refuses new streams with 1013 while draining', async () => {
    const { token } = await createPhoneCall(t.ctx);
    t.ctx.draining = true;
    const c = await connect(token);
    expect(await c.closed).toEqual({ code: 1013, reason: 'gateway draining' });
  });
});
