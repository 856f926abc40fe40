/**
 * Calls to an xAI realtime agent end to end (issue 17): the whole gateway, configured only
 * with XAI_API_KEY / XAI_REALTIME_URL, against the realtime fake in its xAI dialect. A phone
 * call (fake Twilio REST + carrier simulator, μ-law passthrough both ways) and a web call (a ws
 * client standing in for the page, PCM16 16 kHz ⇄ xAI's 24 kHz), each with a barge-in: xAI has
 * no truncate event, so the model is told what was heard and the transcript is cut from marks.
 * The stages of each call share it; a failure early makes the later ones fail too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { FakeTwilioRest, parseStream } from '../fakes/twilio-rest.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { startFakeRealtime, type FakeRealtimeConnection, type FakeRealtimeServer, type ResponderContext, type ScriptedRealtimeResponse } from '../fakes/openai-realtime.js';
import { readPcm16Fixture, readUlawFixture } from '../helpers/fixtures.js';
import { WebClient } from '../web/web-fixtures.js';
import { pcm16ToBuffer } from '../../src/media/index.js';

const poll = <T>(fn: () => T | Promise<T>, timeout = 30_000) => expect.poll(fn, { timeout, interval: 25 });
const STAGE_TIMEOUT = 120_000;

const GREETING = 'Hello, this is Grok at Bella Napoli.';
const BOOK_Q = 'Can I book a table for two tomorrow at seven?';
const INTERRUPT_Q = 'Actually, make it eight instead.';
const LONG_ANSWER =
  'Your table for two tomorrow at seven is booked under reference B K forty two. We will hold it for fifteen minutes, the terrace is open if the weather is good, and parking is free after six.';
const SHORT_REPLY = 'Of course, eight it is.';
const GREETING_MS = 1600;
/** Produced at twice real time (the fake's pace): still streaming when the caller cuts in. */
const LONG_ANSWER_MS = 12_000;
const SHORT_REPLY_MS = 1200;

function responder(ctx: ResponderContext): ScriptedRealtimeResponse {
  if (ctx.trigger === 'response.create') {
    if (ctx.instructions?.includes(GREETING)) return { transcript: GREETING, audioMs: GREETING_MS };
    return { transcript: 'Unexpected response.create.', audioMs: 500 };
  }
  if (ctx.userText === BOOK_Q) return { transcript: LONG_ANSWER, audioMs: LONG_ANSWER_MS };
  if (ctx.userText === INTERRUPT_Q) return { transcript: SHORT_REPLY, audioMs: SHORT_REPLY_MS };
  return { transcript: `Unexpected turn: ${String(ctx.userText)}`, audioMs: 500 };
}

let twilio: FakeTwilioRest;
let rt: FakeRealtimeServer;
let t: TestApp;
let agentId: string;

function deltaBytes(conn: FakeRealtimeConnection, itemId: string): Buffer {
  return Buffer.concat(
    conn.sent.filter((e) => e['type'] === 'response.output_audio.delta' && e['item_id'] === itemId).map((e) => Buffer.from(String(e['delta']), 'base64')),
  );
}
const assistant = (conn: FakeRealtimeConnection, text: string) => conn.items.find((i) => i.role === 'assistant' && i.text === text);
const transcriptOf = async (callId: string): Promise<Array<{ role: string; text: string; interrupted?: boolean }>> =>
  (await t.api('GET', `/v1/calls/${callId}/transcript`)).body.items;

/** What every barge-in on xAI leaves behind: no truncate, a system item with the heard words, a cut transcript. */
async function checkBargeIn(conn: FakeRealtimeConnection, callId: string): Promise<string> {
  await poll(async () => (await transcriptOf(callId)).filter((i) => i.role === 'agent').length).toBeGreaterThanOrEqual(2);
  const cut = (await transcriptOf(callId)).filter((i) => i.role === 'agent')[1]!;
  expect(cut.interrupted).toBe(true);
  expect(cut.text.length).toBeGreaterThan(0);
  expect(LONG_ANSWER.startsWith(cut.text)).toBe(true);
  expect(cut.text.length).toBeLessThan(LONG_ANSWER.length / 2);
  expect(conn.eventsOf('conversation.item.truncate')).toEqual([]);
  const note = conn.eventsOf('conversation.item.create').find((e) => e.item.role === 'system');
  expect(note!.item.content[0].text).toContain(`"${cut.text.trim()}"`);
  expect(conn.cancels.length).toBeGreaterThanOrEqual(1);
  return cut.text;
}

