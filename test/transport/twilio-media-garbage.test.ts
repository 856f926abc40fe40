import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { recordingPath } from '../../src/session/index.js';
import type { MalformedReason } from '../../src/metrics/index.js';
import { createPhoneCall, metricValue, soxi, toneEngineFactory, toneUlaw, waitFor, type ToneEngineProbe } from '../session/call-fixtures.js';

let t: TestApp;
let probes: Map<string, ToneEngineProbe>;
const carriers: TwilioCarrier[] = [];

beforeEach(async () => {
  t = await createTestApp();
  probes = new Map();
  t.ctx.calls.configure({ engineFactory: toneEngineFactory(2000, probes) });
});

afterEach(async () => {
  for (const c of carriers.splice(0)) c.terminate();
  await t.close();
});

async function liveCall(): Promise<{ carrier: TwilioCarrier; callId: string }> {
  const { call, token } = await createPhoneCall(t.ctx);
  const carrier = await TwilioCarrier.connect({ url: `${t.wsUrl}/twilio/media`, token });
  carriers.push(carrier);
  await waitFor(() => probes.get(call.id)?.started === true, 3000, 'attached');
  return { carrier, callId: call.id };
}

/** One malformed message of each kind, as a peer that does not speak Twilio might send. */
function garbage(sid: string): Array<[MalformedReason, string | Buffer]> {
  const media = (payload: string, streamSid = sid) =>
    JSON.stringify({ event: 'media', sequenceNumber: '9', streamSid, media: { track: 'inbound', chunk: '1', timestamp: '0', payload } });
  return [
    ['invalid_json', '{"event":"media",'],
    ['unknown_event', JSON.stringify({ event: 'party', sequenceNumber: '9', streamSid: sid })],
    ['missing_field', JSON.stringify({ event: 'media', sequenceNumber: '9', streamSid: sid, media: { timestamp: '0' } })],
    ['bad_payload', media('this is not base64!!')],
    ['oversized', media(Buffer.alloc(9000, 0x55).toString('base64'))],
    ['binary_frame', Buffer.from([1, 2, 3, 4])],
    ['wrong_stream', media('////', 'MZ' + 'f'.repeat(32))],
    [
      'duplicate_start',
      JSON.stringify({
        event: 'start',
        sequenceNumber: '1',
        streamSid: sid,
        start: { accountSid: 'AC1', streamSid: sid, callSid: 'CA1', tracks: ['inbound'], customParameters: {} },
      }),
    ],
  ];
}

describe('Twilio media stream under garbage', () => {
  it('counts 2,000 malformed messages of each kind by reason while both calls go on', async () => {
    const good = await liveCall();
    const bad = await liveCall();
    good.carrier.say(toneUlaw(4000, 440));
    const goodProbe = probes.get(good.callId)!;
    const badProbe = probes.get(bad.callId)!;
    const kinds = garbage(bad.carrier.streamSid);
    const validFrame = toneUlaw(20, 300);
    let validSent = 0;
    for (const [, msg] of kinds) {
      for (let i = 0; i < 2000; i++) {
        bad.carrier.sendRaw(msg, Buffer.isBuffer(msg));
        // A valid frame every 25 garbage messages: a noisy peer, not a storm (policy: > 50 in a row).
        if (i % 25 === 24) {
          bad.carrier.blast(validFrame);
          validSent++;
        }
        if (i % 250 === 249) await new Promise((r) => setTimeout(r, 5));
      }
    }
    for (const [reason] of kinds) {
      await waitFor(async () => (await metricValue(t.ctx, 'voxgate_media_malformed_messages_total', { reason })) >= 2000, 10_000, reason);
    }
    for (const [reason] of kinds) {
      expect({ reason, n: await metricValue(t.ctx, 'voxgate_media_malformed_messages_total', { reason }) }).toEqual({ reason, n: 2000 });
    }
    // The noisy call is alive and its valid frames all reached the engine.
    expect(bad.carrier.open).toBe(true);
    await waitFor(() => badProbe.framesIn >= validSent, 5000, 'valid frames of the noisy call');

    // The good call heard its whole greeting, every byte of it (underruns are a timing matter:
    // bench/ measures them; this machine may be shared).
    await waitFor(() => goodProbe.done.length === 1, 8000, 'greeting of the good call');
    expect(goodProbe.done[0]).toEqual({ utteranceId: 'greeting', heardMs: 2000, sentMs: 2000 });
    expect(good.carrier.playedBytes).toBe(16000);
    expect(good.carrier.protocolErrors).toEqual([]);
    expect(good.carrier.open).toBe(true);

    await good.carrier.hangup();
    await bad.carrier.hangup();
    await waitFor(() => t.ctx.calls.size === 0, 3000, 'calls ended');
    for (const { callId } of [good, bad]) {
      const call = (await t.ctx.store.getCall(callId))!;
      expect(call).toMatchObject({ status: 'completed', endReason: 'caller_hangup', recordingAvailable: true });
      const info = soxi(recordingPath(t.dataDir, callId));
      expect(info).toMatchObject({ channels: 2, rate: 8000, bits: 16 });
    }
    const goodInfo = soxi(recordingPath(t.dataDir, good.callId));
    expect(Math.abs(goodInfo.samples - good.carrier.framesSent * 160)).toBeLessThanOrEqual(480);
  });

  it('closes a stream after more than 50 malformed messages in a row', async () => {
    const noisy = await liveCall();
    for (let i = 0; i < 51; i++) noisy.carrier.sendRaw('{"event":');
    const closed = await noisy.carrier.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/too many malformed messages in a row/);
    await waitFor(async () => (await t.ctx.store.getCall(noisy.callId))!.status === 'completed', 3000, 'call ended');
    expect(await metricValue(t.ctx, 'voxgate_media_malformed_messages_total', { reason: 'invalid_json' })).toBe(51);
  });

  it('drops one malformed message and keeps the call', async () => {
    const call = await liveCall();
    for (let i = 0; i < 50; i++) call.carrier.sendRaw('not json');
    call.carrier.blast(toneUlaw(20));
    call.carrier.sendRaw('not json');
    await waitFor(async () => (await metricValue(t.ctx, 'voxgate_media_malformed_messages_total', { reason: 'invalid_json' })) === 51, 3000, 'counted');
    expect(call.carrier.open).toBe(true);
    expect(t.ctx.calls.get(call.callId)).toBeDefined();
  });
});
