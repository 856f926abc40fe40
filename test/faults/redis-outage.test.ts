/**
 * Two nodes on one real PostgreSQL and one real Redis, Redis behind the fault proxy (as in
 * test/api/cluster.test.ts, with the network between the nodes and Redis under the test's
 * control). While Redis is down:
 * - `/v1` is still served, and rate limits are counted per node (before: every request 500);
 * - `/readyz` says 503 naming the bus;
 * - an SSE reader on node B of a call on node A gets `call.ended` once Redis is back, though
 *   the publish happened while it was gone (before: it waited forever);
 * - `POST /v1/calls/:id/end` on node B for a call whose media is on node A is not lost: node A
 *   hangs up once Redis is back (before: the control message was dropped).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebClient, createWebCall, webAgent } from '../web/web-fixtures.js';
import { transcriptStreamSettings } from '../../src/api/calls-transcript.js';
import { seedKey } from '../api/calls-fixtures.js';
import { PG_ADMIN_URL, REDIS_PORT, SseReader, TcpFaultProxy, dropSchema, freshSchema, redisUrlVia, sleep, startNode, until, type FaultNode } from './fault-fixtures.js';

const schema = freshSchema('redis');
let proxy: TcpFaultProxy;
let a: FaultNode;
let b: FaultNode;
const originalPing = transcriptStreamSettings.pingIntervalMs;

beforeAll(async () => {
  // Long pings: the reader must catch up because the bus came back, not because a ping fired.
  transcriptStreamSettings.pingIntervalMs = 120_000;
  proxy = await TcpFaultProxy.start(REDIS_PORT);
  const env = { DATABASE_URL: `${PG_ADMIN_URL}?schema=${schema}`, REDIS_URL: redisUrlVia(proxy), RATE_LIMIT_RPM: '5' };
  a = await startNode(env);
  b = await startNode(env);
});

afterEach(async () => {
  await proxy.resume();
  await until(async () => (await a.t.api('GET', '/readyz')).status === 200 && (await b.t.api('GET', '/readyz')).status === 200, 'both nodes ready');
});

afterAll(async () => {
  transcriptStreamSettings.pingIntervalMs = originalPing;
  await Promise.all([a?.t.close(), b?.t.close()]);
  await proxy?.close();
  await dropSchema(schema);
});

async function liveCallOnA() {
  const agent = await webAgent(a.t);
  const created = await createWebCall(a.t, agent.id);
  const client = await WebClient.open(created.websocketUrl);
  await until(() => a.t.ctx.calls.get(created.callId)?.live === true, 'the call to be live on A');
  await until(async () => (await a.t.ctx.store.getCall(created.callId))?.status === 'in-progress', 'in-progress');
  return { created, client, engine: a.engines.get(created.callId)! };
}

describe('Redis goes away under two nodes', () => {
  it('keeps serving /v1 with per-node rate limits, and /readyz says 503', async () => {
    const key = await seedKey(a.t, 'rl', ['agents:read']);
    await proxy.down();
    await until(async () => (await a.t.api('GET', '/readyz')).status === 503, '/readyz 503 on A');
    const ready = await a.t.api('GET', '/readyz');
    expect(ready.body).toMatchObject({ status: 'unavailable', checks: { store: 'ok', bus: expect.any(String) } });
    expect(ready.body.checks.bus).not.toBe('ok');

    const onA: number[] = [];
    for (let i = 0; i < 6; i++) onA.push((await a.t.api('GET', '/v1/me', undefined, key)).status);
    // Node A's own budget of 5: the sixth is refused, with the error body, not a 500.
    expect(onA).toEqual([200, 200, 200, 200, 200, 429]);
    const over = await a.t.api('GET', '/v1/me', undefined, key);
    expect(over.body.error.code).toBe('rate_limited');
    // Node B counts for itself: its budget is untouched.
    const onB = await b.t.api('GET', '/v1/me', undefined, key);
    expect(onB.status).toBe(200);
    expect(onB.headers.get('x-ratelimit-remaining')).toBe('4');
    expect((await a.t.ctx.metrics.faults.rateLimitFallbacks.get()).values[0]?.value ?? 0).toBeGreaterThan(0);
    // Writes that need only the store go on.
    const agents = await a.t.api('GET', '/v1/agents');
    expect(agents.status).toBe(200);
  });

  it('gives an SSE reader on node B the call.ended of a call that ended on node A during the outage', async () => {
    const { created, client, engine } = await liveCallOnA();
    const reader = await SseReader.open(`${b.t.baseUrl}/v1/calls/${created.callId}/transcript/stream`, b.t.adminKey);
    await until(() => reader.types().includes('call.status'), 'the replay on B');

    await proxy.down();
    await until(async () => (await b.t.api('GET', '/readyz')).status === 503, '/readyz 503 on B');
    void engine.host.transcript({ role: 'user', text: 'said while Redis was down', startMs: 0, endMs: 500 });
    client.send(JSON.stringify({ type: 'end' }));
    expect(await client.closed).toEqual({ code: 1000, reason: 'caller_hangup' });
    await until(async () => (await a.t.ctx.store.getCall(created.callId))?.status === 'completed', 'the final record (PostgreSQL is fine)');
    await sleep(300);
    expect(reader.types()).not.toContain('call.ended'); // nothing could reach B meanwhile

    await proxy.resume();
    const backAt = Date.now();
    await until(() => reader.ended, 'the stream to close after call.ended', 15_000);
    console.info(`[faults] redis outage: SSE reader on B got call.ended ${Date.now() - backAt} ms after Redis returned`);
    expect(reader.types().slice(-3)).toEqual(['transcript.final', 'call.status', 'call.ended']);
    expect(reader.events.at(-1)!.data).toMatchObject({ reason: 'caller_hangup', status: 'completed' });
    const ids = reader.events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('does not lose POST /end sent to node B while Redis is down: node A hangs up once it is back', async () => {
    const { created, client } = await liveCallOnA();
    await proxy.down();
    await until(async () => (await b.t.api('GET', '/readyz')).status === 503, '/readyz 503 on B');
    const endAt = Date.now();
    const ended = await b.t.api('POST', `/v1/calls/${created.callId}/end`, {});
    const endMs = Date.now() - endAt;
    // The store (the call's truth) has it: the API answers with the ended call.
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ id: created.callId, status: 'completed', endReason: 'api_end' });
    await sleep(300);
    expect(a.t.ctx.calls.get(created.callId)?.live).toBe(true); // A could not have heard it yet

    await proxy.resume();
    const backAt = Date.now();
    await until(() => a.t.ctx.calls.get(created.callId)?.live !== true, 'node A to end the call');
    const hungUpMs = Date.now() - backAt;
    // B stored call.ended while Redis was down (its publish went nowhere): the page gets it from
    // the store when A's bus reconnects or when A ends the call, then the socket closes.
    expect(await client.closed).toEqual({ code: 1000, reason: 'api_end' });
    expect(client.events('call.ended').map((e) => e['data'])).toEqual([expect.objectContaining({ reason: 'api_end', status: 'completed' })]);
    const seqs = client.json.filter((m) => typeof m['seq'] === 'number' && m['type'] !== 'transcript.partial').map((m) => m['seq'] as number);
    expect(seqs).toEqual([...new Set(seqs)].sort((x, y) => x - y));
    console.info(`[faults] redis outage: /end on B answered in ${endMs} ms during the outage; A ended the call ${hungUpMs} ms after Redis returned, socket closed ${Date.now() - backAt} ms after`);
    await until(() => a.t.ctx.calls.get(created.callId) === undefined, 'the session to close on A');
    const call = (await a.t.ctx.store.getCall(created.callId))!;
    expect(call).toMatchObject({ status: 'completed', endReason: 'api_end' });
    const events = await a.t.ctx.store.listCallEvents(created.callId, 0);
    expect(events.filter((e) => e.type === 'call.ended')).toHaveLength(1);
  });
});
