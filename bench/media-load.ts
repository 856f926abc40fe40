/**
 * Media load: N concurrent simulated Twilio calls against the real gateway, for pipeline and
 * realtime agents, with fake providers at fixed latencies. Three processes besides this one:
 *   1. the gateway: `node --import tsx src/main.ts`, configured by env only (temp DATA_DIR);
 *   2. the fakes (bench/media-load/fakes.ts): Deepgram, OpenAI chat, ElevenLabs, OpenAI
 *      Realtime, Twilio REST, with the latencies of bench/media-load/script.ts;
 *   3. the callers (bench/media-load/callers.ts): N carrier simulators placed as inbound calls
 *      through signed /twilio/voice webhooks, each running the scripted conversation.
 * So the gateway's CPU (from its own /metrics) is its own.
 *
 *   node --import tsx bench/media-load.ts [--engines pipeline,pipeline-cartesia,realtime] [--calls 10,100,500,1000]
 *        [--seconds 40] [--cpu-prof DIR] [--heap-snapshot] [--name media-load] [--no-stop]
 *        [--gateway-flags "--perf-basic-prof"]
 *
 * Escalation stops (per engine) at the first N where frames are lost, calls fail, or the
 * gateway's main thread saturates (its own CPU ≥ 95% of a core, or event-loop lag p99 ≥ 100 ms).
 * The gateway's CPU figures count all its threads (the Silero and STT workers too); the main
 * thread's share is read from /proc, since it alone carries every call's media loop.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { round, writeResults } from './lib/results.js';
import { startGateway, type GatewayMetrics, type GatewayProcess } from './lib/gateway-process.js';
import { summarize } from './lib/stats.js';
import { FAKE_CARTESIA_VOICES } from '../test/fakes/cartesia.js';
import { EXPECTED_V2V_MS, LATENCY, TURN, type CallerResults, type EngineKind, type RunRequest } from './media-load/script.js';
import { PIPELINE_PROVIDERS_MS, pipelineExpectedMs, replayPauses } from './media-load/turn-expectation.js';

/** The pipeline's by-construction voice-to-voice per caller clip (Silero's pause on it + providers). */
const pipelineExpected = await pipelineExpectedMs();

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    engines: { type: 'string', default: 'pipeline,realtime' },
    calls: { type: 'string', default: '10,100,500,1000' },
    seconds: { type: 'string', default: '40' },
    'cpu-prof': { type: 'string' },
    'heap-snapshot': { type: 'boolean', default: false },
    name: { type: 'string', default: 'media-load' },
    'no-stop': { type: 'boolean', default: false },
    /** Extra node flags for the gateway, e.g. "--perf-basic-prof" so `perf` names JIT frames. */
    'gateway-flags': { type: 'string' },
    /** nice value for the gateway, fakes and callers (negative needs root): on a shared machine it
     * keeps other jobs from starving the processes whose timing we measure. 0 leaves it alone. */
    priority: { type: 'string', default: '-10' },
  },
});
const engines = values.engines.split(',') as EngineKind[];
const levels = values.calls.split(',').map(Number);
const seconds = Number(values.seconds);

const priority = Number(values.priority);
function prioritize(pid: number | undefined): void {
  if (priority === 0 || pid === undefined) return;
  try {
    os.setPriority(pid, priority);
  } catch (err) {
    console.warn(`could not set priority ${priority} on ${pid}: ${(err as Error).message}`);
  }
}
prioritize(process.pid);

function forkChild(file: string): ChildProcess {
  const child = fork(path.join(here, 'media-load', file), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  prioritize(child.pid);
  return child;
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', onMsg);
      child.off('exit', onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null) => reject(new Error(`${type}: child exited with ${code}`));
    child.on('message', onMsg);
    child.once('exit', onExit);
  });
}

async function setupAgent(g: GatewayProcess, engine: EngineKind): Promise<string> {
  const common = {
    name: `bench ${engine}`,
    systemPrompt: 'You are a helpful receptionist.',
    firstMessage: 'Hello, thanks for calling. How can I help?',
    voiceMode: 'phone',
    active: true,
  };
  const body =
    engine !== 'realtime'
      ? {
          ...common,
          architecture: 'pipeline',
          model: 'gpt-4o-mini',
          stt: 'deepgram',
          ...(engine === 'pipeline-cartesia' ? { tts: 'cartesia', voiceId: FAKE_CARTESIA_VOICES[0]!.id } : { tts: 'elevenlabs' }),
          turnDetection: { silenceMs: TURN.silenceMs, minInterruptionMs: TURN.minInterruptionMs },
        }
      : { ...common, architecture: 'realtime', realtimeProvider: 'openai', turnDetection: { silenceMs: TURN.silenceMs } };
  const agent = await g.api('POST', '/v1/agents', body);
  if (agent.status !== 201) throw new Error(`create agent: ${agent.status} ${JSON.stringify(agent.body)}`);
  const phoneNumber = '+14155550199';
  const num = await g.api('POST', '/v1/phone-numbers', { phoneNumber, agentId: agent.body.id });
  if (num.status !== 201) throw new Error(`create number: ${num.status} ${JSON.stringify(num.body)}`);
  return phoneNumber;
}

