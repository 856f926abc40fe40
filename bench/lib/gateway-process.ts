/**
 * The real gateway (`node --import tsx src/main.ts`) in its own child process, configured only
 * through its environment like a deployment, plus a scraper for its own /metrics (process CPU
 * and RSS as prom-client reports them for that process, media frame counters, loop lag).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH_ADMIN_KEY = 'vg_bench_admin_key_0123456789abcdef';

export interface GatewayMetrics {
  cpuSeconds: number;
  rssBytes: number;
  framesIn: number;
  framesOut: number;
  activeCalls: number;
  loopLagP99Ms: number;
  loopLagMaxMs: number;
  text: string;
}

export interface GatewayProcess {
  child: ChildProcess;
  baseUrl: string;
  port: number;
  dataDir: string;
  scrape(): Promise<GatewayMetrics>;
  api(method: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** SIGTERM (drain), wait for exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface GatewayOptions {
  env: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeFlags?: string[];
}

export async function startGateway(opts: GatewayOptions): Promise<GatewayProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-bench-'));
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), '--import', 'tsx', path.join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: baseUrl,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      VOXGATE_ADMIN_KEY: BENCH_ADMIN_KEY,
      RATE_LIMIT_RPM: '1000000',
      SHUTDOWN_DEADLINE_MS: '2000',
      ...opts.env,
    },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode} during start-up`);
    try {
      const r = await fetch(`${baseUrl}/metrics`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error('gateway did not start within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  const scrape = async (): Promise<GatewayMetrics> => {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    const sum = (name: string): number => {
      let total = 0;
      let found = false;
      for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))) {
        total += Number(m[1]);
        found = true;
      }
      if (!found && !name.startsWith('voxgate_')) throw new Error(`metric ${name} missing`);
      return total;
    };
    return {
      cpuSeconds: sum('process_cpu_user_seconds_total') + sum('process_cpu_system_seconds_total'),
      rssBytes: sum('process_resident_memory_bytes'),
      framesIn: sum('voxgate_media_frames_in_total'),
      framesOut: sum('voxgate_media_frames_out_total'),
      activeCalls: sum('voxgate_active_calls'),
      loopLagP99Ms: sum('nodejs_eventloop_lag_p99_seconds') * 1000,
      loopLagMaxMs: sum('nodejs_eventloop_lag_max_seconds') * 1000,
      text,
    };
  };
  const api = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(baseUrl + p, {
      method,
      headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
  return {
    child,
    baseUrl,
    port,
    dataDir,
    scrape,
    api,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
