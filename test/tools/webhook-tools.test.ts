import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToolRunner } from '../../src/tools/index.js';
import { startFakeWebhookTool, type FakeWebhookTool } from '../fakes/webhook-tool.js';
import { makeTool, makeToolDeps } from './tool-fixtures.js';

const signal = new AbortController().signal;
const SECRET = 'sk_live_very_secret_value';

describe('webhook tools', () => {
  let hook: FakeWebhookTool;
  beforeEach(async () => {
    hook = await startFakeWebhookTool();
  });
  afterEach(async () => {
    await hook.close();
  });

  it('POSTs {tool, arguments, callId, agentId} and returns the JSON answer', async () => {
    hook.script({ body: { found: true, date: '2026-03-01' } });
    const { deps } = makeToolDeps({ tools: [makeTool({ url: `${hook.url}/hook` })] });
    const runner = await createToolRunner(deps);
    const result = await runner.run('lookup_booking', '{"phone":"+14155550100"}', signal);
    expect(result).toEqual({ ok: true, output: '{"found":true,"date":"2026-03-01"}' });
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]!.method).toBe('POST');
    expect(hook.requests[0]!.json).toEqual({
      tool: 'lookup_booking',
      arguments: { phone: '+14155550100' },
      callId: 'call_test',
      agentId: 'agt_test',
    });
  });

  it('GET tools send the arguments as query parameters and return text answers', async () => {
    hook.script({ body: 'open until 6pm', contentType: 'text/plain' });
    const tool = makeTool({
      name: 'hours',
      method: 'GET',
      url: `${hook.url}/hours`,
      parameters: { type: 'object', properties: { day: { type: 'string' }, n: { type: 'integer' } } },
    });
    const { deps } = makeToolDeps({ tools: [tool] });
    const runner = await createToolRunner(deps);
    const result = await runner.run('hours', '{"day":"monday","n":2}', signal);
    expect(result).toEqual({ ok: true, output: 'open until 6pm' });
    expect(hook.requests[0]!.method).toBe('GET');
    expect(hook.requests[0]!.query).toEqual({ day: 'monday', n: '2' });
  });

  it('rejects arguments that do not match the schema without calling the webhook', async () => {
    const { deps } = makeToolDeps({ tools: [makeTool({ url: `${hook.url}/hook` })] });
    const runner = await createToolRunner(deps);
    const missing = await runner.run('lookup_booking', '{}', signal);
    expect(missing.ok).toBe(false);
    expect(missing.output).toContain("missing required property 'phone'");
    const wrongType = await runner.run('lookup_booking', '{"phone":42}', signal);
    expect(wrongType.ok).toBe(false);
    expect(wrongType.output).toMatch(/phone must be string/);
    const notJson = await runner.run('lookup_booking', '{phone:', signal);
    expect(notJson.ok).toBe(false);
    expect(notJson.output).toMatch(/not valid JSON/);
    expect(hook.requests).toHaveLength(0);
  });

  it('fills {{env.NAME}} in URL and headers and keeps the secret out of logs and outputs', async () => {
    hook.script((req) => ({ status: 500, body: `boom ${String(req.headers['authorization'])}` }), { body: { echo: SECRET } });
    const tool = makeTool({
      url: `${hook.url}/hook?key={{env.API_KEY}}`,
      headers: { Authorization: 'Bearer {{ env.API_KEY }}' },
    });
    const fx = makeToolDeps({ tools: [tool], env: { API_KEY: SECRET } });
    const runner = await createToolRunner(fx.deps);
    const failed = await runner.run('lookup_booking', '{"phone":"1"}', signal);
    const echoed = await runner.run('lookup_booking', '{"phone":"1"}', signal);
    expect(hook.requests[0]!.headers['authorization']).toBe(`Bearer ${SECRET}`);
    expect(hook.requests[0]!.query['key']).toBe(SECRET);
    expect(failed.ok).toBe(false);
    expect(failed.output).toContain('HTTP 500');
    expect(failed.output).not.toContain(SECRET);
    expect(echoed.output).not.toContain(SECRET);
    expect(fx.log.lines.length).toBeGreaterThan(0);
    expect(fx.log.lines.join('\n')).not.toContain(SECRET);
  });

  it('an undefined env var is a configuration error, and the request is not sent', async () => {
    const tool = makeTool({ url: `${hook.url}/hook`, headers: { 'X-Key': '{{env.MISSING}}' } });
    const { deps } = makeToolDeps({ tools: [tool] });
    const runner = await createToolRunner(deps);
    const result = await runner.run('lookup_booking', '{"phone":"1"}', signal);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/misconfigured/);
    expect(hook.requests).toHaveLength(0);
  });

  it('a webhook slower than timeoutMs is a tool error', async () => {
    hook.script({ delayMs: 2000, body: { late: true } });
    const { deps } = makeToolDeps({ tools: [makeTool({ url: `${hook.url}/hook`, timeoutMs: 100 })] });
    const runner = await createToolRunner(deps);
    const result = await runner.run('lookup_booking', '{"phone":"1"}', signal);
    expect(result).toEqual({ ok: false, output: 'tool lookup_booking failed: timed out after 100 ms' });
  });

  it('an HTTP 500 is a tool error with a short reason', async () => {
    hook.script({ status: 500, body: 'database down' });
    const { deps } = makeToolDeps({ tools: [makeTool({ url: `${hook.url}/hook` })] });
    const runner = await createToolRunner(deps);
    const result = await runner.run('lookup_booking', '{"phone":"1"}', signal);
    expect(result).toEqual({ ok: false, output: 'tool lookup_booking failed: HTTP 500: database down' });
  });

  it('a refused connection is a tool error, never an exception', async () => {
    const url = hook.url;
    await hook.close();
    hook = await startFakeWebhookTool();
    const { deps } = makeToolDeps({ tools: [makeTool({ url: `${url}/gone` })] });
    const runner = await createToolRunner(deps);
    const result = await runner.run('lookup_booking', '{"phone":"1"}', signal);
    expect(result).toEqual({ ok: false, output: 'tool lookup_booking failed: network error' });
  });

  it('refuses private and loopback URLs unless allowPrivateUrls', async () => {
    const { deps } = makeToolDeps({ tools: [makeTool({ url: `${hook.url}/hook` })], allowPrivateUrls: false });
    const runner = await createToolRunner(deps);
    const result = await runner.run('lookup_booking', '{"phone":"1"}', signal);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/not allowed/);
    expect(hook.requests).toHaveLength(0);
  });

  it('an oversized answer is a tool error rather than a flood of context', async () => {
    hook.script({ body: 'x'.repeat(400 * 1024), contentType: 'text/plain' });
    const { deps } = makeToolDeps({ tools: [makeTool({ url: `${hook.url}/hook` })] });
    const runner = await createToolRunner(deps);
    const result = await runner.run('lookup_booking', '{"phone":"1"}', signal);
    expect(result).toEqual({ ok: false, output: 'tool lookup_booking failed: the response is too large' });
  });

  it('aborting the call signal cancels a running webhook', async () => {
    hook.script({ delayMs: 2000 });
    const { deps } = makeToolDeps({ tools: [makeTool({ url: `${hook.url}/hook` })] });
    const runner = await createToolRunner(deps);
    const ac = new AbortController();
    const pending = runner.run('lookup_booking', '{"phone":"1"}', ac.signal);
    while (hook.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    expect(await pending).toEqual({ ok: false, output: 'tool lookup_booking failed: cancelled' });
  });

  it('a tool whose schema does not compile is not offered', async () => {
    const bad = makeTool({ name: 'broken', parameters: { type: 'object', properties: { a: { type: 'nonsense' } } } });
    const { deps } = makeToolDeps({ tools: [bad, makeTool({ url: `${hook.url}/hook` })] });
    const runner = await createToolRunner(deps);
    expect(runner.specs.map((s) => s.name)).toEqual(['end_call', 'transfer_call', 'lookup_booking']);
  });
});
