/**
 * Realtime bridge benchmark (issue 5): N simulated Twilio callers (test/fakes/twilio-carrier.ts)
 * bridged by a gateway running the realtime engine to the fake realtime server
 * (test/fakes/openai-realtime.ts). Each caller talks in bursts (1 s of speech, 3 s of silence),
 * the fake answers every turn with 2 s of audio, so turns, barge-ins and playback all happen.
 *
 * Reports the gateway's CPU ms per call-second and RSS per call (the gateway runs in a child
 * process and is measured through its own /metrics; the fake and the callers run here), and the
 * latency the gateway adds between a provider audio delta reaching the engine and the first frame
 * of that utterance going to the caller (playback enqueue → `onFirstAudioSent`).
 *
 * `--provider xai` bridges to the fake in xAI's Grok Voice Agent dialect instead (an agent with
 * `realtimeProvider: "xai"`, XAI_* config); results go to `realtime-bridge-xai.json`.
 *
 *   [REALTIME_APPEND_MS=40] node --import tsx bench/realtime-bridge.ts [--calls 20] [--seconds 15] [--provider openai|xai]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { writeResults } from './lib/results.js';
import { silenceBytes, toneBytes } from '../test/fakes/openai-realtime-audio.js';

interface GatewayHello {
  baseUrl: string;
  wsUrl: string;
  tokens: string[];
}

const parsed = parseArgs({
  options: {
    calls: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '15' },
    gateway: { type: 'boolean', default: false },
    /** Writes a V8 CPU profile of the gateway child into this directory. */
    profile: { type: 'string' },
    'realtime-url': { type: 'string' },
    'realtime-key': { type: 'string' },
    provider: { type: 'string', default: 'openai' },
  },
});

const { values } = parsed;
if (values.provider !== 'openai' && values.provider !== 'xai') throw new Error('--provider must be openai or xai');
const provider = values.provider as 'openai' | 'xai';

if (values.gateway) {
  await runGateway(Number(values.calls), values['realtime-url']!, values['realtime-key']!);
} else {
  await runBench(Number(values.calls), Number(values.seconds));
}

/** Child: a gateway whose calls run the realtime engine; prints call tokens, answers "report". */
async function runGateway(calls: number, realtimeUrl: string, apiKey: string): Promise<void> {
  const { createTestApp } = await import('../test/helpers/test-app.js');
  const { createPhoneCall } = await import('../test/session/call-fixtures.js');
  const { createRealtimeEngine } = await import('../src/engine/realtime.js');
  // REALTIME_APPEND_MS from the bench's environment (e.g. 40 to compare batched appends).
  const appendMs = process.env['REALTIME_APPEND_MS'];
  const providerEnv: Record<string, string> = provider === 'xai' ? { XAI_REALTIME_URL: realtimeUrl, XAI_API_KEY: apiKey } : { OPENAI_REALTIME_URL: realtimeUrl, OPENAI_API_KEY: apiKey };
  const t = await createTestApp({ env: { ...providerEnv, ...(appendMs ? { REALTIME_APPEND_MS: appendMs } : {}) } });
  const addedMs: number[] = [];
  t.ctx.calls.configure({
    engineFactory: (host) => {
      // Measure without touching the engine: when an utterance's first audio reached playback
      // (the engine enqueues in the same tick it parses the delta) and when its first frame left.
      const firstEnqueue = new Map<string, number>();
      const playback = host.playback;
      const enqueue = playback.enqueue.bind(playback);
      const seen = new Set<string>();
      playback.enqueue = (id, audio) => {
        // Only utterances that start on an idle line: one queued behind other audio waits by design.
        if (!seen.has(id)) {
          seen.add(id);
          if (!playback.active) firstEnqueue.set(id, host.nowMs());
        }
        enqueue(id, audio);
      };
      playback.onFirstAudioSent((id, atMs) => {
        const at = firstEnqueue.get(id);
        if (at !== undefined) addedMs.push(atMs - at);
        firstEnqueue.delete(id);
      });
      return createRealtimeEngine(host);
    },
  });
  const tokens: string[] = [];
  for (let i = 0; i < calls; i++) {
    const placed = await createPhoneCall(t.ctx, {}, 3_600_000);
    if (provider === 'xai') {
      const agent = (await t.ctx.store.getAgent(placed.call.agentId))!;
      await t.ctx.store.updateAgent({ ...agent, realtimeProvider: 'xai', voiceId: 'Ara' }); // an xAI voice (docs.x.ai)
    }
    tokens.push(placed.token);
  }
  process.stdout.write(JSON.stringify({ baseUrl: t.baseUrl, wsUrl: t.wsUrl, tokens } satisfies GatewayHello) + '\n');
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() === 'report') process.stdout.write(JSON.stringify({ added: summarize(addedMs), samples: addedMs.length }) + '\n');
  });
  rl.on('close', () => void t.close().then(() => process.exit(0)));
}

