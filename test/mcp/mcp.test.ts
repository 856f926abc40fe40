/**
 * `/mcp` with the SDK's own `Client` + `StreamableHTTPClientTransport` against a running
 * gateway whose Twilio SDK talks to the fake Twilio REST server: an agent's whole story (create
 * an agent, attach a number, place a call, wait for it to end, read the transcript, request a
 * campaign start, see it awaiting approval, find no way to approve it), the scope filter of
 * `tools/list`, owner isolation, sessions bound to their key, and bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { e164, seedKey, startCallsGateway, type CallsGateway } from '../api/calls-fixtures.js';
import { TOOLS } from '../../src/mcp/index.js';
import { trackedRoutes } from '../../src/api/method-guard.js';
import type { Scope } from '../../src/store/types.js';

let g: CallsGateway;
const clients: Client[] = [];

const AGENT_SCOPES: Scope[] = [
  'agents:read', 'agents:write', 'numbers:read', 'numbers:write', 'calls:read', 'calls:write',
  'knowledge:read', 'knowledge:write', 'campaigns:read', 'campaigns:write', 'campaigns:execute',
];

async function connect(key: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${g.t.baseUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
  const client = new Client({ name: 'voxgate-test', version: '1' });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}
const ok = (r: CallToolResult): any => {
  expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
  return r.structuredContent;
};
const text = (r: CallToolResult): string => (r.content[0] as { text: string }).text;
/** An error result's REST error body (its second text item). */
const errorBody = (r: CallToolResult): any => JSON.parse((r.content[1] as { text: string }).text);

beforeAll(async () => {
  g = await startCallsGateway();
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await g?.close();
});

describe('the tool table', () => {
  it('has exactly the tools of API.md, none approves, and each needs its REST twin\'s scope', () => {
    expect(TOOLS.map((t) => t.name).sort()).toEqual(
      [
        'list_agents', 'get_agent', 'create_agent', 'update_agent', 'list_voices', 'list_phone_numbers', 'attach_phone_number',
        'place_call', 'create_web_call', 'list_calls', 'get_call', 'get_transcript', 'end_call', 'wait_for_call', 'create_campaign',
        'add_contacts', 'list_contacts', 'request_campaign_action', 'get_action', 'campaign_results', 'list_knowledge', 'add_knowledge_text',
      ].sort(),
    );
    expect(TOOLS.some((t) => /approv|reject|decide/.test(t.name))).toBe(false);
    const routeScope = new Map(trackedRoutes(g.t.app.server).map((r) => [`${r.method} ${r.url}`, r.scope]));
    const twins: Record<string, string> = {
      list_agents: 'GET /v1/agents', get_agent: 'GET /v1/agents/:id', create_agent: 'POST /v1/agents', update_agent: 'PATCH /v1/agents/:id',
      list_phone_numbers: 'GET /v1/phone-numbers', attach_phone_number: 'POST /v1/agents/:id/phone', place_call: 'POST /v1/calls',
      create_web_call: 'POST /v1/web-calls', list_calls: 'GET /v1/calls', get_call: 'GET /v1/calls/:id', get_transcript: 'GET /v1/calls/:id/transcript',
      end_call: 'POST /v1/calls/:id/end', wait_for_call: 'GET /v1/calls/:id', create_campaign: 'POST /v1/campaigns',
      add_contacts: 'POST /v1/campaigns/:id/contacts', list_contacts: 'GET /v1/campaigns/:id/contacts', request_campaign_action: 'POST /v1/campaigns/:id/start',
      campaign_results: 'GET /v1/campaigns/:id/results', list_knowledge: 'GET /v1/knowledge', add_knowledge_text: 'POST /v1/knowledge/text',
    };
    for (const [tool, route] of Object.entries(twins)) expect(TOOLS.find((t) => t.name === tool)!.scope, tool).toBe(routeScope.get(route));
  });
});

