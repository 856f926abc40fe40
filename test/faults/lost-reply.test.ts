/**
 * A transcript line whose write committed on PostgreSQL but whose reply was lost with the
 * connection: the write-behind lane retries it once the store answers again, and the write id
 * (migration 005) makes the retry find the first one instead of storing the line twice.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { WriteQueue } from '../../src/session/write-queue.js';
import { PG_ADMIN_URL, PG_PORT, TcpFaultProxy, dropSchema, freshSchema, pgUrlVia, sleep, until } from './fault-fixtures.js';
import { makeCall } from '../store/fixtures.js';

const schema = freshSchema('lostreply');
let proxy: TcpFaultProxy;
let store: PostgresStore;
let admin: pg.Client;

beforeAll(async () => {
  proxy = await TcpFaultProxy.start(PG_PORT);
  store = await PostgresStore.connect(pgUrlVia(proxy, schema));
  await store.migrate();
  admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
});

afterAll(async () => {
  await store?.close();
  await admin?.end();
  await proxy?.close();
  await dropSchema(schema);
});

const silent = { warn: () => undefined, error: () => undefined, info: () => undefined };

describe('a write whose reply is lost after the server committed it', () => {
  it('is retried by the lane and stored once', async () => {
    const call = await store.createCall(makeCall('alice', 'agt_x'));
    const lane = new WriteQueue({ store, log: silent }).lane(silent);
    const stored = async () =>
      (await admin.query(`SELECT count(*)::int AS n FROM ${schema}.call_events WHERE call_id = $1`, [call.id])).rows[0].n as number;

    proxy.dropReplies();
    let attempts = 0;
    const writeId = 'w-lost-1';
    const done = lane.run('transcript', () => {
      attempts++;
      return store.appendCallEvent(call.id, 'transcript.final', { role: 'user', text: 'hello', startMs: 0, endMs: 1 }, writeId);
    });
    // The INSERT reached the server and committed; its answer went nowhere. Then the socket dies.
    await until(async () => (await stored()) === 1, 'the first attempt committed');
    await sleep(50);
    proxy.cut();
    const ev = await done;

    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(ev?.seq).toBe(1);
    expect(await stored()).toBe(1);
    expect((await store.listTranscript(call.id)).map((t) => t.text)).toEqual(['hello']);
  });
});
