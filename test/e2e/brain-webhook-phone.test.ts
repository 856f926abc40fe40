/**
 * A webhook brain (API.md, "Conversation servers: bring your own brain") on real phone calls:
 * the fake Twilio REST and carrier simulator, fake Deepgram and ElevenLabs, and a node:http
 * server playing the user's brain. The agent has no `firstMessage`, so every call starts with a
 * `turn` POST asking for the greeting: each response format and each fault is one short call.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { FakeTwilioRest, parseStream } from '../fakes/twilio-rest.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { answer, expectedSignature, startFakeBrain, type BrainRequest, type FakeBrain } from '../fakes/brain-server.js';
import { readUlawFixture } from '../helpers/fixtures.js';
import { BRAIN_APOLOGY } from '../../src/providers/llm/index.js';

const poll = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout, interval: 25 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CALL_TIMEOUT = 60_000;
const MS_PER_CHAR = 20;
const BYTES_PER_MS = 8;
const NUMBER = '+14155550161';
const CALLER = '+14155550100';
const TRANSFER_TO = '+14155550188';
const SECRET = 'brain-secret-7';

let twilio: FakeTwilioRest;
let dg: FakeDeepgram;
let el: FakeElevenLabs;
let brain: FakeBrain;
let t: TestApp;
let agentId: string;
const carriers: TwilioCarrier[] = [];

beforeAll(async () => {
  twilio = await new FakeTwilioRest().start();
  [dg, el, brain] = await Promise.all([startFakeDeepgram({ transcripts: [] }), startFakeElevenLabs({ msPerChar: MS_PER_CHAR }), startFakeBrain()]);
  t = await createTestApp({
    // The tests poll the transcript API often; the per-key limit is not what they test.
    env: { ...twilio.env(), DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_URL: dg.url, ELEVENLABS_API_KEY: 'el-test', ELEVENLABS_BASE_URL: el.url, RATE_LIMIT_RPM: '100000' },
  });
  // No OPENAI_API_KEY at all: a webhook brain needs no built-in LLM, and no `model`.
  const agent = await t.api('POST', '/v1/agents', {
    name: 'Own brain',
    architecture: 'pipeline',
    systemPrompt: 'unused by a conversation server',
    stt: 'deepgram',
    tts: 'elevenlabs',
    voiceId: 'voice-e2e',
    active: true,
    variables: { shop: 'Acme' },
    metadata: { team: 'support' },
    llm: { provider: 'webhook', url: `${brain.url}/brain`, secretEnv: 'BRAIN_SECRET' },
  });
  expect(agent.status).toBe(201);
  expect(agent.body.model).toBeNull();
  agentId = agent.body.id;
  expect((await t.api('PUT', `/v1/agents/${agentId}/env-vars/BRAIN_SECRET`, { value: SECRET })).status).toBeLessThan(300);
  expect((await t.api('POST', '/v1/phone-numbers', { phoneNumber: NUMBER, agentId })).status).toBe(201);
});

afterAll(async () => {
  for (const c of carriers) c.terminate();
  await t?.close();
  await Promise.all([twilio?.close(), dg?.close(), el?.close(), brain?.close()]);
});

interface LiveCall {
  callId: string;
  callSid: string;
  carrier: TwilioCarrier;
  /** Brain requests made before this call. */
  from: number;
}

async function inboundCall(): Promise<LiveCall> {
  const from = brain.requests.length;
  const inbound = await twilio.inboundCall(`${t.baseUrl}/twilio/voice`, { from: CALLER, to: NUMBER });
  expect(inbound.responseStatus).toBe(200);
  const stream = parseStream(inbound.responseBody)!;
  await twilio.answer(inbound.call.sid);
  const callId = (await t.ctx.store.getCallByTwilioSid(inbound.call.sid))!.id;
  const carrier = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid: inbound.call.sid, accountSid: twilio.accountSid });
  carriers.push(carrier);
  return { callId, callSid: inbound.call.sid, carrier, from };
}

function turnsOf(call: LiveCall): BrainRequest[] {
  return brain.requests.slice(call.from).filter((r) => r.json.type === 'turn' && r.json.callId === call.callId);
}

function callerSays(carrier: TwilioCarrier, text: string): void {
  dg.options.transcripts = [];
  dg.options.fallbackTranscript = text;
  carrier.say(readUlawFixture('question'));
}