interface Row {
  engine: EngineKind;
  calls: number;
  connected: number;
  seconds: number;
  cpuMsPerCallSecond: number;
  gatewayCpuPercent: number;
  /** The gateway's main thread alone (Linux /proc), % of one core. */
  gatewayMainThreadCpuPercent: number;
  rssPerCallMiB: number;
  gatewayRssMiB: number;
  /**
   * Voice-to-voice minus what the turn rule and the providers cost by construction: for the
   * pipeline, the VAD's pause on that call's exact caller audio (replayed) + LLM first token +
   * TTS first byte (turn-expectation.ts); for realtime, server VAD silence + first delta.
   */
  v2vOverheadMs: ReturnType<typeof summarize>;
  /** The overhead samples in 10 ms bins: {"10": n} counts samples in [10, 20). */
  v2vOverheadHistogram: Record<string, number>;
  /** Pipeline turns whose pause the replay did not find (left out of v2vOverheadMs). */
  v2vOverheadUnreplayed: number;
  /** The round-2 first accounting: the mean pause over window phases, fresh model state. */
  v2vOverheadMeanPauseMs: ReturnType<typeof summarize> | null;
  v2vMeasuredMs: ReturnType<typeof summarize>;
  bargeInMs: ReturnType<typeof summarize>;
  bargeInMissed: number;
  /** Local VAD windows of the ended calls: skipped ones were not analysed (the model fell behind). */
  vadWindows: { inferred: number; gated: number; skipped: number };
  noAnswer: number;
  underruns: number;
  underrunMsTotal: number;
  underrunSamples: Array<[number, number]>;
  utterancesHeard: number;
  framesSent: number;
  framesCounted: number;
  framesLost: number;
  agentFramesSent: number;
  agentFramesReceived: number;
  agentFramesLost: number;
  closedEarly: number;
  connectFailures: number;
  protocolErrors: number;
  gatewayLoopLagP99Ms: number;
  /** The longest the gateway's event loop was held during the window. */
  gatewayLoopLagMaxMs: number;
  /** The gateway's own per-turn latency parts (its /metrics histograms), mean ms per turn. */
  gatewayTurnMeanMs: Record<string, number>;
  /** How punctual the fakes were: their loop lag (late timers add to voice-to-voice). */
  fakesCpuPercent: number;
  fakesLoopLagP99Ms: number;
  loadgenCpuPercent: number;
  loadgenLoopLagP99Ms: number;
  sendLateP99Ms: number;
  loadAvg: { start: number[]; end: number[] };
  saturated: string | null;
}

function histogram(xs: number[], binMs: number): Record<string, number> {
  const bins = new Map<number, number>();
  for (const x of xs) {
    const b = Math.floor(x / binMs) * binMs;
    bins.set(b, (bins.get(b) ?? 0) + 1);
  }
  return Object.fromEntries([...bins].sort((a, b) => a[0] - b[0]).map(([b, n]) => [String(b), n]));
}

function vadWindowCounts(text: string, before: string): Row['vadWindows'] {
  const count = (t: string, outcome: string): number => Number(new RegExp(`^voxgate_vad_windows_total\\{outcome="${outcome}"\\} ([0-9.e+-]+)$`, 'm').exec(t)?.[1] ?? 0);
  const d = (o: string) => count(text, o) - count(before, o);
  return { inferred: d('inferred'), gated: d('gated'), skipped: d('skipped') };
}

/** CPU seconds of a process's main thread (its tid is its pid): utime + stime, in USER_HZ (100). */
function mainThreadCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN; // not Linux
  }
}

/** Mean of each `voxgate_turn_latency_ms{part}` histogram: where the gateway saw the time go. */
function turnMeans(metrics: string): Record<string, number> {
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const m of metrics.matchAll(/^voxgate_turn_latency_ms_(sum|count)\{[^}]*part="([a-z_]+)"[^}]*\} ([0-9.e+-]+)$/gm)) {
    const into = m[1] === 'sum' ? sums : counts;
    into.set(m[2]!, (into.get(m[2]!) ?? 0) + Number(m[3]));
  }
  const out: Record<string, number> = {};
  for (const [part, sum] of sums) {
    const n = counts.get(part) ?? 0;
    if (n > 0) out[part] = round(sum / n, 1);
  }
  return out;
}

