/**
 * A pipeline agent's tools on real phone calls (issue 4), end to end as in pipeline-phone.test.ts:
 * the fake Twilio REST (signed voice webhook, call updates), the Twilio carrier simulator, fake
 * Deepgram, OpenAI chat and ElevenLabs, and a fake webhook tool server. The engine runs as in
 * production; the caller speaks the espeak `question` fixture and the fake Deepgram says what it
 * "heard". One agent, three inbound calls, in order:
 *
 * 1. end_call: the goodbye spoken in the same reply is played out, then the gateway ends the
 *    stream and the call ends as `agent_hangup`.
 * 2. transfer_call: the announcement said with it is heard in full, then a Twilio call update
 *    whose TwiML `<Dial>`s the number; the call ends as `transfer`.
 * 3. webhook tools: one that times out (the model gets a tool error, speaks, the call goes on),
 *    then one that answers, with its `{{env.NAME}}` secret filled into a header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { FakeTwilioRest, parseStream } from '../fakes/twilio-rest.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeOpenAiChat, type ChatScript, type FakeOpenAiChat, type RecordedChatRequest } from '../fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { startFakeWebhookTool, type FakeWebhookTool } from '../fakes/webhook-tool.js';
import { readUlawFixture } from '../helpers/fixtures.js';

const poll = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout, interval: 25 });
const CALL_TIMEOUT = 60_000;

/** The fake ElevenLabs speaks this long per character: expected audio = text length × this. */
const MS_PER_CHAR = 20;
/** μ-law at 8 kHz (PROTOCOLS.md audio constants). */
const BYTES_PER_MS = 8;

const NUMBER = '+14155550142';
const TRANSFER_TO = '+14155550177';
const SECRET = 'tok-secret-42';
/** Far below the webhook's delay: the tool must time out, however loaded the machine is. */
const SLOW_TOOL_TIMEOUT_MS = 500;
const SLOW_TOOL_DELAY_MS = 4000;

const GREETING = 'Hi, Acme here.';
const HANG_UP_Q = 'That is all, you can hang up.';
const TRANSFER_Q = 'Can I talk to a person?';
const ORDER_Q = 'Where is my order?';
const BOOKING_Q = 'Do I have a booking?';
const GOODBYE = 'Goodbye, have a nice day.';
const TRANSFERRING = 'Let me put you through.';
const ORDER_SORRY = 'Sorry, I cannot check orders right now.';
const BOOKED = 'Yes, table for two at seven.';

let twilio: FakeTwilioRest;
let dg: FakeDeepgram;
let chat: FakeOpenAiChat;
let el: FakeElevenLabs;
let tool: FakeWebhookTool;
let t: TestApp;
let agentId: string;
const carriers: TwilioCarrier[] = [];

type Message = Record<string, any>;

function lastUser(messages: Message[]): string {
  return String([...messages].reverse().find((m) => m.role === 'user')?.content ?? '');
}

/** The name of the tool whose result ends the conversation so far (a follow-up request). */
function answeredTool(messages: Message[]): string | undefined {
  const last = messages.at(-1);
  if (last?.role !== 'tool') return undefined;
  const asked = messages.flatMap((m) => (m.role === 'assistant' && Array.isArray(m.tool_calls) ? m.tool_calls : []));
  return asked.find((c: Message) => c.id === last.tool_call_id)?.function?.name;
}

/** The model: a scripted answer per caller question, and per tool result. */
function model(req: RecordedChatRequest): ChatScript {
  const messages = req.body.messages;
  switch (answeredTool(messages)) {
    case 'end_call':
    case 'transfer_call':
      return { tokens: [] }; // already said what it had to say
    case 'order_status':
      return { tokens: [ORDER_SORRY] };
    case 'lookup_booking':
      return { tokens: [BOOKED] };
  }
  switch (lastUser(messages)) {
    case HANG_UP_Q:
      return { tokens: ['Goodbye, ', 'have a nice day.'], toolCalls: [{ id: 'call_end', name: 'end_call', arguments: '{"reason":"the caller is done"}' }] };
    case TRANSFER_Q:
      return { tokens: [TRANSFERRING], toolCalls: [{ id: 'call_xfer', name: 'transfer_call', arguments: JSON.stringify({ toNumber: TRANSFER_TO }) }] };
    case ORDER_Q:
      return { toolCalls: [{ id: 'call_order', name: 'order_status', arguments: '{"orderId":"A17"}' }] };
    case BOOKING_Q:
      return { toolCalls: [{ id: 'call_booking', name: 'lookup_booking', arguments: '{"name":"Ada"}' }] };
    default:
      return { tokens: ['Sorry?'] };
  }
}

