/**
 * A pipeline agent speaking through Cartesia, end to end: an inbound phone call (Twilio REST
 * and carrier fakes, Deepgram, OpenAI chat, the Cartesia fake) and a web call in headless
 * Chromium. The Cartesia socket opens when the call is announced, each reply is one context
 * (raw μ-law 8 kHz on the phone, s16le 16 kHz on the web), a barge-in cancels the context and
 * cuts the agent's transcript item at what was heard, and the socket closes with the call.
 */
import path from 'node:path';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { FakeTwilioRest, parseStream } from '../fakes/twilio-rest.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startFakeCartesia, type FakeCartesia } from '../fakes/cartesia.js';
import { fixturePath, readUlawFixture } from '../helpers/fixtures.js';
import { parseWav, wavHeader } from '../../src/media/index.js';

const poll = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout, interval: 25 });

const VOICE = 'a0e99841-438c-4a64-b679-ae501e7d6091';
const GREETING = 'Hello, thanks for calling Acme. How can I help?';
const HOURS = 'We open at nine and close at five.';
const MENU = 'Our menu has soups, salads, sandwiches, pastas, pizzas, grilled fish, roast chicken, three vegan bowls, a kids menu, and a long list of desserts that changes with the seasons.';

let twilio: FakeTwilioRest;
let dg: FakeDeepgram;
let chat: FakeOpenAiChat;
let car: FakeCartesia;
let t: TestApp;

beforeAll(async () => {
  twilio = await new FakeTwilioRest().start();
  [dg, chat, car] = await Promise.all([startFakeDeepgram({ transcripts: [] }), startFakeOpenAiChat(), startFakeCartesia({ msPerChar: 20 })]);
  t = await createTestApp({
    env: {
      ...twilio.env(),
      DEEPGRAM_API_KEY: 'dg-test',
      DEEPGRAM_URL: dg.url,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: chat.url,
      CARTESIA_API_KEY: 'sk_car_test',
      CARTESIA_BASE_URL: car.url,
    },
  });
});
afterAll(async () => {
  await t?.close();
  await Promise.all([twilio?.close(), dg?.close(), chat?.close(), car?.close()]);
});

function lastUser(messages: Array<Record<string, unknown>>): string {
  return String([...messages].reverse().find((m) => m.role === 'user')?.content ?? '');
}

function callerWillSay(text: string): void {
  dg.options.transcripts = [];
  dg.options.fallbackTranscript = text;
}

async function cartesiaAgent(voiceMode: string): Promise<string> {
  const agent = await t.api('POST', '/v1/agents', {
    name: 'Cartesia desk',
    architecture: 'pipeline',
    systemPrompt: 'You answer calls for Acme.',
    firstMessage: GREETING,
    model: 'gpt-4o-mini',
    stt: 'deepgram',
    tts: 'cartesia',
    ttsModel: 'sonic-3',
    voiceId: VOICE,
    voiceMode,
    active: true,
    turnDetection: { silenceMs: 500, minInterruptionMs: 300, interruptible: true },
  });
  expect(agent.status).toBe(201);
  expect(agent.body).toMatchObject({ tts: 'cartesia', ttsModel: 'sonic-3' });
  return agent.body.id as string;
}

