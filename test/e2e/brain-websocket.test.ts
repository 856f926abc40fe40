/**
 * A WebSocket brain (API.md, "WebSocket") on a web call (a `ws` client speaking the browser's
 * media protocol: 20 ms PCM16 frames, paced in real time) and on phone calls (the Twilio
 * carrier simulator), with a `ws` server playing the user's brain: the signed connection opened
 * when media connects, `call_started`, greeting and caller turns, `say` inside and outside a
 * turn, stale `turnId`s dropped, `interrupted` with the heard text, `end_call`, `call_ended`,
 * one reconnect, then the apology and `error:conversation_server`.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { FakeTwilioRest, parseStream } from '../fakes/twilio-rest.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { expectedSignature, startFakeBrain, type BrainSocket, type FakeBrain } from '../fakes/brain-server.js';
import { readPcm16Fixture, readUlawFixture } from '../helpers/fixtures.js';
import { APOLOGY } from '../../src/engine/pipeline.js';

const poll = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout, interval: 25 });
const CALL_TIMEOUT = 90_000;
const MS_PER_CHAR = 20;
const NUMBER = '+14155550162';
const SECRET = 'ws-brain-secret';

let twilio: FakeTwilioRest;
let dg: FakeDeepgram;
let el: FakeElevenLabs;
let brain: FakeBrain;
let t: TestApp;
let agentId: string;
const closers: Array<() => void> = [];

beforeAll(async () => {
  twilio = await new FakeTwilioRest().start();
  [dg, el, brain] = await Promise.all([startFakeDeepgram({ transcripts: [] }), startFakeElevenLabs({ msPerChar: MS_PER_CHAR }), startFakeBrain()]);
  t = await createTestApp({
    // The tests poll the transcript API often; the per-key limit is not what they test.
    env: { ...twilio.env(), DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_URL: dg.url, ELEVENLABS_API_KEY: 'el-test', ELEVENLABS_BASE_URL: el.url, RATE_LIMIT_RPM: '100000' },
  });
  const agent = await t.api('POST', '/v1/agents', {
    name: 'Socket brain',
    architecture: 'pipeline',
    systemPrompt: 'unused',
    stt: 'deepgram',
    tts: 'elevenlabs',
    voiceId: 'voice-e2e',
    active: true,
    llm: { provider: 'websocket', url: `${brain.wsUrl}/agent`, secretEnv: 'WS_SECRET' },
  });
  expect(agent.status).toBe(201);
  agentId = agent.body.id;
  expect((await t.api('PUT', `/v1/agents/${agentId}/env-vars/WS_SECRET`, { value: SECRET })).status).toBeLessThan(300);
  expect((await t.api('POST', '/v1/phone-numbers', { phoneNumber: NUMBER, agentId })).status).toBe(201);
});

afterAll(async () => {
  for (const c of closers) c();
  await t?.close();
  await Promise.all([twilio?.close(), dg?.close(), el?.close(), brain?.close()]);
});

type Item = { role: string; text: string; interrupted?: boolean };
const items = async (callId: string): Promise<Item[]> => (await t.api('GET', `/v1/calls/${callId}/transcript`)).body.items;
const texts = async (callId: string, role: string) => (await items(callId)).filter((i) => i.role === role).map((i) => i.text);
const callJson = async (callId: string) => (await t.api('GET', `/v1/calls/${callId}`)).body;

/** The brain socket of a call, once connected. */
async function socketOf(callId: string, nth = 0): Promise<BrainSocket> {
  await poll(() => brain.sockets.filter((s) => s.query.callId === callId).length).toBeGreaterThan(nth);
  return brain.sockets.filter((s) => s.query.callId === callId)[nth]!;
}

/** A browser-less web caller: 20 ms PCM16 frames in real time, silence between utterances. */
class WebCaller {
  private queue: Int16Array[] = [];
  private readonly timer: NodeJS.Timeout;
  readonly closed: Promise<{ code: number; reason: string }>;
  bytesReceived = 0;
  constructor(readonly ws: WebSocket) {
    const silence = new Int16Array(320);
    this.timer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(Buffer.from((this.queue.shift() ?? silence).buffer));
    }, 20);
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.bytesReceived += (data as Buffer).length;
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => (clearInterval(this.timer), resolve({ code, reason: reason.toString() }))));
    closers.push(() => (clearInterval(this.timer), ws.terminate()));
  }
  say(pcm: Int16Array): void {
    for (let i = 0; i + 320 <= pcm.length; i += 320) this.queue.push(pcm.slice(i, i + 320));
  }
}

function callerWillSay(text: string): void {
  dg.options.transcripts = [];
  dg.options.fallbackTranscript = text;
}

