import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRealtimeEngine } from '../../src/engine/realtime.js';
import type { Engine } from '../../src/engine/types.js';
import { defaultResponder, startFakeRealtime, waitFor, type FakeRealtimeServer, type ScriptedRealtimeResponse } from '../fakes/openai-realtime.js';
import { startFakeWebhookTool, type FakeWebhookTool } from '../fakes/webhook-tool.js';
import { makeTool } from '../tools/tool-fixtures.js';
import { makeHost, type TestHost } from './realtime-host.js';

describe('realtime engine: tool calls', () => {
  let fake: FakeRealtimeServer;
  let hook: FakeWebhookTool;
  let engine: Engine | null = null;
  let script: ScriptedRealtimeResponse[] = [];
  beforeEach(async () => {
    script = [];
    fake = await startFakeRealtime({ responder: (ctx) => script.shift() ?? defaultResponder(ctx) });
    hook = await startFakeWebhookTool();
  });
  afterEach(async () => {
    await engine?.close();
    engine = null;
    await fake.close();
    await hook.close();
  });

  const startCall = async (host: TestHost): Promise<void> => {
    engine = createRealtimeEngine(host);
    await engine.prepare();
    await engine.start();
  };

  it('runs a webhook tool and returns its output with conversation.item.create + response.create', async () => {
    hook.script({ body: { found: true, date: 'March 1' } });
    script = [
      { functionCall: { name: 'lookup_booking', arguments: '{"phone":"+14155550100"}', callId: 'call_abc' } },
      { transcript: 'Your booking is on March 1.' },
    ];
    const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, agent: { firstMessage: null }, tools: [makeTool({ url: `${hook.url}/hook` })] });
    await startCall(host);
    const conn = fake.latest()!;
    await waitFor(() => conn.eventsOf('session.update').length === 1, 5000, 'session.update');
    conn.simulateTurn();
    await waitFor(() => host.transcripts.find((t) => t.text === 'Your booking is on March 1.'), 5000, 'answer after the tool');
    expect(hook.requests[0]!.json).toMatchObject({ tool: 'lookup_booking', arguments: { phone: '+14155550100' }, callId: 'call_rt' });
    const output = conn.eventsOf('conversation.item.create').find((e) => e.item.type === 'function_call_output');
    expect(output!.item).toEqual({ type: 'function_call_output', call_id: 'call_abc', output: '{"found":true,"date":"March 1"}' });
    // The output went in before the follow-up response was asked for.
    const order = conn.received.map((e) => e['type']).filter((t) => t === 'conversation.item.create' || t === 'response.create');
    expect(order).toEqual(['conversation.item.create', 'response.create']);
    expect(host.transcripts.find((t) => t.role === 'tool')!.text).toContain('lookup_booking');
    expect(conn.sent.filter((e) => e['type'] === 'error')).toEqual([]);
  });

  it('a failing tool is reported to the model, and the call goes on', async () => {
    hook.script({ status: 500, body: 'db down' });
    script = [{ functionCall: { name: 'lookup_booking', arguments: '{"phone":"1"}' } }, { transcript: 'Sorry, I cannot look that up.' }];
    const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, agent: { firstMessage: null }, tools: [makeTool({ url: `${hook.url}/hook` })] });
    await startCall(host);
    const conn = fake.latest()!;
    await waitFor(() => conn.eventsOf('session.update').length === 1, 5000, 'session.update');
    conn.simulateTurn();
    await waitFor(() => host.transcripts.find((t) => t.text === 'Sorry, I cannot look that up.'), 5000, 'apology');
    const output = conn.eventsOf('conversation.item.create').find((e) => e.item.type === 'function_call_output');
    expect(output!.item.output).toContain('HTTP 500');
    expect(host.ended).toEqual([]);
  });

  it('end_call after a spoken goodbye hangs up once the goodbye has played', async () => {
    const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, agent: { firstMessage: 'Goodbye now!' } });
    host.playback.autoPlay = false;
    await startCall(host);
    const conn = fake.latest()!;
    const item = await waitFor(() => conn.items.find((i) => i.role === 'assistant'), 5000, 'goodbye item');
    await waitFor(() => conn.sent.some((e) => e['type'] === 'response.done'), 5000, 'goodbye produced');
    // The model calls end_call in a response of its own while the goodbye is still playing.
    script = [{ functionCall: { name: 'end_call', arguments: '{}' } }];
    conn.respond('response.create', null, null);
    await waitFor(() => conn.eventsOf('conversation.item.create').length === 1, 5000, 'end_call output');
    expect(host.ended).toEqual([]);
    host.playback.playOut(item.id);
    await waitFor(() => host.ended.length === 1, 5000, 'hang-up');
    expect(host.ended).toEqual(['agent_hangup']);
    expect(host.transcripts.find((t) => t.role === 'agent')!.text).toBe('Goodbye now!');
  });

  it('end_call without a goodbye lets the model say one, then hangs up', async () => {
    script = [{ functionCall: { name: 'end_call', arguments: '{"reason":"done"}' } }, { transcript: 'Thanks for calling, bye!' }];
    const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, agent: { firstMessage: null } });
    await startCall(host);
    const conn = fake.latest()!;
    await waitFor(() => conn.eventsOf('session.update').length === 1, 5000, 'session.update');
    conn.simulateTurn();
    await waitFor(() => host.ended.length === 1, 5000, 'hang-up');
    expect(host.ended).toEqual(['agent_hangup']);
    expect(host.transcripts.map((t) => t.text)).toContain('Thanks for calling, bye!');
  });

  it('transfer_call hands the number to the host', async () => {
    script = [{ functionCall: { name: 'transfer_call', arguments: '{"toNumber":"+14155550123"}' } }, { transcript: 'Transferring you now.' }];
    const host = makeHost({ realtimeUrl: fake.url, apiKey: fake.apiKey, agent: { firstMessage: null } });
    await startCall(host);
    const conn = fake.latest()!;
    await waitFor(() => conn.eventsOf('session.update').length === 1, 5000, 'session.update');
    conn.simulateTurn();
    await waitFor(() => host.transfers.length === 1, 5000, 'transfer');
    expect(host.transfers).toEqual(['+14155550123']);
  });
});