describe('an agent\'s whole story over MCP', () => {
  it('creates an agent, attaches a number, calls, waits, reads the transcript, and can only request a campaign start', async () => {
    const key = await seedKey(g.t, 'acme', AGENT_SCOPES);
    const { client } = await connect(key);
    const listed = (await client.listTools()).tools;
    expect(listed.map((t) => t.name)).toContain('wait_for_call');
    const create = listed.find((t) => t.name === 'create_agent')!;
    expect(create.inputSchema.type).toBe('object');
    expect(Object.keys(create.inputSchema.properties!)).toEqual(expect.arrayContaining(['name', 'architecture', 'systemPrompt', 'stt', 'tts']));

    // The per-architecture rule, from the same service as POST /v1/agents.
    const incomplete = await call(client, 'create_agent', { name: 'Desk', architecture: 'pipeline', systemPrompt: 'Be brief.' });
    expect(incomplete.isError).toBe(true);
    expect(text(incomplete)).toMatch(/^validation_failed: /);
    expect(errorBody(incomplete).error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['model', 'stt', 'tts']));

    const agent = ok(await call(client, 'create_agent', { name: 'Desk', architecture: 'pipeline', systemPrompt: 'Be brief.', model: 'gpt-4o-mini', stt: 'deepgram', tts: 'elevenlabs' }));
    const { warnings, ...stored } = agent;
    expect(Array.isArray(warnings)).toBe(true);
    expect(stored).toEqual((await g.t.api('GET', `/v1/agents/${agent.id}`, undefined, key)).body);
    const updated = ok(await call(client, 'update_agent', { agentId: agent.id, firstMessage: 'Hello from Acme' }));
    expect(updated.firstMessage).toBe('Hello from Acme');

    const number = (await g.t.api('POST', '/v1/phone-numbers', { phoneNumber: e164(), label: 'Main' }, key)).body;
    const attached = ok(await call(client, 'attach_phone_number', { agentId: agent.id, phoneNumberId: number.id }));
    expect(attached.agentId).toBe(agent.id);
    expect(ok(await call(client, 'list_phone_numbers')).items[0].agentId).toBe(agent.id);

    const placed = ok(await call(client, 'place_call', { agentId: agent.id, toNumber: '+14155550123', variables: { name: 'Ada' } }));
    expect(placed).toMatchObject({ status: 'queued', direction: 'outbound', fromNumber: number.phoneNumber });
    const sid = placed.twilioCallSid as string;

    // A short wait on a live call returns the call as it is, saying so.
    const early = await call(client, 'wait_for_call', { callId: placed.id, timeoutSeconds: 1 });
    expect(early.structuredContent).toMatchObject({ id: placed.id, status: 'queued' });
    expect(text(early)).toMatch(/still queued after 1 s/);

    const waiting = call(client, 'wait_for_call', { callId: placed.id, timeoutSeconds: 120 });
    await g.t.ctx.store.appendCallEvent(placed.id, 'transcript.final', { role: 'agent', text: 'Hello from Acme', startMs: 0, endMs: 900, final: true });
    await g.fake.ring(sid);
    await g.fake.answer(sid);
    await g.fake.complete(sid, 'completed', { durationSeconds: 42 });
    const ended = ok(await waiting);
    expect(ended.status).toBe('completed');
    expect(ended).toEqual((await g.t.api('GET', `/v1/calls/${placed.id}`, undefined, key)).body);

    const transcript = ok(await call(client, 'get_transcript', { callId: placed.id }));
    expect(transcript).toEqual((await g.t.api('GET', `/v1/calls/${placed.id}/transcript`, undefined, key)).body);
    expect(transcript.items.map((i: { text: string }) => i.text)).toEqual(['Hello from Acme']);

    const campaign = ok(await call(client, 'create_campaign', { name: 'Renewals', agentId: agent.id, fromNumberId: number.id }));
    expect(campaign.status).toBe('draft');
    const contacts = ok(await call(client, 'add_contacts', { campaignId: campaign.id, contacts: [{ phone: '+14155550101', name: 'Ada' }, { phone: 'x' }] }));
    expect(contacts).toMatchObject({ created: 1, failed: 1 });
    expect(ok(await call(client, 'list_contacts', { campaignId: campaign.id })).items).toHaveLength(1);
    const requested = ok(await call(client, 'request_campaign_action', { campaignId: campaign.id, action: 'start' }));
    expect(requested.status).toBe('awaiting_approval');
    const action = ok(await call(client, 'get_action', { actionId: requested.actionId }));
    expect(action).toMatchObject({ action: 'start', status: 'awaiting_approval', requestedBy: 'acme' });

    // No tool approves, and approve-like names are unknown tools (a protocol error).
    await expect(call(client, 'approve_action', { actionId: requested.actionId })).rejects.toThrow(/unknown tool/);
    expect((await g.t.ctx.store.getAction(requested.actionId))!.status).toBe('awaiting_approval');
    const results = ok(await call(client, 'campaign_results', { campaignId: campaign.id }));
    expect(results.rows).toHaveLength(1);
    // structuredContent is the REST JSON, field for field.
    expect(results).toEqual((await g.t.api('GET', `/v1/campaigns/${campaign.id}/results`, undefined, key)).body);
    expect(action).toEqual((await g.t.api('GET', `/v1/actions/${requested.actionId}`, undefined, key)).body);
    expect(ok(await call(client, 'list_agents'))).toEqual((await g.t.api('GET', '/v1/agents', undefined, key)).body);
    expect(ok(await call(client, 'list_calls', { agentId: agent.id }))).toEqual((await g.t.api('GET', `/v1/calls?agentId=${agent.id}`, undefined, key)).body);
    expect(ok(await call(client, 'list_contacts', { campaignId: campaign.id }))).toEqual((await g.t.api('GET', `/v1/campaigns/${campaign.id}/contacts`, undefined, key)).body);
    // Tools declare the REST response schema as outputSchema (the SDK client checks results against it).
    expect(listed.find((t) => t.name === 'get_call')!.outputSchema?.properties).toHaveProperty('endReason');
  });
});

