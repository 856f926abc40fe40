/**
 * The Calendly preset on a real phone call (issue 17), end to end as in
 * pipeline-phone-tools.test.ts: fake Twilio REST + carrier, fake Deepgram, OpenAI chat and
 * ElevenLabs, and the fake Calendly behind CALENDLY_BASE_URL. The preset is added through the
 * API with its token in an agent env var; the model (the chat fake) asks for availability, books
 * the first open time, then tries the same time again and relays Calendly's refusal; the call
 * goes on throughout and the token never reaches the model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { FakeTwilioRest, parseStream } from '../fakes/twilio-rest.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeOpenAiChat, type ChatScript, type FakeOpenAiChat, type RecordedChatRequest } from '../fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { startFakeCalendly, type FakeCalendly } from '../fakes/calendly.js';
import { readUlawFixture } from '../helpers/fixtures.js';

const poll = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout, interval: 25 });
const CALL_TIMEOUT = 90_000;

const NUMBER = '+14155550143';
const TOKEN = 'cal-pat-e2e-secret';
const TZ = 'America/New_York';
const DAY = 24 * 3600 * 1000;
const GREETING = 'Hi, Acme bookings.';
const AVAIL_Q = 'What times do you have this week?';
const BOOK_Q = 'The first one please, I am Ada, ada at example dot com.';
const AGAIN_Q = 'Book that same time for my colleague too.';
const BOOKED = 'You are booked, see you then.';
const TAKEN = 'Sorry, that time was just taken, shall I look again?';

function at(days: number, hourUtc: number): string {
  const d = new Date(Date.now() + days * DAY);
  d.setUTCHours(hourUtc, 0, 0, 0);
  return d.toISOString();
}
const nyDay = (days: number) => new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + days * DAY));

let twilio: FakeTwilioRest;
let dg: FakeDeepgram;
let chat: FakeOpenAiChat;
let el: FakeElevenLabs;
let cal: FakeCalendly;
let t: TestApp;
let agentId: string;
let carrier: TwilioCarrier;

type Message = Record<string, any>;
const lastUser = (messages: Message[]) => String([...messages].reverse().find((m) => m.role === 'user')?.content ?? '');
function answeredTool(messages: Message[]): string | undefined {
  const last = messages.at(-1);
  if (last?.role !== 'tool') return undefined;
  const asked = messages.flatMap((m) => (m.role === 'assistant' && Array.isArray(m.tool_calls) ? m.tool_calls : []));
  return asked.find((c: Message) => c.id === last.tool_call_id)?.function?.name;
}
/** The first open time the availability tool returned earlier in the conversation. */
function firstSlot(messages: Message[]): string {
  const result = messages.find((m) => m.role === 'tool' && String(m.content).includes('"slots"'));
  return JSON.parse(String(result?.content)).slots[0].startTime;
}

/** The model: it speaks from the tool results it gets. */
function model(req: RecordedChatRequest): ChatScript {
  const messages = req.body.messages;
  const last: Message = messages.at(-1) ?? {};
  switch (answeredTool(messages)) {
    case 'calendly_availability':
      return { tokens: [`I have ${JSON.parse(String(last.content)).slots[0].local}.`] };
    case 'calendly_book':
      return { tokens: [String(last.content).includes('"booked":true') ? BOOKED : TAKEN] };
  }
  switch (lastUser(messages)) {
    case AVAIL_Q:
      return { toolCalls: [{ id: 'call_avail', name: 'calendly_availability', arguments: JSON.stringify({ startDate: nyDay(1), endDate: nyDay(4) }) }] };
    case BOOK_Q:
      return { toolCalls: [{ id: 'call_book', name: 'calendly_book', arguments: JSON.stringify({ startTime: firstSlot(messages), name: 'Ada Lovelace', email: 'ada@example.com', phone: '+14155550100' }) }] };
    case AGAIN_Q:
      return { toolCalls: [{ id: 'call_again', name: 'calendly_book', arguments: JSON.stringify({ startTime: firstSlot(messages), name: 'Bob Byron', email: 'bob@example.com' }) }] };
    default:
      return { tokens: ['Sorry?'] };
  }
}

beforeAll(async () => {
  twilio = await new FakeTwilioRest().start();
  [dg, chat, el, cal] = await Promise.all([
    startFakeDeepgram({ transcripts: [] }),
    startFakeOpenAiChat({ respond: model }),
    startFakeElevenLabs({ msPerChar: 20 }),
    startFakeCalendly({ token: TOKEN, slots: { ETE2E: [at(2, 15), at(2, 16), at(3, 17)] } }),
  ]);
  t = await createTestApp({
    env: {
      ...twilio.env(),
      DEEPGRAM_API_KEY: 'dg-test',
      DEEPGRAM_URL: dg.url,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: chat.url,
      ELEVENLABS_API_KEY: 'el-test',
      ELEVENLABS_BASE_URL: el.url,
      CALENDLY_BASE_URL: cal.url,
    },
  });
  const agent = await t.api('POST', '/v1/agents', {
    name: 'Acme bookings',
    architecture: 'pipeline',
    systemPrompt: 'You book appointments for Acme.',
    firstMessage: GREETING,
    model: 'gpt-4o-mini',
    stt: 'deepgram',
    tts: 'elevenlabs',
    voiceId: 'voice-e2e',
    active: true,
  });
  agentId = agent.body.id;
  expect((await t.api('PUT', `/v1/agents/${agentId}/env-vars/CALENDLY_TOKEN`, { value: TOKEN })).status).toBeLessThan(300);
  const preset = await t.api('POST', `/v1/agents/${agentId}/tools/calendly`, { eventTypeUri: `${cal.url}/event_types/ETE2E`, tokenEnv: 'CALENDLY_TOKEN', timezone: TZ });
  expect(preset.status).toBe(201);
  expect((await t.api('POST', '/v1/phone-numbers', { phoneNumber: NUMBER, agentId })).status).toBe(201);
});

