/**
 * An inbound phone call to a pipeline agent, end to end, with every vendor played by its fake:
 * Twilio REST (signed voice webhook), the Twilio carrier simulator (media stream, paced
 * playback, marks, clear), Deepgram live, OpenAI chat and ElevenLabs stream-input. The engine
 * runs exactly as in production (default engine factory, the real Silero VAD); the caller
 * speaks the espeak fixtures in real time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { FakeTwilioRest, parseStream } from '../fakes/twilio-rest.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { readUlawFixture } from '../helpers/fixtures.js';
import { createVad } from '../../src/vad/index.js';

const poll = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout, interval: 25 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const GREETING = 'Hello, thanks for calling Acme. How can I help?';
const HOURS = 'We open at nine and close at five.';
const MENU = 'Our menu has soups, salads, sandwiches, pastas, pizzas, grilled fish, roast chicken, three vegan bowls, a kids menu, and a long list of desserts that changes with the seasons.';
const WEEKENDS = 'On weekends we open at ten and close at four, and on Sundays we serve brunch from ten until two in the afternoon, with live music.';

let twilio: FakeTwilioRest;
let dg: FakeDeepgram;
let chat: FakeOpenAiChat;
let el: FakeElevenLabs;
let t: TestApp;
let tmp: string;

beforeAll(async () => {
  twilio = await new FakeTwilioRest().start();
  [dg, chat, el] = await Promise.all([startFakeDeepgram({ transcripts: [] }), startFakeOpenAiChat(), startFakeElevenLabs({ msPerChar: 20 })]);
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
  tmp = mkdtempSync(path.join(tmpdir(), 'voxgate-e2e-'));
});
afterAll(async () => {
  await t?.close();
  await Promise.all([twilio?.close(), dg?.close(), chat?.close(), el?.close()]);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** What the fake Deepgram will say for every utterance from now on. */
function callerWillSay(text: string): void {
  dg.options.transcripts = [];
  dg.options.fallbackTranscript = text;
}

/** Live timers in this process (the gateway and the fakes run in it). */
function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

function lastUser(messages: Array<Record<string, unknown>>): string {
  return String([...messages].reverse().find((m) => m.role === 'user')?.content ?? '');
}