async function runLevel(engine: EngineKind, calls: number): Promise<Row> {
  const loadStart = os.loadavg().map((x) => round(x, 2));
  const fakes = forkChild('fakes.ts');
  const ready = await nextMessage<{ env: Record<string, string>; authToken: string; accountSid: string }>(fakes, 'ready');
  const nodeFlags: string[] = [];
  if (values['cpu-prof']) {
    // One directory per run: tsx's loader thread writes a profile of its own beside the main one.
    const dir = path.join(values['cpu-prof'], `${engine}-${calls}`);
    mkdirSync(dir, { recursive: true });
    nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  if (values['heap-snapshot']) nodeFlags.push('--heapsnapshot-signal=SIGUSR2');
  if (values['gateway-flags']) nodeFlags.push(...values['gateway-flags'].split(' ').filter(Boolean));
  const g = await startGateway({ env: ready.env, nodeFlags });
  prioritize(g.child.pid);
  try {
    const toNumber = await setupAgent(g, engine);
    await new Promise((r) => setTimeout(r, 1000));
    const idle = await g.scrape();
    const callers = forkChild('callers.ts');
    const req: RunRequest = { type: 'run', engine, calls, seconds, publicUrl: g.baseUrl, authToken: ready.authToken, accountSid: ready.accountSid, toNumber };
    const started = nextMessage<{ connected: number }>(callers, 'started');
    const windowEnd = nextMessage(callers, 'window-end');
    const results = nextMessage<CallerResults>(callers, 'results');
    callers.send(req);
    await started;
    const before = await g.scrape();
    const mainBefore = mainThreadCpuSeconds(g.child.pid);
    fakes.send({ type: 'window-start' });
    const t0 = performance.now();
    await windowEnd;
    const fakesStats = nextMessage<{ cpuPercent: number; loopLagP99Ms: number }>(fakes, 'fakes-stats');
    fakes.send({ type: 'window-end' });
    const after = await g.scrape();
    const mainAfter = mainThreadCpuSeconds(g.child.pid);
    const wall = (performance.now() - t0) / 1000;
    if (values['heap-snapshot'] && values['cpu-prof']) {
      g.child.kill('SIGUSR2'); // written into the gateway's cwd (the repo root)
      await new Promise((r) => setTimeout(r, 5000));
    }
    const r = await results;
    await new Promise((res) => setTimeout(res, 1500)); // counters flush on close
    const final: GatewayMetrics = await g.scrape();
    const framesCounted = final.framesIn - idle.framesIn;
    const agentFramesSent = final.framesOut - idle.framesOut;
    const cpuS = after.cpuSeconds - before.cpuSeconds;
    const pipelineLike = engine === 'pipeline' || engine === 'pipeline-cartesia';
    // Exact accounting (turn-expectation.ts): each call's caller audio replayed through the VAD.
    const pauses = pipelineLike ? await Promise.all(r.callClips.map((said) => replayPauses(said))) : [];
    const overhead = r.v2vMs.map((x, i) => {
      if (!pipelineLike) return x - EXPECTED_V2V_MS[engine];
      const [call, clip] = r.v2vRefs[i]!;
      return x - pauses[call]![clip]! - PIPELINE_PROVIDERS_MS;
    });
    const unreplayed = overhead.filter((x) => Number.isNaN(x)).length;
    const overheadMeanPause = pipelineLike ? r.v2vMs.map((x, i) => x - pipelineExpected[r.v2vClips[i] ?? 'question']) : null;
    const row: Row = {
      engine,
      calls,
      connected: r.connected,
      seconds: round(wall, 1),
      cpuMsPerCallSecond: round((cpuS * 1000) / (r.connected * wall), 3),
      gatewayCpuPercent: round((cpuS / wall) * 100, 1),
      gatewayMainThreadCpuPercent: round(((mainAfter - mainBefore) / wall) * 100, 1),
      rssPerCallMiB: round((after.rssBytes - idle.rssBytes) / r.connected / 1024 / 1024, 3),
      gatewayRssMiB: round(after.rssBytes / 1024 / 1024, 1),
      v2vOverheadMs: summarize(overhead.filter((x) => !Number.isNaN(x))),
      v2vOverheadUnreplayed: unreplayed,
      v2vOverheadHistogram: histogram(overhead.filter((x) => !Number.isNaN(x)), 10),
      v2vOverheadMeanPauseMs: overheadMeanPause ? summarize(overheadMeanPause) : null,
      v2vMeasuredMs: summarize(r.v2vMs),
      bargeInMs: summarize(r.bargeInMs),
      bargeInMissed: r.bargeInMissed,
      vadWindows: vadWindowCounts(final.text, idle.text),
      noAnswer: r.noAnswer,
      underruns: r.underruns,
      underrunMsTotal: r.underrunMsTotal,
      underrunSamples: r.underrunSamples,
      utterancesHeard: r.utterancesHeard,
      framesSent: r.framesSent,
      framesCounted,
      framesLost: r.framesSent - framesCounted,
      agentFramesSent,
      agentFramesReceived: r.framesReceived,
      agentFramesLost: agentFramesSent - r.framesReceived,
      closedEarly: r.closedEarly,
      connectFailures: r.connectFailures,
      protocolErrors: r.protocolErrors,
      gatewayLoopLagP99Ms: round(after.loopLagP99Ms, 1),
      gatewayLoopLagMaxMs: round(after.loopLagMaxMs, 1),
      gatewayTurnMeanMs: turnMeans(final.text),
      fakesCpuPercent: round((await fakesStats).cpuPercent, 1),
      fakesLoopLagP99Ms: round((await fakesStats).loopLagP99Ms, 1),
      loadgenCpuPercent: r.loadgenCpuPercent,
      loadgenLoopLagP99Ms: r.loadgenLoopLagP99Ms,
      sendLateP99Ms: r.sendLateP99Ms,
      loadAvg: { start: loadStart, end: os.loadavg().map((x) => round(x, 2)) },
      saturated: null,
    };
    const why: string[] = [];
    if (row.framesLost !== 0) why.push(`${row.framesLost} caller frames lost`);
    if (row.agentFramesLost !== 0) why.push(`${row.agentFramesLost} agent frames lost`);
    if (row.connectFailures > 0 || row.closedEarly > 0) why.push(`${row.connectFailures} calls failed, ${row.closedEarly} closed early`);
    if (row.gatewayMainThreadCpuPercent >= 95) why.push(`gateway main thread CPU ${row.gatewayMainThreadCpuPercent}%`);
    if (row.gatewayLoopLagP99Ms >= 100) why.push(`gateway loop lag p99 ${row.gatewayLoopLagP99Ms} ms`);
    row.saturated = why.length ? why.join('; ') : null;
    return row;
  } finally {
    await g.stop();
    fakes.disconnect();
  }
}

const rows: Row[] = [];
for (const engine of engines) {
  for (const calls of levels) {
    console.log(`--- ${engine} × ${calls} calls, ${seconds} s (load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')})`);
    const row = await runLevel(engine, calls);
    rows.push(row);
    console.log(JSON.stringify(row));
    if (row.saturated && !values['no-stop']) {
      console.log(`stopping ${engine} escalation at ${calls}: ${row.saturated}`);
      break;
    }
  }
}

const table = rows.map((r) => ({
  engine: r.engine,
  calls: r.connected,
  'cpu ms/call-s': r.cpuMsPerCallSecond,
  'gw cpu % (main)': `${r.gatewayCpuPercent} (${r.gatewayMainThreadCpuPercent})`,
  'MiB/call': r.rssPerCallMiB,
  'v2v ovh p50/p95/p99': `${r.v2vOverheadMs.p50}/${r.v2vOverheadMs.p95}/${r.v2vOverheadMs.p99}`,
  'ovh mean-pause p50/p95': r.v2vOverheadMeanPauseMs ? `${r.v2vOverheadMeanPauseMs.p50}/${r.v2vOverheadMeanPauseMs.p95}` : '',
  'barge p50/p95': `${r.bargeInMs.p50}/${r.bargeInMs.p95}`,
  underruns: r.underruns,
  'lost in/out': `${r.framesLost}/${r.agentFramesLost}`,
  'lag p99': r.gatewayLoopLagP99Ms,
  'fakes lag p99': r.fakesLoopLagP99Ms,
  load: r.loadAvg.end[0],
  saturated: r.saturated ?? '',
}));
const profiles = values['cpu-prof'] ? readdirSync(values['cpu-prof'], { recursive: true }).map(String).filter((f) => f.endsWith('.cpuprofile')) : [];
const file = writeResults(values.name, { seconds, priority, latency: LATENCY, turn: TURN, expectedV2vMs: { ...EXPECTED_V2V_MS, pipeline: pipelineExpected }, loadAvg: os.loadavg(), rows, profiles }, table);
console.log(`wrote ${file}`);
process.exit(0);