afterAll(async () => {
  carrier?.terminate();
  await t?.close();
  await Promise.all([twilio?.close(), dg?.close(), chat?.close(), el?.close(), cal?.close()]);
});

const transcript = async (callId: string): Promise<Array<{ role: string; text: string }>> => (await t.api('GET', `/v1/calls/${callId}/transcript`)).body.items;
const agentTexts = async (callId: string) => (await transcript(callId)).filter((i) => i.role === 'agent').map((i) => i.text);
function callerSays(text: string): void {
  dg.options.transcripts = [];
  dg.options.fallbackTranscript = text;
  carrier.say(readUlawFixture('question'));
}
const toolResult = (id: string): Message | undefined =>
  chat.requests.map((r) => r.body.messages.at(-1) as Message | undefined).find((m) => m?.role === 'tool' && m.tool_call_id === id);

describe('Calendly preset on an inbound pipeline call', () => {
  it('checks availability, books the first time, and relays a taken slot; the call goes on', { timeout: CALL_TIMEOUT }, async () => {
    const inbound = await twilio.inboundCall(`${t.baseUrl}/twilio/voice`, { from: '+14155550100', to: NUMBER });
    const stream = parseStream(inbound.responseBody)!;
    await twilio.answer(inbound.call.sid);
    const callId = (await t.ctx.store.getCallByTwilioSid(inbound.call.sid))!.id;
    carrier = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid: inbound.call.sid, accountSid: twilio.accountSid });
    await poll(() => agentTexts(callId)).toEqual([GREETING]);

    // The model is offered both preset tools next to the built-ins.
    callerSays(AVAIL_Q);
    await poll(() => toolResult('call_avail')).toBeDefined();
    const first = chat.requests.find((r) => lastUser(r.body.messages) === AVAIL_Q)!;
    expect(first.body.tools!.map((x) => x.function.name).sort()).toEqual(['calendly_availability', 'calendly_book', 'end_call', 'transfer_call']);
    const avail = cal.requests.find((r) => r.path === '/event_type_available_times')!;
    expect(avail.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(avail.query['event_type']).toBe(`${cal.url}/event_types/ETE2E`);
    const slots = JSON.parse(String(toolResult('call_avail')?.content)).slots;
    expect(slots.map((s: { startTime: string }) => s.startTime)).toEqual([at(2, 15), at(2, 16), at(3, 17)]);
    await poll(async () => (await agentTexts(callId)).length).toBe(2);
    expect((await agentTexts(callId))[1]).toBe(`I have ${slots[0].local}.`);

    // Booking the first time: Calendly gets the invitee, the caller hears the confirmation.
    callerSays(BOOK_Q);
    await poll(() => cal.bookings.length).toBe(1);
    expect(cal.bookings[0]).toMatchObject({ startTime: at(2, 15), invitee: { name: 'Ada Lovelace', email: 'ada@example.com', timezone: TZ, text_reminder_number: '+14155550100' } });
    await poll(() => agentTexts(callId)).toEqual([GREETING, `I have ${slots[0].local}.`, BOOKED]);

    // The same time again: Calendly refuses, the model gets words to relay, the call is still up.
    callerSays(AGAIN_Q);
    await poll(() => toolResult('call_again')).toBeDefined();
    expect(String(toolResult('call_again')?.content)).toMatch(/^calendly_book failed: that time could not be booked, most likely because it is no longer free/);
    await poll(async () => (await agentTexts(callId)).at(-1)).toBe(TAKEN);
    expect(cal.bookings).toHaveLength(1);
    expect(carrier.open).toBe(true);
    expect((await t.api('GET', `/v1/calls/${callId}`)).body.status).toBe('in-progress');
    const tools = (await transcript(callId)).filter((i) => i.role === 'tool').map((i) => i.text);
    expect(tools.map((x) => x.split('(')[0])).toEqual(['calendly_availability', 'calendly_book', 'calendly_book']);
    expect(JSON.stringify(chat.requests.map((r) => r.body))).not.toContain(TOKEN);

    await carrier.hangup();
    await poll(async () => (await t.api('GET', `/v1/calls/${callId}`)).body.status).toBe('completed');
    expect(carrier.protocolErrors).toEqual([]);
  });
});