beforeAll(async () => {
  twilio = await new FakeTwilioRest().start();
  [dg, chat, el, tool] = await Promise.all([
    startFakeDeepgram({ transcripts: [] }),
    startFakeOpenAiChat({ respond: model }),
    startFakeElevenLabs({ msPerChar: MS_PER_CHAR }),
    startFakeWebhookTool(),
  ]);
  tool.script((req) => (req.path === '/orders' ? { delayMs: SLOW_TOOL_DELAY_MS, body: { status: 'shipped' } } : { body: { booking: 'BK-42', partySize: 2, time: '19:00' } }));
  t = await createTestApp({
    env: {
      ...twilio.env(),
      DEEPGRAM_API_KEY: 'dg-test',
      DEEPGRAM_URL: dg.url,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: chat.url,
      ELEVENLABS_API_KEY: 'el-test',
      ELEVENLABS_BASE_URL: el.url,
    },
  });

  const agent = await t.api('POST', '/v1/agents', {
    name: 'Acme tools',
    architecture: 'pipeline',
    systemPrompt: 'You answer calls for Acme.',
    firstMessage: GREETING,
    model: 'gpt-4o-mini',
    stt: 'deepgram',
    tts: 'elevenlabs',
    voiceId: 'voice-e2e',
    active: true,
  });
  expect(agent.status).toBe(201);
  agentId = agent.body.id;
  expect((await t.api('PUT', `/v1/agents/${agentId}/env-vars/BOOKING_TOKEN`, { value: SECRET })).status).toBeLessThan(300);
  const slow = await t.api('POST', `/v1/agents/${agentId}/tools`, {
    name: 'order_status',
    description: 'Where an order is',
    parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
    url: `${tool.url}/orders`,
    method: 'POST',
    timeoutMs: SLOW_TOOL_TIMEOUT_MS,
  });
  expect(slow.status).toBe(201);
  const booking = await t.api('POST', `/v1/agents/${agentId}/tools`, {
    name: 'lookup_booking',
    description: 'Find the caller’s booking',
    parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
    url: `${tool.url}/bookings`,
    method: 'POST',
    headers: { Authorization: 'Bearer {{env.BOOKING_TOKEN}}' },
  });
  expect(booking.status).toBe(201);
  expect((await t.api('POST', '/v1/phone-numbers', { phoneNumber: NUMBER, agentId })).status).toBe(201);
});

afterAll(async () => {
  for (const c of carriers) c.terminate();
  await t?.close();
  await Promise.all([twilio?.close(), dg?.close(), chat?.close(), el?.close(), tool?.close()]);
});

interface LiveCall {
  callId: string;
  callSid: string;
  carrier: TwilioCarrier;
  /** Chat requests made before this call: the call's own start after them. */
  chatFrom: number;
}

/** Twilio rings the gateway, answers with its TwiML, opens the stream; the greeting plays. */
async function inboundCall(): Promise<LiveCall> {
  const chatFrom = chat.requests.length;
  const inbound = await twilio.inboundCall(`${t.baseUrl}/twilio/voice`, { from: '+14155550100', to: NUMBER });
  expect(inbound.responseStatus).toBe(200);
  const stream = parseStream(inbound.responseBody)!;
  expect(stream).not.toBeNull();
  // Running `<Connect>` answers the call (the fake leaves that step to whoever drives it).
  await twilio.answer(inbound.call.sid);
  const callId = (await t.ctx.store.getCallByTwilioSid(inbound.call.sid))!.id;
  const carrier = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid: inbound.call.sid, accountSid: twilio.accountSid });
  carriers.push(carrier);
  // The agent item is written when the greeting's last mark comes back: it has played in full.
  await poll(() => agentTexts(callId)).toEqual([GREETING]);
  expect(carrier.playedBytes).toBeGreaterThanOrEqual(GREETING.length * MS_PER_CHAR * BYTES_PER_MS * 0.9);
  return { callId, callSid: inbound.call.sid, carrier, chatFrom };
}

/** The caller says `text` (the fixture's audio; the fake Deepgram transcribes it as `text`). */
function callerSays(carrier: TwilioCarrier, text: string): void {
  dg.options.transcripts = [];
  dg.options.fallbackTranscript = text;
  carrier.say(readUlawFixture('question'));
}