describe('scopes, owners, sessions', () => {
  it('tools/list shows only what the key\'s scopes allow, and a hidden tool answers forbidden', async () => {
    const key = await seedKey(g.t, 'reader', ['calls:read', 'knowledge:read']);
    const { client } = await connect(key);
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(['get_call', 'get_transcript', 'list_calls', 'list_knowledge', 'wait_for_call']);
    const refused = await call(client, 'create_agent', { name: 'x', architecture: 'realtime', systemPrompt: 'p', realtimeProvider: 'openai' });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/^forbidden: /);
    expect((await g.t.ctx.store.listAgents('reader', { limit: 10 })).items).toEqual([]);

    const reviewer = await seedKey(g.t, 'ops', ['approvals:write']);
    const { client: rc } = await connect(reviewer);
    expect((await rc.listTools()).tools.map((t) => t.name)).toEqual(['get_action']);
  });

  it('keeps owners apart: another owner\'s objects are not_found', async () => {
    const a = await seedKey(g.t, 'owner-a', AGENT_SCOPES);
    const b = await seedKey(g.t, 'owner-b', AGENT_SCOPES);
    const { client: ca } = await connect(a);
    const { client: cb } = await connect(b);
    const agent = ok(await call(ca, 'create_agent', { name: 'A', architecture: 'realtime', systemPrompt: 'p', realtimeProvider: 'openai' }));
    const doc = ok(await call(ca, 'add_knowledge_text', { name: 'secret', text: 'owner A only' }));
    for (const [tool, args] of [
      ['get_agent', { agentId: agent.id }],
      ['update_agent', { agentId: agent.id, name: 'stolen' }],
      ['create_web_call', { agentId: agent.id }],
    ] as const) {
      const r = await call(cb, tool, args);
      expect(r.isError, tool).toBe(true);
      expect(text(r), tool).toMatch(/^not_found: /);
    }
    expect(ok(await call(cb, 'list_agents')).items).toEqual([]);
    expect(ok(await call(cb, 'list_knowledge')).items).toEqual([]);
    expect(ok(await call(ca, 'list_knowledge')).items.map((d: { id: string }) => d.id)).toEqual([doc.id]);
    expect(ok(await call(ca, 'get_agent', { agentId: agent.id })).name).toBe('A');
  });

  it('binds a session to the key that opened it', async () => {
    const a = await seedKey(g.t, 'sess-a', AGENT_SCOPES);
    const b = await seedKey(g.t, 'sess-b', AGENT_SCOPES);
    const { client: ca, transport } = await connect(a);
    ok(await call(ca, 'create_agent', { name: 'mine', architecture: 'realtime', systemPrompt: 'p', realtimeProvider: 'openai' }));
    const sessionId = transport.sessionId!;
    expect(sessionId).toBeTruthy();

    // Key B with A's session id, through the SDK: the session does not exist for B.
    const stolen = new StreamableHTTPClientTransport(new URL(`${g.t.baseUrl}/mcp`), { sessionId, requestInit: { headers: { authorization: `Bearer ${b}` } } });
    const cb = new Client({ name: 'thief', version: '1' });
    await cb.connect(stolen);
    clients.push(cb);
    await expect(cb.callTool({ name: 'list_agents', arguments: {} })).rejects.toThrow(/404|not found/i);

    // And raw, with X-API-Key: 404, no data.
    const raw = await fetch(`${g.t.baseUrl}/mcp`, {
      method: 'POST',
      headers: { 'x-api-key': b, 'mcp-session-id': sessionId, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_agents', arguments: {} } }),
    });
    expect(raw.status).toBe(404);
    const body = await raw.text();
    expect(body).not.toContain('mine');
    expect(JSON.parse(body).error.code).toBe(-32001);

    // A's session still works.
    expect(ok(await call(ca, 'list_agents')).items.map((x: { name: string }) => x.name)).toEqual(['mine']);
  });

  it('needs a key, exactly as /v1: 401 without or with an unknown one', async () => {
    for (const headers of [{}, { authorization: 'Bearer vg_nope' }, { 'x-api-key': 'vg_nope' }] as Array<Record<string, string>>) {
      const res = await fetch(`${g.t.baseUrl}/mcp`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
      });
      expect(res.status).toBe(401);
      expect((await res.json()).error.message).toMatch(/^unauthorized: /);
    }
    const transport = new StreamableHTTPClientTransport(new URL(`${g.t.baseUrl}/mcp`));
    await expect(new Client({ name: 'anon', version: '1' }).connect(transport)).rejects.toThrow();
  });
});

