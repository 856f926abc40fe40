/**
 * A real node (`npm start`'s command: node --import tsx src/main.ts, as a child process) on the
 * real PostgreSQL through a fault proxy. The dialer ticks every second and reads the store on
 * each tick. PostgreSQL goes away for ~1.5 s: the node stays up (before the fix it exited
 * within a second on the dialer's unhandled rejection), `/readyz` says 503 and `/v1` answers
 * 503 `service_unavailable` with the error body while it is gone, and both recover after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/test-app.js';
import { PG_PORT, TcpFaultProxy, dropSchema, freshSchema, getJson, metricValue, pgUrlVia, sleep, until } from './fault-fixtures.js';

const ADMIN_KEY = 'vg_faults_admin_key_0123456789abcdef';
const schema = freshSchema('node');
let proxy: TcpFaultProxy;
let child: ChildProcess;
let base: string;
let dataDir: string;
let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
let output = '';

beforeAll(async () => {
  proxy = await TcpFaultProxy.start(PG_PORT);
  dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-faults-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: base,
      DATA_DIR: dataDir,
      DATABASE_URL: pgUrlVia(proxy, schema),
      VOXGATE_ADMIN_KEY: ADMIN_KEY,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  child.on('exit', (code, signal) => (exited = { code, signal }));
  // A cold `tsx` start compiles the whole source tree: seconds alone, much longer beside a
  // full parallel test run on a small machine.
  await until(async () => (await getJson(`${base}/readyz`)).status === 200, 'the node to be ready', 80_000);
}, 90_000);

afterAll(async () => {
  if (child && exited === null) {
    child.kill('SIGTERM');
    await until(() => exited !== null, 'the node to stop', 10_000).catch(() => child.kill('SIGKILL'));
  }
  await proxy?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await dropSchema(schema);
});

describe('PostgreSQL blinks for 1.5 s under a running node', () => {
  it('keeps the node up, says 503 while the store is gone, and recovers', async () => {
    expect((await getJson(`${base}/v1/agents`, ADMIN_KEY)).status).toBe(200);

    await proxy.down();
    const downAt = Date.now();
    // What an operator and a client see during the outage.
    await until(async () => (await getJson(`${base}/readyz`)).status === 503, '/readyz 503');
    const ready = await getJson(`${base}/readyz`);
    expect(ready.body).toMatchObject({ status: 'unavailable', checks: { store: expect.stringMatching(/unreachable/), bus: 'ok' } });
    // A key this node has not cached yet must be looked up in the store; so must the agents.
    const during = await getJson(`${base}/v1/agents`, 'vg_not_cached_key_0123456789abcdef');
    expect(during.status).toBe(503);
    expect(during.body).toEqual({ error: { code: 'service_unavailable', message: expect.stringMatching(/store/), details: [{ field: 'service', message: 'store' }] } });
    expect(during.headers.get('retry-after')).toBe('1');
    const listed = await getJson(`${base}/v1/agents`, ADMIN_KEY);
    expect(listed.status).toBe(503);
    expect(listed.body.error.code).toBe('service_unavailable');
    // The rest of the 1.5 s, with the dialer ticking into the outage.
    await sleep(Math.max(0, 1500 - (Date.now() - downAt)));
    expect(exited).toBeNull();

    await proxy.resume();
    await until(async () => (await getJson(`${base}/readyz`)).status === 200, '/readyz 200 again');
    await until(async () => (await getJson(`${base}/v1/agents`, ADMIN_KEY)).status === 200, '/v1 served again');

    const metrics = (await fetch(`${base}/metrics`).then((r) => r.text())) as string;
    expect(metricValue(metrics, 'voxgate_loop_errors_total', 'loop="dialer"')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'voxgate_service_unavailable_total', 'service="store"')).toBeGreaterThan(0);
    expect(exited, output).toBeNull();
    expect(output).not.toMatch(/fatal/);
  });
});
