/**
 * `wait_for_call` across a cluster: two nodes on one PostgreSQL schema and one Redis. An MCP
 * client waits on node A for a web call; the call is ended through node B's REST API; the
 * wait returns at once with the ended call, woken by the call's events on the Redis bus.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `mcp_cluster_${process.pid}_${Date.now()}`;
let a: TestApp;
let b: TestApp;
let client: Client;

beforeAll(async () => {
  const env = { DATABASE_URL: `${PG_URL}?schema=${schema}`, REDIS_URL: 'redis://127.0.0.1:6379' };
  a = await createTestApp({ env });
  b = await createTestApp({ env });
});

afterAll(async () => {
  await client?.close().catch(() => {});
  await Promise.all([a?.close(), b?.close()]);
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
});

describe('wait_for_call on a cluster', () => {
  it('returns on node A as soon as node B ends the call', async () => {
    const key = (await a.api('POST', '/v1/keys', { owner: 'agent-x', scopes: ['agents:write', 'calls:read', 'calls:write'] })).body.key as string;
    const agent = (await a.api('POST', '/v1/agents', { name: 'W', architecture: 'realtime', systemPrompt: 'p', realtimeProvider: 'openai' }, key)).body;
    const web = (await b.api('POST', '/v1/web-calls', { agentId: agent.id }, key)).body;

    const transport = new StreamableHTTPClientTransport(new URL(`${a.baseUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
    client = new Client({ name: 'cluster-test', version: '1' });
    await client.connect(transport);
    let settled = false;
    const waiting = (client.callTool({ name: 'wait_for_call', arguments: { callId: web.callId, timeoutSeconds: 300 } }) as Promise<CallToolResult>).finally(() => {
      settled = true;
    });
    // Give the wait time to subscribe; it must still be waiting (the call is live).
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);

    const ended = await b.api('POST', `/v1/calls/${web.callId}/end`, undefined, key);
    expect(ended.status).toBe(200);
    const result = await waiting;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ id: web.callId, endReason: 'api_end' });
    expect(['canceled', 'completed']).toContain((result.structuredContent as { status: string }).status);
  });
});