describe('bad input', () => {
  it('answers wrong types, unknown tools and oversized arguments with MCP errors, and the session lives on', async () => {
    const key = await seedKey(g.t, 'fuzzer', AGENT_SCOPES);
    const { client } = await connect(key);
    for (const [tool, args] of [
      ['get_agent', {}],
      ['get_agent', { agentId: { $ne: null } }],
      ['list_calls', { limit: 'many' }],
      ['list_calls', { status: 'exploded' }],
      ['wait_for_call', { callId: 'call_x', timeoutSeconds: 301 }],
      ['request_campaign_action', { campaignId: 'cmp_x', action: 'approve' }],
      ['create_agent', { name: 'x'.repeat(300), architecture: 'realtime', systemPrompt: 'p', realtimeProvider: 'openai' }],
      ['place_call', { agentId: 'agt_x', toNumber: '555' }],
    ] as const) {
      const r = await call(client, tool, args as Record<string, unknown>);
      expect(r.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(text(r), tool).toMatch(/^validation_failed: /);
      expect(errorBody(r).error.code).toBe('validation_failed');
    }
    await expect(call(client, 'no_such_tool')).rejects.toThrow(/unknown tool/);
    const tooMany = await call(client, 'add_contacts', { campaignId: 'cmp_x', contacts: Array.from({ length: 5001 }, () => ({ phone: '+14155550101' })) });
    expect(text(tooMany)).toMatch(/^too_many_contacts: /);
    // Over the body limit: the transport answers 413 with a JSON-RPC error.
    await expect(call(client, 'add_knowledge_text', { name: 'big', text: 'x'.repeat(9 * 1024 * 1024) })).rejects.toThrow(/413|payload_too_large/);
    // Malformed JSON-RPC on the wire: 400, not a crash.
    const garbage = await fetch(`${g.t.baseUrl}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"jsonrpc":' });
    expect(garbage.status).toBe(400);
    expect(ok(await call(client, 'list_agents')).items).toEqual([]);
  });
});
