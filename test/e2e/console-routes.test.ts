/**
 * The server side of the console and of the first-hour fixes (issue 19), without a browser:
 * `GET /` → `/console`; the console's files are served with a strict CSP and nothing outside
 * src/web/console/ is reachable; creating an agent or a web call whose providers lack
 * credentials says so in `warnings`; the web-call page's link check (`/web/call/info`) tells a
 * fresh, used, ended, expired and forged link apart; the call JSON carries the per-turn latency
 * the console draws.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { seedAgent } from '../api/calls-fixtures.js';
import { createWebToken } from '../../src/transport/web/index.js';

let bare: TestApp;
let full: TestApp;

beforeAll(async () => {
  // No provider credentials at all: what `npm start` on a fresh machine has.
  bare = await createTestApp();
  full = await createTestApp({ env: { DEEPGRAM_API_KEY: 'dg', OPENAI_API_KEY: 'sk', ELEVENLABS_API_KEY: 'el' } });
});
afterAll(async () => {
  await bare?.close();
  await full?.close();
});

const PIPELINE = { name: 'Desk', architecture: 'pipeline', systemPrompt: 'Help.', model: 'gpt-4o-mini', stt: 'deepgram', tts: 'elevenlabs', voiceId: 'v1' };

describe('console routes', () => {
  it('sends / to the console and serves its files with a strict CSP', async () => {
    const root = await fetch(`${bare.baseUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console');
    const page = await fetch(`${bare.baseUrl}/console`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("media-src 'self' blob:");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await page.text();
    for (const id of ['console-signin', 'signin-key']) expect(html).toContain(`id="${id}"`);
    const js = await fetch(`${bare.baseUrl}/console/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // Every module the shell imports exists (a typo would only show in a browser otherwise).
    for (const m of (await js.text()).matchAll(/import\('\.\/([\w-]+\.js)'\)|from '\.\/([\w-]+\.js)'/g)) {
      const file = m[1] ?? m[2];
      expect((await fetch(`${bare.baseUrl}/console/${file}`)).status, file).toBe(200);
    }
    for (const bad of ['/console/../app.ts', '/console/%2e%2e/app.ts', '/console/nope.js', '/console/index.html.bak']) {
      expect((await fetch(`${bare.baseUrl}${bad}`)).status, bad).toBe(404);
    }
  });

  it('names missing provider credentials when an agent or a web call is created', async () => {
    const agent = await bare.api('POST', '/v1/agents', PIPELINE);
    expect(agent.status).toBe(201);
    const w = agent.body.warnings as string[];
    expect(w).toHaveLength(3);
    expect(w.join('\n')).toMatch(/DEEPGRAM_API_KEY/);
    expect(w.join('\n')).toMatch(/ELEVENLABS_API_KEY/);
    expect(w.join('\n')).toMatch(/OPENAI_API_KEY/);
    const realtime = await bare.api('POST', '/v1/agents', { name: 'RT', architecture: 'realtime', systemPrompt: 'Help.', realtimeProvider: 'openai' });
    expect(realtime.body.warnings).toEqual([expect.stringMatching(/OpenAI Realtime.*OPENAI_API_KEY/)]);
    // GET never carries warnings: they belong to the create.
    expect((await bare.api('GET', `/v1/agents/${agent.body.id}`)).body.warnings).toBeUndefined();

    const web = await bare.api('POST', '/v1/web-calls', { agentId: agent.body.id });
    expect(web.status).toBe(201);
    expect(web.body.warnings).toEqual(w);

    const ok = await full.api('POST', '/v1/agents', PIPELINE);
    expect(ok.body.warnings).toEqual([]);
    // An OpenAI-compatible speech server elsewhere may run without a key: no warning.
    const local = await full.api('POST', '/v1/agents', { ...PIPELINE, stt: 'openai-compatible', tts: 'openai-compatible' });
    expect(local.status).toBe(201);
    expect(local.body.warnings).toEqual([]);
  });

  it('tells the web-call page whether its link works, and with whom', async () => {
    const agent = await seedAgent(full, 'admin', { name: 'Bistro host', voiceMode: 'web' });
    const info = async (token: string) => (await fetch(`${full.baseUrl}/web/call/info?token=${encodeURIComponent(token)}`)).json();
    const created = await full.api('POST', '/v1/web-calls', { agentId: agent.id });
    const { token, callId } = created.body as { token: string; callId: string };
    expect(await info(token)).toEqual({ state: 'ready', agentName: 'Bistro host', endReason: null });

    await full.ctx.store.updateCall(callId, { status: 'in-progress' });
    expect(await info(token)).toMatchObject({ state: 'used', agentName: 'Bistro host' });
    expect((await full.api('POST', `/v1/calls/${callId}/end`)).status).toBe(200);
    await expect.poll(async () => (await info(token)).state).toBe('ended');
    expect((await info(token)).endReason).toBe('api_end');

    const stale = createWebToken(full.ctx.secrets.tokenKey, { callId, expiresAt: new Date(Date.now() - 60_000) });
    expect(await info(stale)).toEqual({ state: 'expired', agentName: null, endReason: null });
    expect(await info(`${token.slice(0, -4)}AAAA`)).toEqual({ state: 'invalid', agentName: null, endReason: null });
    const missing = await fetch(`${full.baseUrl}/web/call/info`);
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.code).toBe('bad_request');
  });

  it('returns each recent turn’s latency breakdown on the call', async () => {
    const agent = await seedAgent(full, 'admin');
    const created = await full.api('POST', '/v1/web-calls', { agentId: agent.id });
    const call = (await full.ctx.store.getCall(created.body.callId))!;
    const turn = { endpointingMs: 210, sttFinalMs: 180, llmFirstTokenMs: 320, ttsFirstByteMs: 140, firstAudioSentMs: 12, voiceToVoiceMs: 690 };
    await full.ctx.store.updateCall(call.id, { latency: { turns: 1, p50Ms: 690, p95Ms: 690, recent: [turn] } });
    const json = await full.api('GET', `/v1/calls/${call.id}`);
    expect(json.body.latency).toEqual({ turns: 1, p50Ms: 690, p95Ms: 690, recent: [turn] });
  });
});