beforeAll(async () => {
  twilio = await new FakeTwilioRest().start();
  rt = await startFakeRealtime({ dialect: 'xai', apiKey: 'xai-test', responder });
  rt.deltasAfterCancel = 2;
  // No OPENAI_API_KEY at all: the xAI agent needs only its own provider.
  t = await createTestApp({ env: { ...twilio.env(), XAI_API_KEY: 'xai-test', XAI_REALTIME_URL: rt.url } });
  const agent = await t.api('POST', '/v1/agents', {
    name: 'Bella Napoli on Grok',
    architecture: 'realtime',
    realtimeProvider: 'xai',
    systemPrompt: 'You answer the phone for {{restaurant}}. Be brief.',
    firstMessage: GREETING,
    voiceId: 'Eve',
    variables: { restaurant: 'Bella Napoli' },
    turnDetection: { silenceMs: 500 },
    active: true,
  });
  expect(agent.status).toBe(201);
  agentId = agent.body.id;
}, STAGE_TIMEOUT);

afterAll(async () => {
  await t?.close();
  await Promise.all([twilio?.close(), rt?.close()]);
});

describe('phone call to an xAI realtime agent', () => {
  let carrier: TwilioCarrier;
  let conn: FakeRealtimeConnection;
  let callId: string;
  let playedAtClear = 0;

  afterAll(() => carrier?.terminate());

  it('opens an xAI session with μ-law both ways, the voice and server VAD at the top level', { timeout: STAGE_TIMEOUT }, async () => {
    rt.userTranscripts.push(BOOK_Q, INTERRUPT_Q);
    expect((await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550177', agentId })).status).toBe(201);
    const inbound = await twilio.inboundCall(`${t.baseUrl}/twilio/voice`, { from: '+14155550100', to: '+14155550177' });
    expect(inbound.responseStatus).toBe(200);
    const stream = parseStream(inbound.responseBody)!;
    callId = (await t.ctx.store.getCallByTwilioSid(inbound.call.sid))!.id;
    carrier = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid: inbound.call.sid, accountSid: twilio.accountSid, keepHeardAudio: true });
    carrier.ws.on('message', (data: Buffer) => {
      if (data.includes('"clear"') && playedAtClear === 0) playedAtClear = carrier.playedBytes;
    });
    conn = await poll(() => rt.connections[0]).toBeDefined().then(() => rt.connections[0]!);
    expect(conn.model).toBe('grok-voice-think-fast-1.0');
    await poll(() => conn.eventsOf('session.update').length).toBeGreaterThan(0);
    const session = conn.eventsOf('session.update')[0]!['session'];
    expect(session).toMatchObject({
      instructions: 'You answer the phone for Bella Napoli. Be brief.',
      voice: 'Eve',
      turn_detection: { type: 'server_vad', silence_duration_ms: 500 },
      audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } },
    });
    expect(session.type).toBeUndefined();
    expect(session.tools.map((x: { name: string }) => x.name)).toEqual(['end_call', 'transfer_call']);
    await poll(() => conn.sent.some((e) => e['type'] === 'session.updated')).toBe(true);
  });

  it("plays the greeting: the carrier hears exactly xAI's μ-law bytes", { timeout: STAGE_TIMEOUT }, async () => {
    const greeting = await poll(() => assistant(conn, GREETING)).toBeDefined().then(() => assistant(conn, GREETING)!);
    await poll(() => carrier.playedBytes).toBe(GREETING_MS * 8);
    expect(Buffer.concat(carrier.heardAudio).equals(deltaBytes(conn, greeting.id))).toBe(true);
    await poll(async () => (await transcriptOf(callId)).map((i) => [i.role, i.text])).toEqual([['agent', GREETING]]);
  });

  it('passes the caller through untouched and is cut off by the caller: clear, cancel, heard words to the model', { timeout: STAGE_TIMEOUT }, async () => {
    const question = readUlawFixture('question');
    carrier.say(question);
    await poll(async () => (await transcriptOf(callId)).filter((i) => i.role === 'user').map((i) => i.text)).toEqual([BOOK_Q]);
    expect(Buffer.concat(conn.inputChunks).includes(question.subarray(0, question.length - (question.length % 160)))).toBe(true);
    await poll(() => assistant(conn, LONG_ANSWER)).toBeDefined();
    await poll(() => carrier.playedBytes - GREETING_MS * 8 >= 1500 * 8).toBe(true);
    carrier.say(readUlawFixture('long'));
    await poll(() => carrier.clearsAtMs.length).toBe(1);
    await checkBargeIn(conn, callId);
    // The interruption is answered and that reply plays in full, after what was heard of the answer.
    await poll(async () => (await transcriptOf(callId)).filter((i) => i.role === 'user').map((i) => i.text)).toEqual([BOOK_Q, INTERRUPT_Q]);
    const reply = await poll(() => assistant(conn, SHORT_REPLY)).toBeDefined().then(() => assistant(conn, SHORT_REPLY)!);
    await poll(() => carrier.playedBytes).toBe(playedAtClear + SHORT_REPLY_MS * 8);
    expect(Buffer.concat(carrier.heardAudio).subarray(playedAtClear).equals(deltaBytes(conn, reply.id))).toBe(true);
    expect(carrier.protocolErrors).toEqual([]);
  });

  it('ends on hang-up with the transcript as heard', { timeout: STAGE_TIMEOUT }, async () => {
    await carrier.hangup();
    await poll(async () => (await t.ctx.store.getCall(callId))!.status).toBe('completed');
    const items = await transcriptOf(callId);
    expect(items.filter((i) => i.role === 'agent').map((i) => i.interrupted ?? false)).toEqual([false, true, false]);
    expect((await t.api('GET', `/v1/calls/${callId}`)).body).toMatchObject({ endReason: 'caller_hangup', agentId });
    expect(conn.sent.filter((e) => e['type'] === 'error' && !String((e['error'] as any).message).includes('no active response'))).toEqual([]);
  });
});

