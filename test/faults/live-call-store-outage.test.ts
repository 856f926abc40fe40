/**
 * A live web call whose PostgreSQL goes away mid-call (through the fault proxy, for ~1.5 s):
 * the caller's audio keeps reaching the engine and the agent's audio keeps reaching the
 * caller; the transcript items said meanwhile, and the final record of a call that ends while
 * the store is still gone, are written once it returns, in order, nothing lost. Before the
 * write-behind queue, the items were lost ("transcript write failed") and the call was left
 * in-progress with no final record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebClient, createWebCall, webAgent } from '../web/web-fixtures.js';
import { PG_PORT, TcpFaultProxy, dropSchema, freshSchema, maxGapMs, pcmFrame, pgUrlVia, sleep, startNode, until, type FaultNode } from './fault-fixtures.js';

const schema = freshSchema('live');
let proxy: TcpFaultProxy;
let node: FaultNode;

beforeAll(async () => {
  proxy = await TcpFaultProxy.start(PG_PORT);
  node = await startNode({ DATABASE_URL: pgUrlVia(proxy, schema) });
});

afterAll(async () => {
  await proxy?.resume();
  await node?.t.close();
  await proxy?.close();
  await dropSchema(schema);
});

describe('PostgreSQL goes away during a live web call', () => {
  it('keeps the media flowing and writes the transcript and final record once the store returns', async () => {
    const { t } = node;
    const agent = await webAgent(t);
    const created = await createWebCall(t, agent.id);
    const client = await WebClient.open(created.websocketUrl);
    await until(() => t.ctx.calls.get(created.callId)?.live === true, 'the call to be live');
    const engine = node.engines.get(created.callId)!;
    const arrivals: number[] = [];
    client.ws.on('message', (_d, isBinary) => isBinary && arrivals.push(Date.now()));
    await until(async () => (await t.ctx.store.getCall(created.callId))?.status === 'in-progress', 'in-progress');
    await engine.host.transcript({ role: 'agent', text: 'Hello, how can I help?', startMs: 0, endMs: 800 });

    // The caller speaks every 20 ms throughout; the agent talks for 5 s.
    const talking = setInterval(() => client.send(pcmFrame(20)), 20);
    engine.host.playback.enqueue('reply', pcmFrame(5000, 700));
    await until(() => arrivals.length > 3, 'agent audio before the outage');

    await proxy.down();
    const downAt = Date.now();
    const framesAtDown = engine.audioFrames.length;
    const audioAtDown = arrivals.length;
    await until(async () => (await node.t.api('GET', '/readyz', undefined)).status === 503, '/readyz 503');
    // As the engines do: a transcript item is handed over, not waited for (it waits for the store).
    void engine.host.transcript({ role: 'user', text: 'I would like a table for two', startMs: 1000, endMs: 2200 });
    engine.host.note('said during the outage');
    void engine.host.transcript({ role: 'agent', text: 'For tonight?', startMs: 2400, endMs: 3000, interrupted: true });
    await sleep(Math.max(0, 1200 - (Date.now() - downAt)));
    // Media went on both ways while the store was gone.
    expect(engine.audioFrames.length).toBeGreaterThan(framesAtDown + 10);
    expect(arrivals.length).toBeGreaterThan(audioAtDown + 3);
    clearInterval(talking);
    // The caller hangs up while the store is still away: the socket closes at once all the same.
    client.send(JSON.stringify({ type: 'end' }));
    expect(await client.closed).toEqual({ code: 1000, reason: 'caller_hangup' });
    const upAt = Date.now();
    await sleep(Math.max(0, 1500 - (upAt - downAt)));
    expect((await t.ctx.metrics.faults.writesDeferred.get()).values[0]?.value ?? 0).toBeGreaterThan(0);
    await proxy.resume();
    const backAt = Date.now();

    await until(async () => (await t.ctx.store.getCall(created.callId))?.status === 'completed', 'the final record', 20_000);
    const call = (await t.ctx.store.getCall(created.callId))!;
    expect(call).toMatchObject({ status: 'completed', endReason: 'caller_hangup' });
    expect(call.notes).toContain('said during the outage');
    const events = await t.ctx.store.listCallEvents(created.callId, 0);
    expect(events.map((e) => e.type)).toEqual(['call.status', 'transcript.final', 'transcript.final', 'transcript.final', 'agent.interrupted', 'call.status', 'call.ended']);
    expect(events.filter((e) => e.type === 'transcript.final').map((e) => e.data['text'])).toEqual(['Hello, how can I help?', 'I would like a table for two', 'For tonight?']);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const transcript = await t.api('GET', `/v1/calls/${created.callId}/transcript`);
    expect(transcript.status).toBe(200);
    const lost = (await t.ctx.metrics.faults.writesLost.get()).values.reduce((a, v) => a + v.value, 0);
    expect(lost).toBe(0);
    expect(t.ctx.metrics.faults.writeQueueDepth).toBeDefined();

    // What the outage cost the call (printed for the report; never asserted: wall-clock).
    const baseline = maxGapMs(arrivals, 0, downAt);
    const during = maxGapMs(arrivals, downAt, upAt);
    console.info(
      `[faults] store outage mid-call: agent-audio max gap ${during} ms during (baseline ${baseline} ms), ` +
        `caller frames received during ${engine.audioFrames.length - framesAtDown}, final record written ${Date.now() - backAt} ms after the store returned`,
    );
  });
});