type Item = { role: string; text: string; interrupted?: boolean };
async function items(callId: string): Promise<Item[]> {
  return (await t.api('GET', `/v1/calls/${callId}/transcript`)).body.items;
}
const texts = async (callId: string, role: string) => (await items(callId)).filter((i) => i.role === role).map((i) => i.text);

async function hangUp(call: LiveCall): Promise<void> {
  await call.carrier.hangup();
  await poll(async () => (await t.api('GET', `/v1/calls/${call.callId}`)).body.status).toBe('completed');
}

/** A turn failed: the caller heard the apology, a `system` item says why, the call is still up. */
async function expectApology(call: LiveCall, why: RegExp): Promise<void> {
  await poll(() => texts(call.callId, 'agent')).toEqual([BRAIN_APOLOGY]);
  expect((await texts(call.callId, 'system')).join('\n')).toMatch(why);
  expect(call.carrier.open).toBe(true);
  expect((await t.api('GET', `/v1/calls/${call.callId}`)).body.status).toBe('in-progress');
  expect(call.carrier.playedBytes).toBeGreaterThanOrEqual(BRAIN_APOLOGY.length * MS_PER_CHAR * BYTES_PER_MS * 0.9);
}

describe('webhook brain on inbound phone calls', () => {
  it('JSON greeting: the signed turn carries the documented payload; call.started and call.ended notices follow', { timeout: CALL_TIMEOUT }, async () => {
    const GREETING = 'Hello from your own brain.';
    brain.onTurn = (_req, res) => answer.json(res, { text: GREETING });
    const call = await inboundCall();
    await poll(() => texts(call.callId, 'agent')).toEqual([GREETING]);
    expect(call.carrier.playedBytes).toBeGreaterThanOrEqual(GREETING.length * MS_PER_CHAR * BYTES_PER_MS * 0.9);

    const [turn] = turnsOf(call);
    expect(turn!.path).toBe('/brain');
    expect(turn!.headers['content-type']).toBe('application/json');
    expect(turn!.json).toEqual({
      type: 'turn',
      callId: call.callId,
      agentId,
      turnId: expect.any(String),
      text: null,
      reason: 'call_started',
      transcript: [],
      variables: { shop: 'Acme' },
      metadata: {},
      direction: 'inbound',
      fromNumber: CALLER,
      toNumber: NUMBER,
    });
    // The signature, recomputed here from the documented formula.
    const ts = String(turn!.headers['x-voxgate-timestamp']);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(120);
    expect(turn!.headers['x-voxgate-signature']).toBe(expectedSignature(SECRET, ts, turn!.body));

    await poll(() => brain.notices('call.started').filter((r) => r.json.callId === call.callId).length).toBe(1);
    const started = brain.notices('call.started').find((r) => r.json.callId === call.callId)!;
    expect(started.json).toMatchObject({ type: 'call.started', callId: call.callId, agentId, direction: 'inbound', fromNumber: CALLER, toNumber: NUMBER });
    expect(started.headers['x-voxgate-signature']).toBe(expectedSignature(SECRET, String(started.headers['x-voxgate-timestamp']), started.body));

    await hangUp(call);
    await poll(() => brain.notices('call.ended').filter((r) => r.json.callId === call.callId).length).toBe(1);
    const ended = brain.notices('call.ended').find((r) => r.json.callId === call.callId)!;
    expect(ended.json).toEqual({ type: 'call.ended', callId: call.callId, endReason: 'caller_hangup', durationSeconds: expect.any(Number), transcript: [{ role: 'agent', text: GREETING }] });
    expect(ended.headers['x-voxgate-signature']).toBe(expectedSignature(SECRET, String(ended.headers['x-voxgate-timestamp']), ended.body));
  });

  it('outbound call placed over the API: the brain greets, the turn says direction outbound', { timeout: CALL_TIMEOUT }, async () => {
    const GREETING = 'Hi, this is Acme calling you back.';
    brain.onTurn = (_req, res) => answer.json(res, { text: GREETING });
    const from = brain.requests.length;
    const TO = '+14155550199';
    const created = await t.api('POST', '/v1/calls', { agentId, toNumber: TO, variables: { reason: 'callback' } });
    expect(created.status).toBe(201);
    const { id: callId, twilioCallSid: sid } = created.body as { id: string; twilioCallSid: string };
    await twilio.ring(sid);
    await twilio.answer(sid);
    const stream = parseStream(twilio.calls.get(sid)!.twiml[0]!)!;
    const carrier = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid: sid, accountSid: twilio.accountSid });
    carriers.push(carrier);
    await poll(() => texts(callId, 'agent')).toEqual([GREETING]);
    const turn = brain.requests.slice(from).find((r) => r.json.type === 'turn' && r.json.callId === callId)!;
    expect(turn.json).toMatchObject({ direction: 'outbound', toNumber: TO, fromNumber: NUMBER, variables: { shop: 'Acme', reason: 'callback' } });
    await hangUp({ callId, callSid: sid, carrier, from });
  });

  it('text/plain: the body is spoken', { timeout: CALL_TIMEOUT }, async () => {
    const GREETING = 'Plain words, plainly said.';
    brain.onTurn = (_req, res) => answer.text(res, GREETING);
    const call = await inboundCall();
    await poll(() => texts(call.callId, 'agent')).toEqual([GREETING]);
    await hangUp(call);
  });

  it('NDJSON: speech starts at the first clause, before the body has ended', { timeout: CALL_TIMEOUT }, async () => {
    const FIRST = 'Good morning, this is the first clause.';
    const SECOND = 'And this one came later.';
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let res!: ServerResponse;
    brain.onTurn = async (_req, r) => {
      res = r;
      answer.ndjsonStart(r);
      answer.ndjson(r, { text: FIRST + ' ' });
      await released;
      answer.ndjson(r, { text: SECOND });
      r.end();
    };
    const call = await inboundCall();
    // The TTS got the first clause and the caller hears it while the response is still open.
    await poll(() => el.ws.some((c) => c.text.includes('first clause'))).toBe(true);
    await poll(() => call.carrier.playedBytes).toBeGreaterThan(0);
    expect(res.writableEnded).toBe(false);
    release();
    await poll(() => texts(call.callId, 'agent')).toEqual([`${FIRST} ${SECOND}`]);
    await hangUp(call);
  });

  it('SSE with endCall: the chunks are spoken, then the call ends as agent_hangup once heard', { timeout: CALL_TIMEOUT }, async () => {
    const BYE = 'Thanks for calling. Goodbye!';
    brain.onTurn = async (_req, res) => {
      answer.sseStart(res);
      res.write(': a comment line servers may send\n\n');
      answer.sse(res, { text: 'Thanks for calling. ' });
      await sleep(50);
      answer.sse(res, { text: 'Goodbye!' });
      answer.sse(res, { endCall: true });
      res.end();
    };
    const call = await inboundCall();
    expect(await call.carrier.closed).toEqual({ code: 1000, reason: 'agent_hangup' });
    expect(call.carrier.playedBytes).toBeGreaterThanOrEqual(BYE.length * MS_PER_CHAR * BYTES_PER_MS * 0.9);
    await poll(async () => (await t.api('GET', `/v1/calls/${call.callId}`)).body).toMatchObject({ status: 'completed', endReason: 'agent_hangup' });
    expect(await texts(call.callId, 'agent')).toEqual([BYE]);
  });

  it('204 says nothing; the caller turn is POSTed with its text and the transcript, and the JSON answer is spoken', { timeout: CALL_TIMEOUT }, async () => {
    const ANSWER = 'We open at nine.';
    brain.onTurn = (req, res) => (req.json.text === null ? void res.writeHead(204).end() : answer.json(res, { text: ANSWER }));
    const call = await inboundCall();
    await poll(() => turnsOf(call).length).toBe(1);
    callerSays(call.carrier, 'When do you open?');
    await poll(() => texts(call.callId, 'agent')).toEqual([ANSWER]);
    const turns = turnsOf(call);
    expect(turns).toHaveLength(2);
    expect(turns[1]!.json).toMatchObject({ text: 'When do you open?', transcript: [{ role: 'user', text: 'When do you open?' }] });
    expect(turns[1]!.json.turnId).not.toBe(turns[0]!.json.turnId);
    const call2 = await t.api('GET', `/v1/calls/${call.callId}`);
    // The brain's first chunk is the "LLM first token" part of the turn's latency.
    expect(call2.body.latency.turns).toBeGreaterThanOrEqual(1);
    await hangUp(call);
  });

  it('transferTo: the text is heard, then Twilio <Dial>s the number and the call ends as transfer', { timeout: CALL_TIMEOUT }, async () => {
    const SAY = 'Putting you through now.';
    brain.onTurn = (_req, res) => answer.json(res, { text: SAY, transferTo: TRANSFER_TO });
    const call = await inboundCall();
    const isUpdate = (r: (typeof twilio.requests)[number]) => r.method === 'POST' && r.path.endsWith(`/Calls/${call.callSid}.json`);
    await poll(() => twilio.requests.filter(isUpdate).length).toBe(1);
    expect(twilio.requests.find(isUpdate)!.params.Twiml).toBe(`<Response><Dial>${TRANSFER_TO}</Dial></Response>`);
    expect(await call.carrier.closed).toMatchObject({ code: 1000, reason: 'transfer' });
    expect(call.carrier.playedBytes).toBeGreaterThanOrEqual(SAY.length * MS_PER_CHAR * BYTES_PER_MS * 0.9);
    await poll(async () => (await t.api('GET', `/v1/calls/${call.callId}`)).body).toMatchObject({ status: 'completed', endReason: 'transfer' });
  });

  it('barge-in aborts the request in flight; the transcript keeps what was heard; the next turn sees it', { timeout: 90_000 }, async () => {
    const LONG = 'Our menu has soups, salads, sandwiches, pastas, pizzas, grilled fish, roast chicken, three vegan bowls, a kids menu, and a long list of desserts that changes with the seasons.';
    brain.onTurn = async (req, res) => {
      if (req.json.text === null) return answer.json(res, { text: 'Hi.' });
      if (req.json.text.includes('menu')) {
        // The words come at once, then the response stays open (comment heartbeats keep the
        // stall timer quiet): the caller interrupts while the request is still in flight.
        answer.sseStart(res);
        for (const part of LONG.split(/(?<=,)/)) answer.sse(res, { text: part });
        for (let i = 0; i < 100 && !res.destroyed; i++) {
          res.write(': still thinking\n\n');
          await sleep(200);
        }
        return void res.end();
      }
      return answer.json(res, { text: 'Weekends too.' });
    };
    const call = await inboundCall();
    await poll(() => texts(call.callId, 'agent')).toEqual(['Hi.']);
    callerSays(call.carrier, 'Tell me about the menu.');
    await poll(() => el.ws.some((c) => c.text.includes('soups'))).toBe(true);
    const start = call.carrier.playedBytes;
    await poll(() => call.carrier.playedBytes - start > 8 * 1200).toBe(true);
    callerSays(call.carrier, 'What about weekends?');
    call.carrier.say(readUlawFixture('long'));
    await poll(() => call.carrier.clearsAtMs.length).toBe(1);
    const menuTurn = turnsOf(call).find((r) => String(r.json.text).includes('menu'))!;
    await poll(() => menuTurn.aborted).toBe(true);
    await poll(async () => (await items(call.callId)).filter((i) => i.role === 'agent')[1]).toMatchObject({ interrupted: true });
    const cut = (await items(call.callId)).filter((i) => i.role === 'agent')[1]!;
    expect(cut.text.length).toBeGreaterThan(0);
    expect(LONG.startsWith(cut.text)).toBe(true);
    await poll(() => texts(call.callId, 'agent'), 30_000).toContain('Weekends too.');
    const next = turnsOf(call).find((r) => String(r.json.text).includes('weekends'))!;
    expect(next.json.transcript).toContainEqual({ role: 'agent', text: cut.text });
    await hangUp(call);
  });
});

