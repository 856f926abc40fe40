/**
 * The operator console (API.md, Console) in real Chromium against a whole gateway with the
 * fakes: a phone call placed through the Twilio simulator (signed webhook + carrier media
 * stream, Deepgram / OpenAI chat / ElevenLabs fakes) appears in the live list without a reload
 * and moves through the filters; its transcript streams, a barge-in marked; after the hang-up
 * the stereo recording plays to `ended` through HTTP Range requests and the latency chart has a
 * bar per measured turn. A long recording seeks by Range. An agent created in the form takes a
 * web call (Chromium's fake microphone). Campaigns, approvals, numbers and keys:
 * console-admin.test.ts. Screenshots: test-artifacts/console/ (console-browser.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { FakeTwilioRest, parseStream } from '../fakes/twilio-rest.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { fixturePath, readUlawFixture } from '../helpers/fixtures.js';
import { parseWav, wavHeader } from '../../src/media/index.js';
import { mintKey } from '../campaigns/api-fixtures.js';
import { makeAgent, makeCall } from '../store/fixtures.js';
import { recordingPath } from '../../src/session/index.js';
import { ARTIFACTS, ConsoleDriver, launchBrowser, poll } from './console-browser.js';

const GREETING = 'Hello, thanks for calling Acme. How can I help?';
const ANSWER = 'We open at nine and close at five.';
const MENU = 'Our menu has soups, salads, sandwiches, pastas, pizzas, grilled fish, roast chicken, three vegan bowls, a kids menu, and a long list of desserts that changes with the seasons.';

let twilio: FakeTwilioRest;
let dg: FakeDeepgram;
let chat: FakeOpenAiChat;
let el: FakeElevenLabs;
let t: TestApp;
let browser: BrowserContext;
let ui: ConsoleDriver;
let workDir: string;

/** Chromium's fake microphone for the web call: 1 s of silence, a question, 2 s of silence. */
function micWav(dir: string): string {
  const speech = readFileSync(fixturePath('question', 'pcm16k'));
  const info = parseWav(speech);
  const pcm = speech.subarray(info.dataOffset, info.dataOffset + info.dataBytes);
  const data = Buffer.concat([Buffer.alloc(16000 * 2), pcm, Buffer.alloc(16000 * 2 * 2)]);
  const file = path.join(dir, 'caller.wav');
  writeFileSync(file, Buffer.concat([wavHeader({ sampleRate: 16000, channels: 1, bitsPerSample: 16, dataBytes: data.length }), data]));
  return file;
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'voxgate-console-'));
  twilio = await new FakeTwilioRest().start();
  [dg, chat, el] = await Promise.all([
    startFakeDeepgram({ transcripts: [], fallbackTranscript: 'What are your hours?' }),
    startFakeOpenAiChat({
      respond: (req) => {
        const last = String([...req.body.messages].reverse().find((m) => m.role === 'user')?.content ?? '');
        return { tokens: last.includes('menu') ? [MENU] : ['We open at nine ', 'and close at five.'] };
      },
    }),
    startFakeElevenLabs({ msPerChar: 20 }),
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
    },
  });
  browser = await launchBrowser(path.join(workDir, 'profile'), [
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${micWav(workDir)}`,
    '--autoplay-policy=no-user-gesture-required',
  ]);
  ui = new ConsoleDriver(browser, t.baseUrl);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await Promise.all([twilio?.close(), dg?.close(), chat?.close(), el?.close()]);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('operator console', () => {
  beforeEach(() => {
    ui.errors.length = 0;
  });
  it('follows a phone call live: list, transcript, recording, latency', { timeout: 120_000 }, async () => {
    const agent = await t.api('POST', '/v1/agents', {
      name: 'Front desk', architecture: 'pipeline', systemPrompt: 'You answer calls for Acme.', firstMessage: GREETING,
      model: 'gpt-4o-mini', stt: 'deepgram', tts: 'elevenlabs', voiceId: 'voice-console', active: true,
    });
    expect(agent.status).toBe(201);
    expect(agent.body.warnings).toEqual([]);
    expect((await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550123', agentId: agent.body.id })).status).toBe(201);

    const page = await ui.open(t.adminKey);
    await page.locator('#calls').waitFor();
    // The call rings in while the list is open: it appears without a reload.
    const inbound = await twilio.inboundCall(`${t.baseUrl}/twilio/voice`, { from: '+14155550100', to: '+14155550123' });
    const call = (await t.ctx.store.getCallByTwilioSid(inbound.call.sid))!;
    const row = page.locator(`#calls tr[data-call-id="${call.id}"]`);
    await poll(() => row.count(), 10_000).toBe(1);
    const stream = parseStream(inbound.responseBody)!;
    const carrier = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid: inbound.call.sid, accountSid: twilio.accountSid });
    await poll(() => row.getAttribute('data-status')).toBe('in-progress');
    expect(await row.innerText()).toContain('Front desk');
    await ui.lookAt(page, 'calls', ['#calls', `#calls tr[data-call-id="${call.id}"]`]);
    // Filters go to the API: a web-only list has no phone call; by this agent and live, it is back.
    await page.locator('select[name=direction]').selectOption('web');
    await poll(() => row.count()).toBe(0);
    await page.locator('select[name=direction]').selectOption('');
    await page.locator('select[name=agentId]').selectOption(agent.body.id);
    await page.locator('select[name=status]').selectOption('in-progress');
    await poll(() => row.count()).toBe(1);

    // The call page: the greeting and the caller's question stream into the transcript.
    await row.click();
    const transcript = page.locator('#call-transcript');
    await poll(() => transcript.locator('li[data-role=agent][data-final=true]').first().textContent()).toContain(GREETING);
    await poll(() => carrier.playedBytes, 20_000).toBeGreaterThan(GREETING.length * 20 * 8 * 0.8);
    carrier.say(readUlawFixture('question'));
    await poll(() => transcript.locator('li[data-role=user][data-final=true]').first().textContent(), 30_000).toContain('What are your hours?');
    await poll(() => transcript.locator('li[data-role=agent][data-final=true]').nth(1).textContent(), 30_000).toContain(ANSWER);
    // A long answer, cut off by the caller: the transcript marks the agent's line interrupted.
    dg.options.fallbackTranscript = 'Tell me about the menu.';
    carrier.say(readUlawFixture('question'));
    await poll(() => el.ws.some((c) => c.text.includes('soups')), 30_000).toBe(true);
    const menuStart = carrier.playedBytes;
    await poll(() => carrier.playedBytes - menuStart > 8 * 1500, 30_000).toBe(true);
    dg.options.fallbackTranscript = 'Thanks, that is all.';
    carrier.say(readUlawFixture('long'));
    const cut = transcript.locator('li[data-role=agent][data-interrupted=true]');
    await poll(() => cut.count(), 30_000).toBe(1);
    expect(await cut.locator('.tag').textContent()).toBe('interrupted');
    expect(MENU.startsWith((await cut.locator('.text').textContent())!.replace(/\s*[—-]*$/, '').slice(0, 10))).toBe(true);
    await ui.lookAt(page, 'call-live', ['#call-transcript', '#call-end', '#call-latency', '#call-transcript li[data-interrupted=true]']);

    await carrier.hangup();
    await poll(() => page.locator('[data-fact=end-reason]').textContent(), 20_000).toBe('The caller hung up');
    expect(await page.locator('#call-end').isVisible()).toBe(false);

    // The recording: fetched with the key, both channels drawn, played to the end.
    const audio = page.locator('#call-recording');
    await poll(() => audio.evaluate((a: HTMLAudioElement) => a.readyState), 20_000).toBeGreaterThanOrEqual(1);
    const duration = await audio.evaluate((a: HTMLAudioElement) => a.duration);
    expect(duration).toBeGreaterThan(2);
    const waveInk = await page.locator('canvas.waveform').evaluate((c: HTMLCanvasElement) => {
      // Ink in each lane: the caller (top) and the agent (bottom) both spoke.
      const g = c.getContext('2d')!;
      const lane = (y0: number) => g.getImageData(0, y0, c.width, Math.floor(c.height / 2)).data.filter((_, i) => i % 4 === 3 && _ > 0).length;
      return [lane(0), lane(Math.floor(c.height / 2))];
    });
    expect(waveInk[0]).toBeGreaterThan(500);
    expect(waveInk[1]).toBeGreaterThan(500);
    // Seek close to the end (a seek within the blob), then play at speed to `ended`.
    await audio.evaluate(async (a: HTMLAudioElement) => {
      a.muted = true;
      a.currentTime = Math.max(0, a.duration - 1.5);
      a.playbackRate = 2;
      await a.play();
    });
    await poll(() => audio.evaluate((a: HTMLAudioElement) => a.ended), 20_000).toBe(true);
    // The player streamed from /v1 through the console's service worker: HTTP Range, 206.
    expect(await audio.getAttribute('data-source')).toBe('range');
    const fetches = await page.evaluate(() => (window as unknown as { voxgateConsole: { recordingFetches: Array<{ status: number; range: string | null; contentRange: string | null }> } }).voxgateConsole.recordingFetches);
    expect(fetches.length).toBeGreaterThan(0);
    expect(fetches.every((f) => f.status === 206 && /^bytes=\d+-/.test(f.range ?? '') && /^bytes \d+-\d+\/\d+$/.test(f.contentRange ?? ''))).toBe(true);

    // One bar per measured turn, each split into its parts.
    const json = await t.api('GET', `/v1/calls/${call.id}`);
    const turns = json.body.latency.recent as Array<{ voiceToVoiceMs: number }>;
    expect(turns.length).toBeGreaterThanOrEqual(1);
    await poll(() => page.locator('#call-latency .turn').count()).toBe(turns.length);
    expect(await page.locator('#call-latency .turn').first().locator('.seg[data-part=endpointing]').count()).toBe(1);
    await ui.lookAt(page, 'call-ended', ['#call-recording', 'canvas.waveform', '#call-latency .turn', '#call-transcript']);
    await page.close();
  });

  it('seeks in a long recording with HTTP Range requests, not by downloading it first', { timeout: 60_000 }, async () => {
    // A finished 10-minute call: 19 MB of stereo 8 kHz PCM16, a quiet tone on each channel.
    const agent = await t.ctx.store.createAgent(makeAgent('admin', { name: 'Archive' }));
    const call = await t.ctx.store.createCall(makeCall('admin', agent.id, {
      direction: 'inbound', status: 'completed', endReason: 'caller_hangup', durationSeconds: 600, recordingAvailable: true,
      startedAt: new Date(Date.now() - 700_000).toISOString(), endedAt: new Date(Date.now() - 100_000).toISOString(),
    }));
    const seconds = 600;
    const pcm = Buffer.alloc(8000 * 2 * 2 * seconds);
    for (let i = 0; i < 8000 * seconds; i++) {
      pcm.writeInt16LE(Math.round(2000 * Math.sin(i / 9)), i * 4);
      pcm.writeInt16LE(Math.round(1000 * Math.sin(i / 5)), i * 4 + 2);
    }
    const file = recordingPath(t.dataDir, call.id);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, Buffer.concat([wavHeader({ sampleRate: 8000, channels: 2, bitsPerSample: 16, dataBytes: pcm.length }), pcm]));

    const page = await ui.open(t.adminKey, `#/calls/${call.id}`);
    const audio = page.locator('#call-recording');
    await poll(() => audio.evaluate((a: HTMLAudioElement) => a.readyState), 20_000).toBeGreaterThanOrEqual(1);
    expect(await audio.getAttribute('data-source')).toBe('range');
    expect(await page.locator('[data-fact=end-reason]').textContent()).toBe('The caller hung up');
    await audio.evaluate((a: HTMLAudioElement) => new Promise((resolve) => {
      a.addEventListener('seeked', resolve, { once: true });
      a.currentTime = 590;
    }));
    type Fetch = { status: number; range: string | null; contentRange: string | null };
    const fetches = () => page.evaluate(() => (window as unknown as { voxgateConsole: { recordingFetches: Fetch[] } }).voxgateConsole.recordingFetches);
    // The seek near the end asked for bytes from there on (590 s × 32000 B/s ≈ 18.9 MB).
    await poll(async () => (await fetches()).some((f) => f.status === 206 && Number(/^bytes=(\d+)-/.exec(f.range ?? '')?.[1] ?? 0) > 18_000_000)).toBe(true);
    await page.close();

    // A key that may only read calls is offered no End call, and no other section.
    const reader = await mintKey(t, 'admin', ['calls:read']);
    const ro = await ui.open(reader, `#/calls/${call.id}`);
    await ro.locator('[data-fact=agent]').waitFor();
    expect(await ro.locator('#nav a').allTextContents()).toEqual(['Calls']);
    expect(await ro.locator('#call-end').count()).toBe(0);
    await ro.close();
  });

  it('creates an agent in the form, says what is wrong at the field, and the agent takes a web call', { timeout: 90_000 }, async () => {
    const page = await ui.open(t.adminKey, '#/agents/new');
    const form = page.locator('#agent-form');
    await form.waitFor();
    // Only the pipeline's fields: no realtime provider.
    expect(await form.locator('[data-field=realtimeProvider]').isVisible()).toBe(false);
    expect(await form.locator('[data-field=stt]').isVisible()).toBe(true);
    await form.locator('select[name=architecture]').selectOption('realtime');
    expect(await form.locator('[data-field=stt]').isVisible()).toBe(false);
    expect(await form.locator('[data-field=realtimeProvider]').isVisible()).toBe(true);
    await form.locator('select[name=architecture]').selectOption('pipeline');
    // The brain: a webhook conversation server has a URL and no model.
    await form.locator('select[name="llm.provider"]').selectOption('webhook');
    expect(await form.locator('[data-field=model]').isVisible()).toBe(false);
    expect(await form.locator('[data-field="llm.url"]').isVisible()).toBe(true);
    expect(await form.locator('[data-field="llm.baseUrl"]').isVisible()).toBe(false);
    await form.locator('select[name="llm.provider"]').selectOption('openai');
    expect(await form.locator('[data-field=model]').isVisible()).toBe(true);

    // Nothing filled in: the 422 lands on the fields.
    await form.getByRole('button', { name: 'Create agent' }).click();
    await poll(() => form.locator('.field-error[data-field=name]').count()).toBe(1);
    expect(await form.locator('.field-error[data-field=systemPrompt]').count()).toBe(1);
    await ui.lookAt(page, 'agent-form-errors', ['#agent-form', '.field-error']);

    await form.locator('input[name=name]').fill('Bistro host');
    await form.locator('textarea[name=systemPrompt]').fill('You take bookings for Acme Bistro.');
    await form.locator('input[name=firstMessage]').fill(GREETING);
    await form.locator('input[name=voiceId]').fill('voice-bistro');
    await form.locator('select[name=voiceMode]').selectOption('web');
    await form.locator('input[name="builtin.transfer_call"]').uncheck();
    await form.getByRole('button', { name: 'Create agent' }).click();
    await page.locator('#agent-web-call').waitFor();
    const agentId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]!);
    expect(await t.ctx.store.getAgent(agentId)).toMatchObject({ name: 'Bistro host', architecture: 'pipeline', stt: 'deepgram', tts: 'elevenlabs', voiceId: 'voice-bistro', voiceMode: 'web', disabledTools: ['transfer_call'] });
    await ui.lookAt(page, 'agent-edit', ['#agent-form', '#agent-web-call', '#agent-tools', '#agent-env']);

    await page.evaluate(() => (location.hash = '#/agents'));
    await page.locator(`#agents tr[data-agent-id="${agentId}"]`).waitFor();
    await ui.lookAt(page, 'agents', ['#agents', `#agents tr[data-agent-id="${agentId}"]`]);
    await page.locator(`#agents tr[data-agent-id="${agentId}"]`).click();

    // The web call from the agent's page, through the web-call page.
    await page.locator('#agent-web-call').click();
    const href = await page.locator('#agent-web-call-link').getAttribute('href');
    const callPage = ui.watch(await browser.newPage());
    await callPage.goto(href!);
    await poll(() => callPage.locator('#agent-name').textContent()).toBe('Bistro host');
    await callPage.getByRole('button', { name: 'Start call' }).click();
    await poll(() => callPage.evaluate(() => (window as unknown as { voxgate: { bytesReceived: number } }).voxgate.bytesReceived), 30_000).toBeGreaterThan(0);
    await poll(() => callPage.locator('#transcript li[data-role=agent]').count(), 30_000).toBeGreaterThan(0);
    await callPage.getByRole('button', { name: 'End call' }).click();
    await poll(() => callPage.locator('#status-text').textContent(), 20_000).toBe('Call ended: you hung up');
    await callPage.screenshot({ path: path.join(ARTIFACTS, 'web-call-ended.png'), fullPage: true });
    // The same link again: the page says so before anything connects.
    await callPage.reload();
    await poll(() => callPage.locator('#notice').textContent()).toMatch(/already been used|has ended/);
    expect(await callPage.getByRole('button', { name: 'Start call' }).isVisible()).toBe(false);
    await callPage.close();

    // Editing: switching to realtime sends only realtime's fields and clears the pipeline's.
    await form.locator('select[name=architecture]').selectOption('realtime');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await poll(async () => (await t.ctx.store.getAgent(agentId))?.architecture).toBe('realtime');
    expect(await t.ctx.store.getAgent(agentId)).toMatchObject({ realtimeProvider: 'openai', stt: null, tts: null, model: null, voiceId: 'voice-bistro' });
    expect(ui.errors).toEqual([]);
    await page.close();
  });

});
