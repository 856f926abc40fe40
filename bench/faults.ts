/**
 * What a backing-service fault costs a live call, measured against the real PostgreSQL and
 * Redis behind the TCP fault proxy of the fault suite (test/faults/tcp-proxy.ts), with gateways
 * built in this process (buildApp) and web calls driven over their real media socket by a
 * scripted engine (no providers: the figures are the gateway's, not a model's).
 *
 * - store: PostgreSQL away for `--outage-ms` mid-call while the agent talks and the caller
 *   streams 20 ms frames; the call ends during the outage. Agent-audio max gap before/during,
 *   caller frames that reached the engine during, ms from the store's return to the final
 *   record, transcript items lost.
 * - bus: Redis away under two nodes. ms from Redis' return until an SSE reader on node B has
 *   `call.ended` of a call that ended on node A during the outage; `POST /end` on B latency
 *   during the outage; ms from Redis' return until node A hangs up that call.
 *
 *   node --import tsx bench/faults.ts [--runs 3] [--outage-ms 1500]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { WebClient, createWebCall, webAgent } from '../test/web/web-fixtures.js';
import {
  PG_ADMIN_URL, PG_PORT, REDIS_PORT, SseReader, TcpFaultProxy, dropSchema, freshSchema, maxGapMs, pcmFrame, pgUrlVia, redisUrlVia, sleep, startNode, until,
} from '../test/faults/fault-fixtures.js';
import { transcriptStreamSettings } from '../src/api/calls-transcript.js';
import { round, writeResults } from './lib/results.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, 'outage-ms': { type: 'string', default: '1500' } } });
const runs = Number(values.runs);
const outageMs = Number(values['outage-ms']);

async function storeOutage(): Promise<Record<string, number>> {
  const schema = freshSchema('bench');
  const proxy = await TcpFaultProxy.start(PG_PORT);
  const node = await startNode({ DATABASE_URL: pgUrlVia(proxy, schema) });
  try {
    const agent = await webAgent(node.t);
    const created = await createWebCall(node.t, agent.id);
    const client = await WebClient.open(created.websocketUrl);
    await until(() => node.t.ctx.calls.get(created.callId)?.live === true, 'live');
    const engine = node.engines.get(created.callId)!;
    const arrivals: number[] = [];
    client.ws.on('message', (_d, binary) => binary && arrivals.push(Date.now()));
    const talking = setInterval(() => client.send(pcmFrame(20)), 20);
    engine.host.playback.enqueue('reply', pcmFrame(outageMs + 3000, 700));
    await until(() => arrivals.length > 5, 'audio');
    await sleep(500);
    const before = engine.audioFrames.length;
    await proxy.down();
    const downAt = Date.now();
    for (let i = 0; i < 4; i++) void engine.host.transcript({ role: i % 2 ? 'agent' : 'user', text: `line ${i}`, startMs: i * 100, endMs: i * 100 + 50 });
    await sleep(outageMs - 200);
    const framesDuring = engine.audioFrames.length - before;
    clearInterval(talking);
    client.send(JSON.stringify({ type: 'end' }));
    await client.closed;
    const endAt = Date.now();
    await sleep(Math.max(0, outageMs - (endAt - downAt)));
    await proxy.resume();
    const upAt = Date.now();
    await until(async () => (await node.t.ctx.store.getCall(created.callId))?.status === 'completed', 'final record', 30_000);
    const landedMs = Date.now() - upAt;
    const events = await node.t.ctx.store.listCallEvents(created.callId, 0);
    return {
      audioMaxGapBeforeMs: maxGapMs(arrivals, 0, downAt),
      audioMaxGapDuringMs: maxGapMs(arrivals, downAt, endAt),
      callerFramesDuringPerSecond: round(framesDuring / ((outageMs - 200) / 1000), 1),
      finalRecordAfterReturnMs: landedMs,
      transcriptLost: 4 - events.filter((e) => e.type === 'transcript.final').length,
    };
  } finally {
    await proxy.resume();
    await node.t.close();
    await proxy.close();
    await dropSchema(schema);
  }
}

async function busOutage(): Promise<Record<string, number>> {
  transcriptStreamSettings.pingIntervalMs = 120_000;
  const schema = freshSchema('benchbus');
  const proxy = await TcpFaultProxy.start(REDIS_PORT);
  const env = { DATABASE_URL: `${PG_ADMIN_URL}?schema=${schema}`, REDIS_URL: redisUrlVia(proxy) };
  const a = await startNode(env);
  const b = await startNode(env);
  try {
    const agent = await webAgent(a.t);
    const open = async () => {
      const created = await createWebCall(a.t, agent.id);
      const client = await WebClient.open(created.websocketUrl);
      await until(async () => (await a.t.ctx.store.getCall(created.callId))?.status === 'in-progress', 'in-progress');
      return { created, client };
    };
    // SSE catch-up after the bus returns.
    const one = await open();
    const reader = await SseReader.open(`${b.t.baseUrl}/v1/calls/${one.created.callId}/transcript/stream`, b.t.adminKey);
    await until(() => reader.events.length > 0, 'replay');
    await proxy.down();
    one.client.send(JSON.stringify({ type: 'end' }));
    await one.client.closed;
    await sleep(outageMs);
    await proxy.resume();
    let upAt = Date.now();
    await until(() => reader.ended, 'call.ended on B', 30_000);
    const sseAfterReturnMs = Date.now() - upAt;
    await until(async () => (await b.t.api('GET', '/readyz')).status === 200, 'ready');
    // /end across nodes during the outage.
    const two = await open();
    await proxy.down();
    const t0 = Date.now();
    await b.t.api('POST', `/v1/calls/${two.created.callId}/end`, {});
    const endRequestMs = Date.now() - t0;
    await sleep(outageMs);
    await proxy.resume();
    upAt = Date.now();
    await until(() => a.t.ctx.calls.get(two.created.callId)?.live !== true, 'A hangs up', 30_000);
    return { sseCallEndedAfterReturnMs: sseAfterReturnMs, endRequestDuringOutageMs: endRequestMs, hangUpAfterReturnMs: Date.now() - upAt };
  } finally {
    await proxy.resume();
    await Promise.all([a.t.close(), b.t.close()]);
    await proxy.close();
    await dropSchema(schema);
  }
}

const rows: Record<string, unknown>[] = [];
for (let i = 0; i < runs; i++) rows.push({ fault: 'store', run: i + 1, ...(await storeOutage()) });
for (let i = 0; i < runs; i++) rows.push({ fault: 'bus', run: i + 1, ...(await busOutage()) });
const file = writeResults('faults', { runs, outageMs, loadAvg: os.loadavg(), rows }, rows);
console.log(`wrote ${file}`);
process.exit(0);