describe('webhook brain faults: apology, a system item, and the call goes on', () => {
  it('non-2xx', { timeout: CALL_TIMEOUT }, async () => {
    brain.onTurn = (_req, res) => answer.json(res, { error: 'boom' }, 500);
    const call = await inboundCall();
    await expectApology(call, /conversation server: the webhook answered HTTP 500/);
    await hangUp(call);
  });

  it('never answers (first-byte timeout), and later turns still work', { timeout: CALL_TIMEOUT }, async () => {
    expect((await t.api('PATCH', `/v1/agents/${agentId}`, { llm: { provider: 'webhook', url: `${brain.url}/brain`, secretEnv: 'BRAIN_SECRET', timeoutMs: 400 } })).status).toBe(200);
    try {
      brain.onTurn = (req, res) => (req.json.text === null ? undefined : answer.json(res, { text: 'I am back.' }));
      const call = await inboundCall();
      await expectApology(call, /conversation server: the webhook timed out: no answer within 400 ms/);
      callerSays(call.carrier, 'Hello?');
      await poll(() => texts(call.callId, 'agent')).toEqual([BRAIN_APOLOGY, 'I am back.']);
      await hangUp(call);
    } finally {
      await t.api('PATCH', `/v1/agents/${agentId}`, { llm: { provider: 'webhook', url: `${brain.url}/brain`, secretEnv: 'BRAIN_SECRET' } });
    }
  });

  it('a stall between chunks: what came is spoken, then the apology', { timeout: CALL_TIMEOUT }, async () => {
    expect((await t.api('PATCH', `/v1/agents/${agentId}`, { llm: { provider: 'webhook', url: `${brain.url}/brain`, secretEnv: 'BRAIN_SECRET', timeoutMs: 400 } })).status).toBe(200);
    try {
      brain.onTurn = (_req, res) => {
        answer.ndjsonStart(res);
        answer.ndjson(res, { text: 'Let me see.' }); // and then nothing, the connection held open
      };
      const call = await inboundCall();
      // What came was voiced when the brain went quiet; the apology follows as its own clause.
      await poll(() => texts(call.callId, 'agent')).toEqual([`Let me see. ${BRAIN_APOLOGY}`]);
      expect((await texts(call.callId, 'system')).join('\n')).toMatch(/timed out: no further data within 400 ms/);
      await hangUp(call);
    } finally {
      await t.api('PATCH', `/v1/agents/${agentId}`, { llm: { provider: 'webhook', url: `${brain.url}/brain`, secretEnv: 'BRAIN_SECRET' } });
    }
  });

  it('garbage JSON', { timeout: CALL_TIMEOUT }, async () => {
    brain.onTurn = (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"text": "unterminated');
    const call = await inboundCall();
    await expectApology(call, /unreadable body: the JSON body is not valid JSON/);
    await hangUp(call);
  });

  it('a bad NDJSON line after a good one', { timeout: CALL_TIMEOUT }, async () => {
    brain.onTurn = (_req, res) => void res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end('{"text":"One."}\n[1,2,3]\n');
    const call = await inboundCall();
    await poll(() => texts(call.callId, 'agent')).toEqual([`One.${BRAIN_APOLOGY}`]);
    expect((await texts(call.callId, 'system')).join('\n')).toMatch(/line 2 is not a JSON object/);
    await hangUp(call);
  });

  it('an unsupported content type', { timeout: CALL_TIMEOUT }, async () => {
    brain.onTurn = (_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hello</p>');
    const call = await inboundCall();
    await expectApology(call, /unsupported content-type "text\/html"/);
    await hangUp(call);
  });

  it('10 MB', { timeout: CALL_TIMEOUT }, async () => {
    const huge = JSON.stringify({ text: 'blah '.repeat(2 * 1024 * 1024) });
    brain.onTurn = (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(huge);
    const call = await inboundCall();
    await expectApology(call, /sent too much: the response exceeded 1048576 bytes/);
    await hangUp(call);
  });

  it('answers after the caller hung up: nothing is spoken, nothing breaks', { timeout: CALL_TIMEOUT }, async () => {
    let answered = false;
    brain.onTurn = async (_req, res) => {
      await sleep(1500);
      answered = true;
      if (!res.destroyed) answer.json(res, { text: 'Too late.' });
    };
    const call = await inboundCall();
    await poll(() => turnsOf(call).length).toBe(1);
    await hangUp(call);
    await poll(() => answered).toBe(true);
    expect(turnsOf(call)[0]!.aborted).toBe(true);
    expect(await texts(call.callId, 'agent')).toEqual([]);
    expect((await t.api('GET', `/v1/calls/${call.callId}`)).body).toMatchObject({ status: 'completed', endReason: 'caller_hangup' });
  });
});
