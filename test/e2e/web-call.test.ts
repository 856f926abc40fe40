/**
 * Web calls end to end in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against the whole gateway with fake providers: the page at `pageUrl` takes
 * the microphone (Chromium's fake device, looping a fixture WAV of caller speech between
 * silences), plays the agent's greeting, shows the caller's words, drops queued audio on
 * barge-in (`clear`), and ends the call with its End button; the call has a stereo recording
 * and a transcript afterwards. One pipeline agent (Deepgram + OpenAI chat + ElevenLabs fakes)
 * and one realtime agent (the OpenAI Realtime fake). Also: a used link shows a clear message.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { fixturePath } from '../helpers/fixtures.js';
import { parseWav, wavHeader } from '../../src/media/index.js';
import { seedAgent } from '../api/calls-fixtures.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { startFakeRealtime, type FakeRealtimeServer } from '../fakes/openai-realtime.js';
import type { Agent } from '../../src/store/types.js';
import { createWebToken } from '../../src/transport/web/index.js';

const ARTIFACTS = path.resolve('test-artifacts');
const LONG_GREETING = 'Hello and welcome to Acme Bistro. I can book a table, move a booking, or tell you about tonight’s specials. What can I do for you?';
const LONG_ANSWER = 'Of course. We have tables at six, at half past six, at seven and at eight tonight, and on the terrace if the weather holds. Which time suits you best, and for how many people?';

let t: TestApp;
let dg: FakeDeepgram;
let chat: FakeOpenAiChat;
let el: FakeElevenLabs;
let rt: FakeRealtimeServer;
let browser: BrowserContext;
let workDir: string;

/**
 * The fake microphone: 1.5 s of silence (the greeting starts unopposed), the caller's question,
 * then 2.5 s of silence (the turn ends). Chromium loops it, so the caller speaks again over
 * the agent's long answer: a second barge-in.
 */
