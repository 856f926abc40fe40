import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { recordingPath, repairRecordings } from '../../src/session/index.js';
import type { Store } from '../../src/store/types.js';
import { soxi } from './call-fixtures.js';

let store: Store | null = null;
let dataDir: string | null = null;
let child: ChildProcess | null = null;

afterEach(async () => {
  // Never leave a gateway running behind a failed test.
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await store?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Runs the child gateway until it reports a live, recording call; then SIGKILLs it. */
async function crashMidCall(): Promise<{ dataDir: string; callId: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'crash-child.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = proc;
  const ready = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line) resolve(line);
    });
    proc.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  // Let it write a little more, so the kill lands mid-stream.
  await new Promise((r) => setTimeout(r, 300));
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
  const [, dir, callId] = ready.trim().split(' ');
  return { dataDir: dir!, callId: callId! };
}

describe('recording after a crash', () => {
  // A whole gateway starting in a child process (tsx, SDK imports, migrations) can take tens of
  // seconds on a busy CI machine: the generous timeout is for that, not for the behaviour.
  it('a SIGKILLed gateway leaves a recording that the next start repairs, and the call is failed', { timeout: 180_000 }, async () => {
    const crashed = await crashMidCall();
    dataDir = crashed.dataDir;
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    store = await createStore(config);
    await store.migrate();
    expect((await store.getCall(crashed.callId))!.status).toBe('in-progress');

    const repaired = await repairRecordings(dataDir, store, createLogger(config));
    expect(repaired).toBe(1);
    const info = soxi(recordingPath(dataDir, crashed.callId));
    expect(info).toMatchObject({ channels: 2, rate: 8000, bits: 16 });
    // At least the first second is there (the writer flushes every 0.5 s).
    expect(info.samples).toBeGreaterThanOrEqual(8000);
    const call = (await store.getCall(crashed.callId))!;
    expect(call).toMatchObject({ status: 'failed', endReason: 'error:gateway_restart', recordingAvailable: true });
    const events = await store.listCallEvents(crashed.callId, 0);
    expect(events.at(-1)).toMatchObject({ type: 'call.ended', data: { reason: 'error:gateway_restart' } });

    // A second start finds nothing left to repair.
    expect(await repairRecordings(dataDir, store, createLogger(config))).toBe(0);
  });
});