async function transcript(callId: string): Promise<Array<{ role: string; text: string; interrupted?: boolean }>> {
  return (await t.api('GET', `/v1/calls/${callId}/transcript`)).body.items;
}

async function agentTexts(callId: string): Promise<string[]> {
  return (await transcript(callId)).filter((i) => i.role === 'agent').map((i) => i.text);
}

/** The chat requests of one call that follow up `toolName`'s result. */
function followUps(call: LiveCall, toolName: string): RecordedChatRequest[] {
  return chat.requests.slice(call.chatFrom).filter((r) => answeredTool(r.body.messages) === toolName);
}

describe('pipeline agent tools on an inbound phone call', () => {
  it('end_call: the goodbye is played to the caller, then the gateway hangs up as agent_hangup', { timeout: CALL_TIMEOUT }, async () => {
    const call = await inboundCall();
    const { carrier } = call;
    const playedBefore = carrier.playedBytes;
    callerSays(carrier, HANG_UP_Q);

    // The model said goodbye and asked for end_call; the built-ins and the agent's tools were offered.
    await poll(() => followUps(call, 'end_call').length).toBe(1);
    const first = chat.requests.slice(call.chatFrom).find((r) => lastUser(r.body.messages) === HANG_UP_Q)!;
    expect(first.body.tools!.map((x) => x.function.name).sort()).toEqual(['end_call', 'lookup_booking', 'order_status', 'transfer_call']);
    const followUp = followUps(call, 'end_call')[0]!.body.messages;
    expect(followUp.slice(-2)).toEqual([
      { role: 'assistant', content: GOODBYE, tool_calls: [{ id: 'call_end', type: 'function', function: { name: 'end_call', arguments: '{"reason":"the caller is done"}' } }] },
      { role: 'tool', tool_call_id: 'call_end', content: expect.any(String) },
    ]);

    // The stream is closed from our side (Twilio then ends a `<Connect>` call with no verb after
    // it, PROTOCOLS.md §1.1), only once the goodbye has been heard in full.
    expect(await carrier.closed).toEqual({ code: 1000, reason: 'agent_hangup' });
    expect(carrier.playedBytes - playedBefore).toBeGreaterThanOrEqual(GOODBYE.length * MS_PER_CHAR * BYTES_PER_MS * 0.9);
    expect(carrier.queuedMs).toBe(0);
    expect(carrier.protocolErrors).toEqual([]);

    await poll(async () => (await t.api('GET', `/v1/calls/${call.callId}`)).body.status).toBe('completed');
    const record = await t.api('GET', `/v1/calls/${call.callId}`);
    expect(record.body).toMatchObject({ status: 'completed', endReason: 'agent_hangup', direction: 'inbound' });
    const items = await transcript(call.callId);
    expect(items.filter((i) => i.role === 'user').map((i) => i.text)).toEqual([HANG_UP_Q]);
    expect(items.filter((i) => i.role === 'agent')).toEqual([
      expect.objectContaining({ text: GREETING }),
      expect.objectContaining({ text: GOODBYE }),
    ]);
    expect(items.filter((i) => i.role === 'agent').some((i) => i.interrupted)).toBe(false);
    expect(items.find((i) => i.role === 'tool')?.text).toMatch(/^end_call\(/);
  });

  it('transfer_call: Twilio gets a call update that <Dial>s the number, and the call ends as transfer', { timeout: CALL_TIMEOUT }, async () => {
    const call = await inboundCall();
    const playedBefore = call.carrier.playedBytes;
    callerSays(call.carrier, TRANSFER_Q);

    const isUpdate = (r: (typeof twilio.requests)[number]) => r.method === 'POST' && r.path.endsWith(`/Calls/${call.callSid}.json`);
    await poll(() => twilio.requests.filter(isUpdate).length).toBe(1);
    const update = twilio.requests.find(isUpdate)!;
    expect(update.username).toBe(twilio.accountSid);
    expect(update.params.Status).toBeUndefined();
    expect(update.params.Twiml).toMatch(new RegExp(`^<Response><Dial>\\${TRANSFER_TO}</Dial></Response>$`));
    // The fake Twilio runs it: the call's latest TwiML is the <Dial>.
    expect(twilio.calls.get(call.callSid)!.twiml.at(-1)).toBe(update.params.Twiml);

    expect(await call.carrier.closed).toMatchObject({ code: 1000, reason: 'transfer' });
    // The announcement said with the tool call was heard in full before the call left us.
    expect(call.carrier.playedBytes - playedBefore).toBeGreaterThanOrEqual(TRANSFERRING.length * MS_PER_CHAR * BYTES_PER_MS * 0.9);
    await poll(async () => (await t.api('GET', `/v1/calls/${call.callId}`)).body.status).toBe('completed');
    expect((await t.api('GET', `/v1/calls/${call.callId}`)).body).toMatchObject({ status: 'completed', endReason: 'transfer' });
    // The transfer followed the caller's finished turn, not a speculative reply started on
    // Deepgram's early endpoint: the request that caused it is on the record.
    expect((await transcript(call.callId)).filter((i) => i.role === 'user').map((i) => i.text)).toEqual([TRANSFER_Q]);
  });

  it('webhook tools: a timeout is a tool error the model answers and the call goes on; a secret header is filled', { timeout: CALL_TIMEOUT }, async () => {
    const call = await inboundCall();
    const { carrier } = call;

    // 1. The slow tool: called once, abandoned after its timeoutMs, reported to the model as an error.
    const playedBefore = carrier.playedBytes; // the tool round says nothing: the next audio is the answer
    callerSays(carrier, ORDER_Q);
    await poll(() => tool.requests.filter((r) => r.path === '/orders').length).toBe(1);
    const order = tool.requests.find((r) => r.path === '/orders')!;
    expect(order.json).toEqual({ tool: 'order_status', arguments: { orderId: 'A17' }, callId: call.callId, agentId });
    await poll(() => followUps(call, 'order_status').length).toBe(1);
    const afterTimeout = followUps(call, 'order_status')[0]!.body.messages.at(-1)!;
    expect(afterTimeout).toMatchObject({ role: 'tool', tool_call_id: 'call_order' });
    expect(afterTimeout.content).toMatch(/order_status failed: timed out/);

    // The model's answer is spoken and heard; the call is still up.
    await poll(() => agentTexts(call.callId)).toEqual([GREETING, ORDER_SORRY]);
    await poll(() => carrier.playedBytes - playedBefore).toBeGreaterThanOrEqual(ORDER_SORRY.length * MS_PER_CHAR * BYTES_PER_MS * 0.9);
    const items = await transcript(call.callId);
    expect(items.find((i) => i.role === 'tool')?.text).toMatch(/^order_status\(.*error: .*timed out/);
    expect(carrier.open).toBe(true);
    expect((await t.api('GET', `/v1/calls/${call.callId}`)).body).toMatchObject({ status: 'in-progress' });
    expect((await t.api('GET', `/v1/calls/${call.callId}`)).body.endReason ?? null).toBeNull();

    // 2. The tool with a secret: the webhook sees it filled in, the model sees the result (never the secret).
    callerSays(carrier, BOOKING_Q);
    await poll(() => tool.requests.filter((r) => r.path === '/bookings').length).toBe(1);
    const booking = tool.requests.find((r) => r.path === '/bookings')!;
    expect(booking.method).toBe('POST');
    expect(booking.headers['authorization']).toBe(`Bearer ${SECRET}`);
    expect(booking.json).toEqual({ tool: 'lookup_booking', arguments: { name: 'Ada' }, callId: call.callId, agentId });
    await poll(() => followUps(call, 'lookup_booking').length).toBe(1);
    const result = followUps(call, 'lookup_booking')[0]!.body.messages.at(-1)!;
    expect(result).toMatchObject({ role: 'tool', tool_call_id: 'call_booking' });
    expect(JSON.parse(String(result.content))).toEqual({ booking: 'BK-42', partySize: 2, time: '19:00' });
    await poll(() => agentTexts(call.callId)).toEqual([GREETING, ORDER_SORRY, BOOKED]);
    expect(JSON.stringify(chat.requests.map((r) => r.body))).not.toContain(SECRET);
    expect(tool.requests.filter((r) => r.path === '/orders')).toHaveLength(1);

    // The caller hangs up: only now does the call end.
    await carrier.hangup();
    await poll(async () => (await t.api('GET', `/v1/calls/${call.callId}`)).body.status).toBe('completed');
    expect((await t.api('GET', `/v1/calls/${call.callId}`)).body.endReason).toBe('caller_hangup');
    expect(carrier.protocolErrors).toEqual([]);
  });
});
