/**
 * Media ingest benchmark: N simulated Twilio streams (test/fakes/twilio-carrier.ts) against a
 * gateway whose sessions run a null engine (or, in the `+playback` scenario, an engine that
 * keeps agent audio flowing), with recording on. Reports the gateway's CPU ms per
 * call-second and RSS per call from the gateway process's own accounting (its /metrics:
 * process_cpu_*_seconds_total, process_resident_memory_bytes).
 *
 * The gateway runs in a child process so the carriers' own work (JSON, base64, playback
 * model) is not counted against it.
 *
 *   node --import tsx bench/media-ingest.ts [--calls 100] [--seconds 15]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { writeResults } from './lib/results.js';

type Scenario = 'ingest' | 'ingest+playback';

interface GatewayHello {
  baseUrl: string;
  wsUrl: string;
  tokens: string[];
}

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '15' },
    gateway: { type: 'string' },
  },
});

if (values.gateway) {
  await runGateway(values.gateway as Scenario, Number(values.calls));
} else {
  await runBench(Number(values.calls), Number(values.seconds));
}

/** Child: a gateway with N announced calls; prints their tokens and waits. */
async function runGateway(scenario: Scenario, calls: number): Promise<void> {
  const { createTestApp } = await import('../test/helpers/test-app.js');
  const { createPhoneCall, toneUlaw } = await import('../test/session/call-fixtures.js');
  const t = await createTestApp();
  const tone = toneUlaw(1000, 440);
  t.ctx.calls.configure({
    engineFactory: (host) => {
      let n = 0;
      // `+playback`: a second of tone queued whenever the previous one is half played.
      const feed = (): void => {
        const id = `u${++n}`;
        host.playback.enqueue(id, tone);
        host.playback.finish(id);
      };
      return {
        async prepare() {},
        async start() {
          if (scenario === 'ingest+playback') {
            feed();
            feed();
            host.playback.onUtteranceDone(() => {
              if (!host.signal.aborted) feed();
            });
          }
        },
        onAudio() {},
        onDtmf() {},
        async close() {},
      };
    },
  });
  const tokens: string[] = [];
  for (let i = 0; i < calls; i++) tokens.push((await createPhoneCall(t.ctx, {}, 3_600_000)).token);
  const hello: GatewayHello = { baseUrl: t.baseUrl, wsUrl: t.wsUrl, tokens };
  process.stdout.write(JSON.stringify(hello) + '\n');
  // `gc` from the parent: collect before a memory sample, so RSS compares like with like.
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'gc') {
      (globalThis as { gc?: () => void }).gc?.();
      process.stdout.write('gc done\n');
    }
  });
  process.stdin.on('end', () => {
    void t.close().then(() => process.exit(0));
  });
}

interface Sample {
  cpuSeconds: number;
  rssBytes: number;
  /** JS heap in use plus Buffers outside it: what calls hold, without the allocator's slack. */
  heapBytes: number;
  /** prom-client's event-loop delay histogram (since the last scrape reset it). */
  loopLagP99Ms: number;
  loopLagMaxMs: number;
}

async function scrape(baseUrl: string): Promise<Sample> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const get = (name: string): number => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
    if (!m) throw new Error(`metric ${name} missing`);
    return Number(m[1]);
  };
  return {
    cpuSeconds: get('process_cpu_user_seconds_total') + get('process_cpu_system_seconds_total'),
    rssBytes: get('process_resident_memory_bytes'),
    heapBytes: get('nodejs_heap_size_used_bytes') + get('nodejs_external_memory_bytes'),
    loopLagP99Ms: get('nodejs_eventloop_lag_p99_seconds') * 1000,
    loopLagMaxMs: get('nodejs_eventloop_lag_max_seconds') * 1000,
  };
}

async function startGateway(
  scenario: Scenario,
  calls: number,
): Promise<{ child: ChildProcess; hello: GatewayHello; gc: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename, '--gateway', scenario, '--calls', String(calls)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: child.stdout! });
  const hello = await new Promise<GatewayHello>((resolve, reject) => {
    rl.once('line', (line) => resolve(JSON.parse(line) as GatewayHello));
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
  const gc = async (): Promise<void> => {
    const done = new Promise<void>((resolve) => rl.once('line', () => resolve()));
    child.stdin!.write('gc\n');
    await done;
  };
  return { child, hello, gc };
}

async function runScenario(scenario: Scenario, calls: number, seconds: number) {
  const { TwilioCarrier } = await import('../test/fakes/twilio-carrier.js');
  const { toneUlaw } = await import('../test/session/call-fixtures.js');
  const { child, hello, gc } = await startGateway(scenario, calls);
  await new Promise((r) => setTimeout(r, 1000));
  await gc();
  const idle = await scrape(hello.baseUrl);
  const speech = toneUlaw(seconds * 1000 + 5000, 300);
  const carriers = await Promise.all(
    hello.tokens.map((token) => TwilioCarrier.connect({ url: `${hello.wsUrl}/twilio/media`, token })),
  );
  for (const c of carriers) c.say(speech);
  // Let every stream settle (attach, first frames, recorder open) before measuring.
  await new Promise((r) => setTimeout(r, 2000));
  const before = await scrape(hello.baseUrl);
  const framesBefore = carriers.reduce((s, c) => s + c.framesSent, 0);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await scrape(hello.baseUrl);
  await gc();
  const withCalls = await scrape(hello.baseUrl);
  const wallSeconds = (performance.now() - started) / 1000;
  const frames = carriers.reduce((s, c) => s + c.framesSent, 0) - framesBefore;
  const gaps = carriers.flatMap((c) => c.gaps(5));
  const agentSeconds = carriers.reduce((s, c) => s + c.playedBytes / 8000, 0);
  await Promise.all(carriers.map((c) => c.hangup()));
  child.stdin!.end();
  await new Promise((r) => child.once('exit', r));

  const callSeconds = calls * wallSeconds;
  return {
    scenario,
    calls,
    seconds: Math.round(wallSeconds * 10) / 10,
    framesIn: frames,
    framesInPerSecond: Math.round(frames / wallSeconds),
    cpuMsPerCallSecond: Math.round((((after.cpuSeconds - before.cpuSeconds) * 1000) / callSeconds) * 1000) / 1000,
    gatewayCpuPercent: Math.round(((after.cpuSeconds - before.cpuSeconds) / wallSeconds) * 1000) / 10,
    // RSS rarely shrinks after start-up transients, so its delta can even be negative; the
    // heap+external delta after a GC is the steadier per-call figure.
    rssPerCallKiB: Math.round((withCalls.rssBytes - idle.rssBytes) / calls / 1024),
    heapPerCallKiB: Math.round((withCalls.heapBytes - idle.heapBytes) / calls / 1024),
    gatewayRssMiB: Math.round(after.rssBytes / 1024 / 1024),
    gatewayLoopLagP99Ms: Math.round(after.loopLagP99Ms),
    gatewayLoopLagMaxMs: Math.round(after.loopLagMaxMs),
    agentAudioHeardSeconds: Math.round(agentSeconds),
    playbackUnderrunsOver5ms: gaps.length,
  };
}

async function runBench(calls: number, seconds: number): Promise<void> {
  const results = [];
  for (const scenario of ['ingest', 'ingest+playback'] as const) {
    results.push(await runScenario(scenario, calls, seconds));
  }
  // This machine may be shared: the load average says how far to trust lag and underrun figures.
  const file = writeResults('media-ingest', { calls, seconds, loadAverage: os.loadavg(), results }, results);
  console.log(`wrote ${file}`);
  process.exit(0);
}