describe('inbound phone call to a pipeline agent', () => {
  it('greets, answers, is interrupted, ignores a backchannel, and leaves transcript, SSE, recording and latency behind', { timeout: 180_000 }, async () => {
    // The engine's default VAD factory is what this call uses: on this machine it is Silero.
    const probe = await createVad({ sampleRate: 8000 });
    expect(probe.kind).toBe('silero');
    probe.close();
    chat.respond((req) => {
      const q = lastUser(req.body.messages);
      if (q.includes('hours')) return { tokens: ['We open at nine ', 'and close at five.'] };
      if (q.includes('menu')) return { tokens: [MENU] };
      if (q.includes('weekends')) return { tokens: [WEEKENDS] };
      return { tokens: ['Sorry?'] };
    });

    // Agent, knowledge and number through the API.
    const agent = await t.api('POST', '/v1/agents', {
      name: 'Front desk',
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
    const doc = await t.api('POST', '/v1/knowledge/text', { name: 'Hours', text: 'Acme opening hours: weekdays from nine to five, weekends from ten to four.' });
    expect(doc.status).toBe(201);
    expect((await t.api('PATCH', `/v1/agents/${agent.body.id}/knowledge`, { documentIds: [doc.body.id] })).status).toBe(200);
    const number = await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550123', agentId: agent.body.id });
    expect(number.status).toBe(201);

    // Twilio rings the gateway with a signed webhook; the TwiML names the stream and its token.
    const inbound = await twilio.inboundCall(`${t.baseUrl}/twilio/voice`, { from: '+14155550100', to: '+14155550123' });
    expect(inbound.responseStatus).toBe(200);
    const stream = parseStream(inbound.responseBody)!;
    expect(stream.url).toMatch(/\/twilio\/media$/);
    expect(Object.keys(stream.parameters)).not.toHaveLength(0);
    const call = (await t.ctx.store.getCallByTwilioSid(inbound.call.sid))!;
    // Provider sockets open when the call is announced, before any media.
    await poll(() => dg.connections.length).toBe(1);

    const timersBefore = activeTimers();
    const carrier = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid: inbound.call.sid, accountSid: twilio.accountSid });
    const clock = () => performance.now() - carrier.startedAt;

    // 1. The greeting, paced, with marks echoed as it plays.
    await poll(() => carrier.firstAgentAudioMs).not.toBeNull();
    await poll(() => agentItems().then((a) => a.map((i) => i.text))).toEqual([GREETING]);
    expect(carrier.marksEchoed.length).toBeGreaterThan(5);
    expect(carrier.playedBytes).toBeGreaterThanOrEqual(GREETING.length * 20 * 8 * 0.9);
    expect(carrier.protocolErrors).toEqual([]);

    // 2. A question → a user item and an answer whose audio arrives.
    callerWillSay('What are your hours?');
    const playedBefore = carrier.playedBytes;
    carrier.say(readUlawFixture('question'));
    await poll(() => userItems().then((u) => u.map((i) => i.text))).toEqual(['What are your hours?']);
    await poll(() => agentItems().then((a) => a.map((i) => i.text))).toEqual([GREETING, HOURS]);
    expect(carrier.playedBytes - playedBefore).toBeGreaterThanOrEqual(HOURS.length * 20 * 8 * 0.9);
    const hoursRequest = chat.requests.find((r) => lastUser(r.body.messages).includes('hours'))!;
    expect(JSON.stringify(hoursRequest.body.messages)).toContain('Relevant knowledge');
    expect(JSON.stringify(hoursRequest.body.messages)).toContain('weekdays from nine to five');

    // 3. A long answer, cut off by the caller: `clear` at the carrier, the item truncated.
    callerWillSay('Tell me about the menu.');
    carrier.say(readUlawFixture('question'));
    await poll(() => el.ws.some((c) => c.text.includes('soups'))).toBe(true);
    const menuStart = carrier.playedBytes;
    await poll(() => carrier.playedBytes - menuStart > 8 * 1500).toBe(true); // 1.5 s of the menu heard
    callerWillSay('Wait, actually what about weekends?');
    const bargeAt = clock();
    carrier.say(readUlawFixture('long'));
    await poll(() => carrier.clearsAtMs.length).toBe(1);
    const reactionMs = carrier.clearsAtMs[0]! - bargeAt;
    console.log(`barge-in reaction (fixture onset → clear at the carrier): ${reactionMs.toFixed(0)} ms`);
    await poll(() => agentItems().then((a) => a[2])).toMatchObject({ interrupted: true });
    const cut = (await agentItems())[2]!;
    expect(cut.text.length).toBeGreaterThan(0);
    expect(MENU.startsWith(cut.text)).toBe(true);
    expect(cut.text.length).toBeLessThan(MENU.length);

    // 4. The interruption's question is answered; an "uh huh" over that answer changes nothing.
    await poll(() => el.ws.some((c) => c.text.includes('weekends')), 30_000).toBe(true);
    const weekendStart = carrier.playedBytes;
    await poll(() => carrier.playedBytes - weekendStart > 8 * 600).toBe(true);
    callerWillSay('uh huh');
    carrier.say(readUlawFixture('uh-huh'));
    await poll(() => userItems().then((u) => u.at(-1)?.text)).toBe('uh huh');
    await poll(() => agentItems().then((a) => a.at(-1)?.text), 30_000).toBe(WEEKENDS);
    expect((await agentItems()).at(-1)!.interrupted).toBeFalsy();
    expect(carrier.clearsAtMs).toHaveLength(1);
    expect(chat.requests.filter((r) => lastUser(r.body.messages) === 'uh huh')).toHaveLength(0);

    // 5. The caller hangs up.
    await carrier.hangup();
    await poll(async () => (await t.ctx.store.getCall(call.id))!.status).toBe('completed');
    const ended = await t.api('GET', `/v1/calls/${call.id}`);
    expect(ended.body).toMatchObject({ status: 'completed', endReason: 'caller_hangup', direction: 'inbound', recordingAvailable: true });
    expect(ended.body.latency.turns).toBeGreaterThanOrEqual(2);
    expect(ended.body.latency.p50Ms).toBeGreaterThan(0);

    // 6. Transcript, SSE replay and the stereo recording.
    const transcript = await t.api('GET', `/v1/calls/${call.id}/transcript`);
    const roles = (transcript.body.items as Array<{ role: string }>).map((i) => i.role);
    expect(roles.filter((r) => r === 'user')).toHaveLength(4);
    expect(roles.filter((r) => r === 'agent')).toHaveLength(4);
    const sse = await fetch(`${t.baseUrl}/v1/calls/${call.id}/transcript/stream`, { headers: { authorization: `Bearer ${t.adminKey}` } });
    const body = await sse.text(); // replays what is stored, then closes after call.ended
    expect(body).toContain('event: transcript.final');
    expect(body).toContain('event: call.ended');
    expect(body).toContain('What are your hours?');
    const rec = await fetch(`${t.baseUrl}/v1/calls/${call.id}/recording`, { headers: { authorization: `Bearer ${t.adminKey}` } });
    expect(rec.status).toBe(200);
    const wav = path.join(tmp, 'call.wav');
    writeFileSync(wav, Buffer.from(await rec.arrayBuffer()));
    expect(execFileSync('soxi', ['-c', wav]).toString().trim()).toBe('2');
    expect(execFileSync('soxi', ['-r', wav]).toString().trim()).toBe('8000');
    expect(Number(execFileSync('soxi', ['-D', wav]).toString().trim())).toBeGreaterThan(10);

    // 7. Nothing left open at the providers.
    await poll(() => dg.connections.every((c) => c.closed)).toBe(true);
    await poll(() => el.ws.every((c) => c.closed)).toBe(true);
    expect(chat.requests.every((r) => r.completed || r.aborted)).toBe(true);
    expect(t.ctx.calls.get(call.id)).toBeUndefined();
    // Timers (keep-alives, pacers, turn waits, the carrier's ticker) are back to where they were.
    await poll(() => activeTimers() <= timersBefore).toBe(true);

    async function items(): Promise<Array<{ role: string; text: string; interrupted?: boolean }>> {
      return (await t.api('GET', `/v1/calls/${call.id}/transcript`)).body.items;
    }
    async function agentItems() {
      return (await items()).filter((i) => i.role === 'agent');
    }
    async function userItems() {
      return (await items()).filter((i) => i.role === 'user');
    }
  });
});