describe('WebSocket brain', () => {
  it('web call: signed connection, call_started, greeting, stale turn dropped, say in and out of a turn, end_call', { timeout: CALL_TIMEOUT }, async () => {
    brain.onSocket = (s) => {
      s.ws.on('message', (raw) => {
        const m = JSON.parse(String(raw));
        if (m.type !== 'turn') return;
        if (m.text === null) {
          // A chunk for a turn that is not the latest is never spoken.
          s.send({ type: 'response', turnId: 'not-this-one', text: 'STALE WORDS', final: true });
          s.send({ type: 'response', turnId: m.turnId, text: 'Welcome to the socket. ', final: false });
          s.send({ type: 'response', turnId: m.turnId, text: 'Ask me anything.', final: true });
        } else {
          s.send({ type: 'say', text: 'One moment. ' });
          setTimeout(() => s.send({ type: 'response', turnId: m.turnId, text: 'It is noon.', final: true }), 300);
        }
      });
    };
    const created = await t.api('POST', '/v1/web-calls', { agentId });
    expect(created.status).toBe(201);
    const { callId, websocketUrl } = created.body as { callId: string; websocketUrl: string };
    const ws = new WebSocket(websocketUrl);
    await new Promise((r) => ws.once('open', r));
    const caller = new WebCaller(ws);

    // Opened when media connected, signed over the call id, and told about the call first.
    const s = await socketOf(callId);
    const ts = String(s.headers['x-voxgate-timestamp']);
    expect(s.headers['x-voxgate-signature']).toBe(expectedSignature(SECRET, ts, callId));
    const started = await s.next((m) => m.type === 'call_started');
    expect(started.call).toMatchObject({ id: callId, agentId, direction: 'web' });
    expect(s.messages[0]!.type).toBe('call_started');
    const greetTurn = await s.next((m) => m.type === 'turn');
    expect(greetTurn).toMatchObject({ text: null, reason: 'call_started', transcript: [] });

    await poll(() => texts(callId, 'agent')).toEqual(['Welcome to the socket. Ask me anything.']);
    expect(el.ws.some((c) => c.text.includes('STALE'))).toBe(false);
    expect((await texts(callId, 'system')).join('\n')).toMatch(/dropped a response for turn "not-this-one"/);
    await poll(() => caller.bytesReceived).toBeGreaterThan(0);

    // A caller turn: `say` during the turn is part of the answer.
    callerWillSay('What time is it?');
    caller.say(readPcm16Fixture('question'));
    const asked = await s.next((m) => m.type === 'turn' && m.text === 'What time is it?', 30_000);
    expect(asked.transcript).toEqual([
      { role: 'agent', text: 'Welcome to the socket. Ask me anything.' },
      { role: 'user', text: 'What time is it?' },
    ]);
    await poll(() => texts(callId, 'agent'), 30_000).toEqual(['Welcome to the socket. Ask me anything.', 'One moment. It is noon.']);

    // Garbage is ignored and said so; the call goes on.
    s.ws.send('this is not json');
    s.ws.send(Buffer.from([1, 2, 3]));
    s.send({ type: 'dance', turnId: asked.turnId });
    s.send({ type: 'response', text: 'no turn id' });
    await poll(async () => (await texts(callId, 'system')).join('\n')).toMatch(/unknown type "dance"/);
    const system = (await texts(callId, 'system')).join('\n');
    expect(system).toMatch(/not a JSON object was ignored/);
    expect(system).toMatch(/binary frame was ignored/);
    expect((await callJson(callId)).status).toBe('in-progress');

    // Unprompted speech between turns, then the server ends the call with a goodbye.
    s.send({ type: 'say', text: 'By the way, we close early today.' });
    await poll(() => texts(callId, 'agent')).toHaveLength(3);
    s.send({ type: 'end_call', text: 'Goodbye.' });
    await poll(() => texts(callId, 'agent')).toHaveLength(4);
    expect((await texts(callId, 'agent')).slice(2)).toEqual(['By the way, we close early today.', 'Goodbye.']);
    expect((await caller.closed).code).toBe(1000);
    await poll(async () => (await callJson(callId)).status).toBe('completed');
    expect(await callJson(callId)).toMatchObject({ endReason: 'agent_hangup', direction: 'web' });
    await s.next((m) => m.type === 'call_ended');
    expect(s.messages.find((m) => m.type === 'call_ended')).toEqual({ type: 'call_ended', endReason: 'agent_hangup' });
    await poll(() => s.closed).toBe(true);
  });

  it('phone barge-in: interrupted carries the heard text; later chunks for that turn are dropped', { timeout: CALL_TIMEOUT }, async () => {
    const LONG = 'Our menu has soups, salads, sandwiches, pastas, pizzas, grilled fish, roast chicken, three vegan bowls, a kids menu, and a long list of desserts.';
    brain.onSocket = (s) => {
      s.ws.on('message', (raw) => {
        const m = JSON.parse(String(raw));
        if (m.type === 'turn' && m.text === null) s.send({ type: 'response', turnId: m.turnId, text: 'Hi.', final: true });
        else if (m.type === 'turn' && m.text.includes('menu')) s.send({ type: 'response', turnId: m.turnId, text: LONG, final: false });
        else if (m.type === 'turn') s.send({ type: 'response', turnId: m.turnId, text: 'Weekends too.', final: true });
        else if (m.type === 'interrupted') s.send({ type: 'response', turnId: m.turnId, text: 'LATE CHUNK for the old turn.', final: true });
      });
    };
    const inbound = await twilio.inboundCall(`${t.baseUrl}/twilio/voice`, { from: '+14155550100', to: NUMBER });
    const stream = parseStream(inbound.responseBody)!;
    await twilio.answer(inbound.call.sid);
    const callId = (await t.ctx.store.getCallByTwilioSid(inbound.call.sid))!.id;
    const carrier = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid: inbound.call.sid, accountSid: twilio.accountSid });
    closers.push(() => carrier.terminate());
    const s = await socketOf(callId);
    await poll(() => texts(callId, 'agent')).toEqual(['Hi.']);

    dg.options.transcripts = [];
    dg.options.fallbackTranscript = 'Tell me about the menu.';
    carrier.say(readUlawFixture('question'));
    const menuTurn = await s.next((m) => m.type === 'turn' && String(m.text).includes('menu'), 30_000);
    await poll(() => el.ws.some((c) => c.text.includes('soups'))).toBe(true);
    const start = carrier.playedBytes;
    await poll(() => carrier.playedBytes - start > 8 * 1200).toBe(true);
    dg.options.fallbackTranscript = 'What about weekends?';
    carrier.say(readUlawFixture('long'));
    await poll(() => carrier.clearsAtMs.length).toBe(1);

    const interrupted = await s.next((m) => m.type === 'interrupted');
    expect(interrupted.turnId).toBe(menuTurn.turnId);
    expect(interrupted.heardText.length).toBeGreaterThan(0);
    expect(LONG.startsWith(interrupted.heardText)).toBe(true);
    await poll(async () => (await items(callId)).filter((i) => i.role === 'agent')[1]).toMatchObject({ interrupted: true, text: interrupted.heardText });

    await poll(() => texts(callId, 'agent'), 30_000).toContain('Weekends too.');
    expect(el.ws.some((c) => c.text.includes('LATE CHUNK'))).toBe(false);
    expect((await texts(callId, 'agent')).join(' ')).not.toContain('LATE CHUNK');
    expect((await texts(callId, 'system')).join('\n')).toMatch(new RegExp(`dropped a response for turn "${menuTurn.turnId}"`));
    await carrier.hangup();
    await poll(async () => (await callJson(callId)).endReason).toBe('caller_hangup');
  });

  it('a dropped connection (here: a 10 MB frame) is retried once; when the retry fails the caller hears an apology and the call ends as error:conversation_server', { timeout: CALL_TIMEOUT }, async () => {
    let connections = 0;
    brain.onSocket = (s) => {
      connections++;
      if (connections === 1) {
        // The first connection sends 10 MB instead of an answer: voxgate's client refuses the
        // frame (over its 1 MiB cap) and the greeting turn is resent on the next one.
        void s.next((m) => m.type === 'turn').then(() => s.ws.send('x'.repeat(10 * 1024 * 1024)));
        return;
      }
      s.ws.on('message', (raw) => {
        const m = JSON.parse(String(raw));
        if (m.type === 'turn') s.send({ type: 'response', turnId: m.turnId, text: 'Back again.', final: true });
      });
    };
    const inbound = await twilio.inboundCall(`${t.baseUrl}/twilio/voice`, { from: '+14155550100', to: NUMBER });
    const stream = parseStream(inbound.responseBody)!;
    await twilio.answer(inbound.call.sid);
    const callId = (await t.ctx.store.getCallByTwilioSid(inbound.call.sid))!.id;
    const carrier = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid: inbound.call.sid, accountSid: twilio.accountSid });
    closers.push(() => carrier.terminate());

    await poll(() => texts(callId, 'agent')).toEqual(['Back again.']);
    const second = await socketOf(callId, 1);
    expect(second.messages[0]!.type).toBe('call_started');
    expect((await texts(callId, 'system')).join('\n')).toMatch(/the connection closed \(1006: Max payload size exceeded\); reconnecting/);
    expect((await callJson(callId)).status).toBe('in-progress');

    // Now the server goes away for good.
    brain.refuseUpgrades = 503;
    try {
      second.ws.close(1011, 'gone');
      expect(await carrier.closed).toMatchObject({ reason: 'error:conversation_server' });
      await poll(async () => (await callJson(callId)).endReason).toBe('error:conversation_server');
      expect(await texts(callId, 'agent')).toEqual(['Back again.', APOLOGY]);
      expect((await texts(callId, 'system')).join('\n')).toMatch(/could not connect \(.*503.*\); gave up after one retry/);
    } finally {
      brain.refuseUpgrades = null;
    }
  });
});