describe('web call to an xAI realtime agent', () => {
  let client: WebClient;
  let conn: FakeRealtimeConnection;
  let callId: string;

  afterAll(() => client?.ws.terminate());

  /** Sends 16 kHz PCM16 in 20 ms frames at real time, as the page's worklet does. */
  async function speak(samples: Int16Array): Promise<void> {
    const bytes = Buffer.from(pcm16ToBuffer(samples));
    for (let off = 0; off + 640 <= bytes.length; off += 640) {
      client.send(bytes.subarray(off, off + 640));
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const silence = (ms: number) => new Int16Array(ms * 16);

  it('opens an xAI session with PCM16 at 24 kHz and plays the greeting to the page', { timeout: STAGE_TIMEOUT }, async () => {
    rt.userTranscripts.push(BOOK_Q, INTERRUPT_Q);
    const before = rt.connections.length;
    const created = await t.api('POST', '/v1/web-calls', { agentId });
    expect(created.status).toBe(201);
    callId = created.body.callId;
    client = await WebClient.open(created.body.websocketUrl);
    conn = await poll(() => rt.connections[before]).toBeDefined().then(() => rt.connections[before]!);
    await poll(() => conn.eventsOf('session.update').length).toBeGreaterThan(0);
    const session = conn.eventsOf('session.update')[0]!['session'];
    expect(session.audio).toEqual({ input: { format: { type: 'audio/pcm', rate: 24000 } }, output: { format: { type: 'audio/pcm', rate: 24000 } } });
    expect(session.tools.map((x: { name: string }) => x.name)).toEqual(['end_call']);
    await poll(() => assistant(conn, GREETING)).toBeDefined();
    // 1.6 s of 24 kHz audio reaches the page at 16 kHz: 32 bytes a ms (within a resampler tail).
    await poll(() => client.binary.reduce((n, b) => n + b.length, 0)).toBeGreaterThanOrEqual(GREETING_MS * 32 - 640);
    await poll(async () => (await transcriptOf(callId)).map((i) => [i.role, i.text])).toEqual([['agent', GREETING]]);
  });

  it('hears the caller at 24 kHz, and a barge-in clears the page and tells the model what was heard', { timeout: STAGE_TIMEOUT }, async () => {
    await speak(readPcm16Fixture('question'));
    await speak(silence(800));
    await poll(async () => (await transcriptOf(callId)).filter((i) => i.role === 'user').map((i) => i.text)).toEqual([BOOK_Q]);
    expect(conn.inputMs).toBeGreaterThan(1000);
    await poll(() => assistant(conn, LONG_ANSWER)).toBeDefined();
    await poll(() => (assistant(conn, LONG_ANSWER)?.audioMs ?? 0) >= 2000).toBe(true);
    await speak(readPcm16Fixture('long'));
    await poll(() => client.events('clear').length).toBeGreaterThan(0);
    await speak(silence(800));
    await checkBargeIn(conn, callId);
    await poll(async () => (await transcriptOf(callId)).filter((i) => i.role === 'agent').map((i) => i.text).at(-1)).toBe(SHORT_REPLY);
  });

  it('ends when the page hangs up', { timeout: STAGE_TIMEOUT }, async () => {
    client.send(JSON.stringify({ type: 'end' }));
    await poll(async () => (await t.ctx.store.getCall(callId))!.status).toBe('completed');
    expect((await t.api('GET', `/v1/calls/${callId}`)).body).toMatchObject({ direction: 'web', endReason: 'caller_hangup' });
  });
});