describe('pipeline agent on Cartesia', () => {
  it('phone: socket at announce, one context per reply in μ-law 8 kHz, barge-in cancels and truncates, socket closed at the end', { timeout: 180_000 }, async () => {
    chat.respond((req) => {
      const q = lastUser(req.body.messages);
      if (q.includes('hours')) return { tokens: ['We open at nine ', 'and close at five.'] };
      if (q.includes('menu')) return { tokens: [MENU] };
      return { tokens: ['Sorry?'] };
    });
    const agentId = await cartesiaAgent('phone');
    expect((await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550177', agentId })).status).toBe(201);

    const inbound = await twilio.inboundCall(`${t.baseUrl}/twilio/voice`, { from: '+14155550100', to: '+14155550177' });
    expect(inbound.responseStatus).toBe(200);
    const stream = parseStream(inbound.responseBody)!;
    const call = (await t.ctx.store.getCallByTwilioSid(inbound.call.sid))!;
    // The latency rule: the TTS socket is open before any media arrives.
    await poll(() => car.ws.length).toBe(1);
    const sock = car.ws[0]!;
    expect(sock.headers.authorization).toBe('Bearer sk_car_test');

    const carrier = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid: inbound.call.sid, accountSid: twilio.accountSid });
    await poll(() => agentItems().then((a) => a.map((i) => i.text))).toEqual([GREETING]);
    expect(carrier.playedBytes).toBeGreaterThanOrEqual(GREETING.length * 20 * 8 * 0.9);
    const greetingCtx = [...sock.contexts.values()][0]!;
    expect(greetingCtx.inputs[0]).toMatchObject({
      model_id: 'sonic-3',
      voice: { mode: 'id', id: VOICE },
      output_format: { container: 'raw', encoding: 'pcm_mulaw', sample_rate: 8000 },
      language: 'en',
      add_timestamps: true,
    });

    // A question: the answer's two clauses are continuations of one context.
    callerWillSay('What are your hours?');
    carrier.say(readUlawFixture('question'));
    await poll(() => agentItems().then((a) => a.map((i) => i.text))).toEqual([GREETING, HOURS]);
    const hoursCtx = [...sock.contexts.values()].find((c) => c.text.includes('nine'))!;
    // Speech starts at the first clause (the chunker cuts before "and"); the rest continues the context.
    expect(hoursCtx.inputs.filter((m) => m.continue === true).map((m) => m.transcript)).toEqual(['We open at nine ', 'and close at five. ']);
    expect(hoursCtx.done).toBe(true);

    // A long answer cut off by the caller: `clear`, `cancel` on its context, the item truncated.
    callerWillSay('Tell me about the menu.');
    carrier.say(readUlawFixture('question'));
    await poll(() => [...sock.contexts.values()].some((c) => c.text.includes('soups'))).toBe(true);
    const menuStart = carrier.playedBytes;
    await poll(() => carrier.playedBytes - menuStart > 8 * 1500).toBe(true);
    callerWillSay('Wait, what about weekends?');
    carrier.say(readUlawFixture('long'));
    await poll(() => carrier.clearsAtMs.length).toBe(1);
    const menuCtx = [...sock.contexts.values()].find((c) => c.text.includes('soups'))!;
    await poll(() => menuCtx.cancelled).toBe(true);
    await poll(() => agentItems().then((a) => a[2])).toMatchObject({ interrupted: true });
    const cut = (await agentItems())[2]!;
    expect(cut.text.length).toBeGreaterThan(0);
    expect(MENU.startsWith(cut.text)).toBe(true);
    expect(cut.text.length).toBeLessThan(MENU.length);

    await carrier.hangup();
    await poll(async () => (await t.ctx.store.getCall(call.id))!.status).toBe('completed');
    expect((await t.api('GET', `/v1/calls/${call.id}`)).body).toMatchObject({ endReason: 'caller_hangup' });
    // One socket for the whole call, closed with it.
    expect(car.ws.length).toBe(1);
    await poll(() => sock.closed).toBe(true);
    expect(sock.errors).toEqual([]);

    async function agentItems(): Promise<Array<{ role: string; text: string; interrupted?: boolean }>> {
      const items = (await t.api('GET', `/v1/calls/${call.id}/transcript`)).body.items as Array<{ role: string; text: string; interrupted?: boolean }>;
      return items.filter((i) => i.role === 'agent');
    }
  });

  it('an agent on Cartesia without CARTESIA_API_KEY ends its calls with error:cartesia_not_configured', { timeout: 60_000 }, async () => {
    const bare = await createTestApp({ env: { ...twilio.env(), DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_URL: dg.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: chat.url } });
    try {
      const agent = await bare.api('POST', '/v1/agents', { name: 'No key', architecture: 'pipeline', systemPrompt: 'x', model: 'gpt-4o-mini', stt: 'deepgram', tts: 'cartesia', voiceMode: 'web', active: true });
      const created = await bare.api('POST', '/v1/web-calls', { agentId: agent.body.id });
      expect(created.status).toBe(201);
      const { default: WebSocket } = await import('ws');
      const ws = new WebSocket(created.body.websocketUrl as string);
      ws.on('error', () => undefined);
      await poll(async () => (await bare.ctx.store.getCall(created.body.callId as string))?.endReason).toBe('error:cartesia_not_configured');
      ws.close();
    } finally {
      await bare.close();
    }
  });

  it('web: the page hears Cartesia s16le 16 kHz audio, barge-in clears it and cancels the context', { timeout: 180_000 }, async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'voxgate-cartesia-web-'));
    let browser: BrowserContext | undefined;
    const LONG = 'Of course. We have tables at six, at half past six, at seven and at eight tonight, and on the terrace if the weather holds. Which time suits you best, and for how many people?';
    chat.respond(() => ({ tokens: LONG.split(/(?<= )/), tokenDelayMs: 5 }));
    // ~8 s of answer: longer than the microphone loop's pause, so the caller always talks over it.
    car.options.msPerChar = 45;
    dg.options.transcripts = ['I would like to book a table for tonight'];
    dg.options.fallbackTranscript = 'at seven please';
    try {
      browser = await chromium.launchPersistentContext(path.join(workDir, 'profile'), {
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${micWav(workDir)}`, '--autoplay-policy=no-user-gesture-required'],
      });
      const agentId = await cartesiaAgent('web');
      const before = car.ws.length;
      const created = await t.api('POST', '/v1/web-calls', { agentId });
      expect(created.status).toBe(201);
      const { callId, pageUrl } = created.body as { callId: string; pageUrl: string };
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pageUrl);
      await page.getByRole('button', { name: 'Start call' }).click();
      type Stats = { state: string; bytesReceived: number; clears: number };
      const stats = () => page.evaluate(() => (window as unknown as { voxgate: Stats }).voxgate);
      await poll(async () => (await stats()).state, 30_000).toBe('live');
      await poll(async () => (await stats()).bytesReceived, 30_000).toBeGreaterThan(0);
      await poll(() => car.ws.length).toBe(before + 1);
      const sock = car.ws[before]!;
      expect([...sock.contexts.values()][0]!.inputs[0]).toMatchObject({ output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 } });
      // The fake microphone loops the question, so the caller talks over the long answer.
      await poll(async () => (await stats()).clears, 90_000).toBeGreaterThan(0);
      await poll(() => [...sock.contexts.values()].some((c) => c.cancelled), 30_000).toBe(true);
      await page.getByRole('button', { name: 'End call' }).click();
      await poll(async () => (await stats()).state, 30_000).toBe('ended');
      await poll(async () => (await t.ctx.store.getCall(callId))?.status, 30_000).toBe('completed');
      const items = (await t.api('GET', `/v1/calls/${callId}/transcript`)).body.items as Array<{ role: string; interrupted?: boolean }>;
      expect(items.some((i) => i.role === 'agent' && i.interrupted === true)).toBe(true);
      await poll(() => sock.closed).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await browser?.close();
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

/** 1.5 s of silence, the caller's question, 2.5 s of silence; Chromium loops it. */
function micWav(dir: string): string {
  const speech = readFileSync(fixturePath('question', 'pcm16k'));
  const info = parseWav(speech);
  const pcm = speech.subarray(info.dataOffset, info.dataOffset + info.dataBytes);
  const data = Buffer.concat([Buffer.alloc(16000 * 2 * 1.5), pcm, Buffer.alloc(16000 * 2 * 2.5)]);
  const file = path.join(dir, 'caller.wav');
  writeFileSync(file, Buffer.concat([wavHeader({ sampleRate: 16000, channels: 1, bitsPerSample: 16, dataBytes: data.length }), data]));
  return file;
}