function micWav(dir: string): string {
  const speech = readFileSync(fixturePath('question', 'pcm16k'));
  const info = parseWav(speech);
  const pcm = speech.subarray(info.dataOffset, info.dataOffset + info.dataBytes);
  const data = Buffer.concat([Buffer.alloc(16000 * 2 * 1.5), pcm, Buffer.alloc(16000 * 2 * 2.5)]);
  const file = path.join(dir, 'caller.wav');
  writeFileSync(file, Buffer.concat([wavHeader({ sampleRate: 16000, channels: 1, bitsPerSample: 16, dataBytes: data.length }), data]));
  return file;
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'voxgate-webcall-'));
  [dg, chat, el, rt] = await Promise.all([
    startFakeDeepgram({ transcripts: ['I would like to book a table for tonight'], fallbackTranscript: 'at seven please' }),
    startFakeOpenAiChat({ respond: () => ({ tokens: LONG_ANSWER.split(/(?<= )/), tokenDelayMs: 5 }) }),
    startFakeElevenLabs({ msPerChar: 45 }),
    // The realtime bridge uses OPENAI_API_KEY too.
    startFakeRealtime({
      apiKey: 'sk-test',
      responder: (ctx) => ({ transcript: ctx.trigger === 'response.create' ? LONG_GREETING : LONG_ANSWER, audioMs: ctx.trigger === 'response.create' ? 6000 : 8000 }),
    }),
  ]);
  rt.userTranscripts.push('I would like to book a table for tonight');
  t = await createTestApp({
    env: {
      DEEPGRAM_URL: dg.url,
      DEEPGRAM_API_KEY: 'dg-test',
      OPENAI_BASE_URL: chat.url,
      OPENAI_API_KEY: 'sk-test',
      ELEVENLABS_BASE_URL: el.url,
      ELEVENLABS_API_KEY: 'el-test',
      OPENAI_REALTIME_URL: rt.url,
    },
  });
  browser = await chromium.launchPersistentContext(path.join(workDir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    viewport: { width: 900, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micWav(workDir)}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await Promise.all([dg?.close(), chat?.close(), el?.close(), rt?.close()]);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

type PageStats = { state: string; bytesReceived: number; framesSent: number; clears: number; endReason: string | null; closeCode: number | null };
const stats = (page: Page): Promise<PageStats> => page.evaluate(() => (window as unknown as { voxgate: PageStats }).voxgate);

async function pipelineAgent(): Promise<Agent> {
  return seedAgent(t, 'admin', {
    architecture: 'pipeline',
    voiceMode: 'web',
    firstMessage: LONG_GREETING,
    model: 'gpt-4o-mini',
    stt: 'deepgram',
    tts: 'elevenlabs',
    knowledgeIds: [],
    disabledTools: [],
    turnDetection: { silenceMs: 500, minInterruptionMs: 300, interruptible: true },
  });
}

async function realtimeAgent(): Promise<Agent> {
  return seedAgent(t, 'admin', {
    architecture: 'realtime',
    realtimeProvider: 'openai',
    voiceMode: 'web_and_phone',
    firstMessage: LONG_GREETING,
    model: null,
    stt: null,
    tts: null,
    knowledgeIds: [],
    disabledTools: [],
    turnDetection: { silenceMs: 500, minInterruptionMs: 300, interruptible: true },
  });
}

async function openPage(pageUrl: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pageUrl);
  return { page, errors };
}

/** The whole call through the page; returns the call id. */
async function callThroughPage(agent: Agent, screenshot: string): Promise<string> {
  const created = await t.api('POST', '/v1/web-calls', { agentId: agent.id });
  expect(created.status).toBe(201);
  const { callId, pageUrl } = created.body as { callId: string; pageUrl: string };
  const { page, errors } = await openPage(pageUrl);
  await expect.poll(() => page.locator('#status').getAttribute('data-state')).toBe('ready');
  await page.getByRole('button', { name: 'Start call' }).click();
  await expect.poll(async () => (await stats(page)).state, { timeout: 30_000 }).toBe('live');
  expect(await page.locator('#status-text').textContent()).toBe('Live');

  // The greeting plays: agent audio reaches the page; the microphone reaches the gateway.
  await expect.poll(async () => (await stats(page)).bytesReceived, { timeout: 30_000 }).toBeGreaterThan(0);
  await expect.poll(async () => (await stats(page)).framesSent, { timeout: 30_000 }).toBeGreaterThan(25);
  // The caller's fixture speech becomes a final user line on the page.
  const userLine = page.locator('#transcript li[data-role="user"][data-final="true"]');
  await expect.poll(() => userLine.count(), { timeout: 60_000 }).toBeGreaterThan(0);
  expect((await userLine.first().locator('.text').textContent())!.length).toBeGreaterThan(0);
  // The caller talks over the agent: the page is told to drop what it had queued.
  await expect.poll(async () => (await stats(page)).clears, { timeout: 60_000 }).toBeGreaterThan(0);
  await expect.poll(() => page.locator('#transcript li[data-role="agent"]').count(), { timeout: 30_000 }).toBeGreaterThan(0);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, screenshot), fullPage: true });

  // Keyboard: the mute button is reachable and toggles.
  await page.getByRole('button', { name: 'Mute' }).focus();
  await page.keyboard.press('Enter');
  expect(await page.getByRole('button', { name: 'Unmute' }).getAttribute('aria-pressed')).toBe('true');
  await page.keyboard.press('Enter');

  await page.getByRole('button', { name: 'End call' }).click();
  await expect.poll(async () => (await stats(page)).state, { timeout: 30_000 }).toBe('ended');
  const end = await stats(page);
  expect(end.closeCode).toBe(1000);
  expect(end.endReason).toBe('caller_hangup');
  expect(await page.locator('#status-text').textContent()).toBe('Call ended: you hung up');
  expect(errors).toEqual([]);
  await page.close();
  return callId;
}

async function checkAfterwards(callId: string): Promise<void> {
  await expect.poll(async () => (await t.ctx.store.getCall(callId))?.status, { timeout: 30_000 }).toBe('completed');
  const call = await t.api('GET', `/v1/calls/${callId}`);
  expect(call.body).toMatchObject({ direction: 'web', status: 'completed', endReason: 'caller_hangup', recordingAvailable: true });

  const rec = await fetch(`${t.baseUrl}/v1/calls/${callId}/recording`, { headers: { authorization: `Bearer ${t.adminKey}` } });
  expect(rec.status).toBe(200);
  expect(rec.headers.get('content-type')).toMatch(/^audio\/wav/);
  const file = path.join(workDir, `${callId}.wav`);
  writeFileSync(file, Buffer.from(await rec.arrayBuffer()));
  expect(execFileSync('soxi', ['-c', file]).toString().trim()).toBe('2');
  expect(execFileSync('soxi', ['-r', file]).toString().trim()).toBe('8000');
  expect(Number(execFileSync('soxi', ['-D', file]).toString())).toBeGreaterThan(2);

  const transcript = await t.api('GET', `/v1/calls/${callId}/transcript`);
  const items = (transcript.body as { items: Array<{ role: string; text: string; interrupted?: boolean }> }).items;
  expect(items.some((i) => i.role === 'user' && i.text.length > 0)).toBe(true);
  expect(items.some((i) => i.role === 'agent' && i.interrupted === true)).toBe(true);
}