/** Nearest-rank percentiles (kept local: this bench needs nothing more). */
function summarize(xs: readonly number[]): { n: number; p50: number; p95: number; max: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (p: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! : Number.NaN);
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { n: xs.length, p50: r(at(50)), p95: r(at(95)), max: r(sorted.length ? sorted[sorted.length - 1]! : Number.NaN) };
}

async function scrape(baseUrl: string): Promise<{ cpuSeconds: number; rssBytes: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const get = (name: string): number => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
    if (!m) throw new Error(`metric ${name} missing`);
    return Number(m[1]);
  };
  return { cpuSeconds: get('process_cpu_user_seconds_total') + get('process_cpu_system_seconds_total'), rssBytes: get('process_resident_memory_bytes') };
}

function caller(seconds: number): Buffer {
  const parts: Buffer[] = [];
  for (let ms = 0; ms < seconds * 1000; ms += 4000) parts.push(toneBytes('pcmu', 1000, 300, 9000), silenceBytes('pcmu', 3000));
  return Buffer.concat(parts);
}

async function runBench(calls: number, seconds: number): Promise<void> {
  const { startFakeRealtime } = await import('../test/fakes/openai-realtime.js');
  const { TwilioCarrier } = await import('../test/fakes/twilio-carrier.js');
  // Provider pace like the real API: ~300 ms to first audio, then faster than real time.
  const fake = await startFakeRealtime({ dialect: provider, firstDeltaMs: 300, chunkMs: 100, deltaIntervalMs: 50, responder: () => ({ transcript: 'Sure, let me check that for you.', audioMs: 2000 }) });
  const child: ChildProcess = spawn(
    process.execPath,
    [...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : []), '--import', 'tsx', import.meta.filename, '--gateway', '--calls', String(calls), '--realtime-url', fake.url, '--realtime-key', fake.apiKey, '--provider', provider],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const next = (): Promise<string> => new Promise((resolve) => lines.once('line', resolve));
  const hello = JSON.parse(await next()) as GatewayHello;
  const idle = await scrape(hello.baseUrl);
  const carriers = await Promise.all(hello.tokens.map((token) => TwilioCarrier.connect({ url: `${hello.wsUrl}/twilio/media`, token })));
  const speech = caller(seconds + 5);
  for (const c of carriers) c.say(speech);
  await new Promise((r) => setTimeout(r, 2000)); // sessions open, first turns under way
  const before = await scrape(hello.baseUrl);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await scrape(hello.baseUrl);
  const wallSeconds = (performance.now() - started) / 1000;
  child.stdin!.write('report\n');
  const report = JSON.parse(await next()) as { added: ReturnType<typeof summarize>; samples: number };
  const agentSeconds = carriers.reduce((s, c) => s + c.playedBytes / 8000, 0);
  const truncates = fake.connections.reduce((n, c) => n + c.truncations.length, 0);
  // xAI has no truncate: its barge-ins show as "heard" notes (system items) instead.
  const heardNotes = fake.connections.reduce((n, c) => n + c.eventsOf('conversation.item.create').filter((e) => e.item?.role === 'system').length, 0);
  const rejectedTruncates = fake.connections.reduce((n, c) => n + c.truncations.filter((t) => !t.accepted).length, 0);
  const errorCodes = fake.connections.flatMap((c) =>
    c.sent.filter((e) => e['type'] === 'error').map((e) => {
      const err = e['error'] as { code?: string; message?: string };
      return err.code ?? err.message ?? 'unknown';
    }),
  );
  const responses = fake.connections.reduce((n, c) => n + c.sent.filter((e) => e['type'] === 'response.created').length, 0);
  await Promise.all(carriers.map((c) => c.hangup()));
  child.stdin!.end();
  await new Promise((r) => child.once('exit', r));
  await fake.close();

  const result = {
    provider,
    calls,
    seconds: Math.round(wallSeconds * 10) / 10,
    cpuMsPerCallSecond: Math.round((((after.cpuSeconds - before.cpuSeconds) * 1000) / (calls * wallSeconds)) * 1000) / 1000,
    rssPerCallKiB: Math.round((after.rssBytes - idle.rssBytes) / calls / 1024),
    gatewayRssMiB: Math.round(after.rssBytes / 1024 / 1024),
    addedLatencyP50Ms: report.added.p50,
    addedLatencyP95Ms: report.added.p95,
    addedLatencyMaxMs: report.added.max,
    utterances: report.samples,
    providerResponses: responses,
    bargeInTruncates: truncates,
    bargeInHeardNotes: heardNotes,
    rejectedTruncates,
    providerErrors: errorCodes.length,
    agentAudioHeardSeconds: Math.round(agentSeconds),
  };
  const file = writeResults(provider === 'xai' ? 'realtime-bridge-xai' : 'realtime-bridge', { calls, seconds, result, errorCodes: [...new Set(errorCodes)] }, [result]);
  if (errorCodes.length > 0) console.log(`provider errors: ${[...new Set(errorCodes)].join(', ')}`);
  console.log(`wrote ${file}`);
  process.exit(0);
}
