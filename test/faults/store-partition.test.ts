/**
 * PostgreSQL behind a partition (the fault proxy holds the sockets open and passes nothing:
 * no RST, no FIN): `/readyz` still answers, 503 within its probe timeout, instead of hanging
 * with the store; a request needing the store gets its 503 once the pool's timeouts fire; and
 * everything recovers when the network does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_PORT, TcpFaultProxy, dropSchema, freshSchema, pgUrlVia, startNode, until, type FaultNode } from './fault-fixtures.js';
import { seedKey } from '../api/calls-fixtures.js';

const schema = freshSchema('part');
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

describe('PostgreSQL partitioned away', () => {
  it('answers /readyz 503 instead of hanging, 503 for store requests, and recovers', async () => {
    const key = await seedKey(node.t, 'part', ['agents:read']);
    proxy.blackhole();
    const ready = await node.t.api('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.store).toMatch(/did not answer within 1000 ms/);
    // A key not cached yet needs the store: the pool's connect/query timeouts turn the hang into a 503.
    const r = await node.t.api('GET', '/v1/agents', undefined, key);
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('service_unavailable');

    await proxy.resume();
    await until(async () => (await node.t.api('GET', '/readyz')).status === 200, '/readyz 200 again');
    expect((await node.t.api('GET', '/v1/agents', undefined, key)).status).toBe(200);
  }, 40_000);
});