describe('web call page in Chromium', () => {
  it('pipeline agent: greeting plays, the caller is transcribed, barge-in clears, End ends; recording and transcript exist', async () => {
    const callId = await callThroughPage(await pipelineAgent(), 'web-call-pipeline.png');
    await checkAfterwards(callId);
  }, 180_000);

  it('realtime agent: the same call through the realtime bridge', async () => {
    const callId = await callThroughPage(await realtimeAgent(), 'web-call-realtime.png');
    await checkAfterwards(callId);
  }, 180_000);

  it('a used or expired link shows a clear message instead of a call', async () => {
    const agent = await pipelineAgent();
    const created = await t.api('POST', '/v1/web-calls', { agentId: agent.id });
    const { pageUrl, websocketUrl, callId } = created.body as { pageUrl: string; websocketUrl: string; callId: string };
    // Someone already joined with this link.
    const { default: WebSocket } = await import('ws');
    const first = new WebSocket(websocketUrl);
    await new Promise((r) => first.once('open', r));
    await expect.poll(() => t.ctx.calls.get(callId)?.live ?? false).toBe(true);

    // The page says so on load (issue 19), before the microphone prompt: no Start button.
    const { page, errors } = await openPage(pageUrl);
    await expect.poll(async () => (await stats(page)).state, { timeout: 30_000 }).toBe('error');
    expect(await page.getByRole('alert').textContent()).toBe('This call link has already been used. Ask for a new link to call again.');
    expect(await page.locator('#status-text').textContent()).toBe('Not connected');
    expect(await page.getByRole('button', { name: 'Start call' }).isVisible()).toBe(false);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-call-used-link.png') });
    await page.close();
    first.close();

    // A link older than 5 minutes says so.
    const stale = createWebToken(t.ctx.secrets.tokenKey, { callId, expiresAt: new Date(Date.now() - 60_000) });
    const expired = await openPage(`${t.baseUrl}/web/call?token=${encodeURIComponent(stale)}`);
    await expect.poll(async () => (await stats(expired.page)).state, { timeout: 30_000 }).toBe('error');
    expect(await expired.page.getByRole('alert').textContent()).toBe('This call link has expired (links work for 5 minutes). Ask for a new link.');
    await expired.page.close();
  }, 120_000);

  it('a refused microphone is explained, and the link stays unused for another try', async () => {
    const agent = await pipelineAgent();
    const created = await t.api('POST', '/v1/web-calls', { agentId: agent.id });
    const { pageUrl, callId } = created.body as { pageUrl: string; callId: string };
    // No fake-UI flag and no permission granted: Chromium refuses getUserMedia.
    const denying = await chromium.launchPersistentContext(path.join(workDir, 'profile-denied'), {
      executablePath: '/usr/bin/chromium',
      permissions: [],
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream', '--deny-permission-prompts'],
    });
    try {
      const page = await denying.newPage();
      await page.goto(pageUrl);
      await page.getByRole('button', { name: 'Start call' }).click();
      await expect.poll(() => page.evaluate(() => (window as unknown as { voxgate: PageStats & { error: string } }).voxgate.error), { timeout: 30_000 }).toBe('microphone_refused');
      expect(await page.getByRole('alert').textContent()).toMatch(/^Microphone access was refused\. Allow the microphone/);
      expect(await page.locator('#status-text').textContent()).toBe('Microphone needed');
      expect(await page.getByRole('button', { name: 'Start call' }).isEnabled()).toBe(true);
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-call-mic-refused.png') });
    } finally {
      await denying.close();
    }
    // No socket was opened: the call is still waiting for its browser.
    expect((await t.ctx.store.getCall(callId))!.status).toBe('queued');
  }, 120_000);
});
