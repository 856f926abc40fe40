/**
 * VAD CPU cost per call-second: N concurrent detectors fed 20 ms frames of 8 kHz audio as fast
 * as the model keeps up (each tick pushes one frame to every call, then waits until all have
 * decided). CPU is the whole process's (`process.cpuUsage`: JS plus onnxruntime's threads),
 * divided by calls × seconds of audio. Scenarios:
 *   speech      the `long` fixture looped (continuous speech: the worst case)
 *   line noise  -65 dBFS noise, a quiet phone line: the energy gate keeps the model idle
 *   silence     digital silence (μ-law 0xFF)
 * each with the default gate, with the gate off (speech, line noise), and for the three window
 * sizes the model supports.
 *
 *   node --import tsx bench/vad.ts [--calls 10] [--seconds 20]
 */
import { parseArgs } from 'node:util';
import { ulawDecode } from '../src/media/index.js';
import { EnergyVad, SileroVad, loadSilero, type SileroWindowSamples, type VoiceActivityDetector } from '../src/vad/index.js';
import { readUlawFixture } from '../test/helpers/fixtures.js';
import { cpuMsSince, round, writeResults } from './lib/results.js';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '10' }, seconds: { type: 'string', default: '20' } },
});
const calls = Number(values.calls);
const seconds = Number(values.seconds);
const FRAME = 160;
const frames = (seconds * 8000) / FRAME;

const speech = ulawDecode(readUlawFixture('long'));
let seed = 42;
const lineNoise = Int16Array.from({ length: 8000 }, () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return Math.round(((seed / 0x7fffffff) * 2 - 1) * 32768 * 10 ** (-65 / 20) * Math.sqrt(3));
});
const silence = new Int16Array(8000);
const sources: Record<string, Int16Array> = { speech, 'line noise': lineNoise, silence };

interface Scenario {
  audio: keyof typeof sources;
  detector: 'silero' | 'energy';
  windowSamples?: SileroWindowSamples;
  gate: boolean;
}

const scenarios: Scenario[] = [
  { audio: 'speech', detector: 'silero', windowSamples: 512, gate: true },
  { audio: 'speech', detector: 'silero', windowSamples: 1024, gate: true },
  { audio: 'speech', detector: 'silero', windowSamples: 1536, gate: true },
  { audio: 'speech', detector: 'silero', windowSamples: 1024, gate: false },
  { audio: 'line noise', detector: 'silero', windowSamples: 1024, gate: true },
  { audio: 'line noise', detector: 'silero', windowSamples: 1024, gate: false },
  { audio: 'silence', detector: 'silero', windowSamples: 1024, gate: true },
  { audio: 'speech', detector: 'energy', gate: true },
];

const model = await loadSilero();

async function run(s: Scenario): Promise<Record<string, unknown>> {
  const src = sources[s.audio];
  const vads: VoiceActivityDetector[] = Array.from({ length: calls }, () =>
    s.detector === 'energy'
      ? new EnergyVad({ sampleRate: 8000 })
      : new SileroVad(model, { sampleRate: 8000, windowSamples: s.windowSamples, gate: s.gate ? {} : false }),
  );
  // Calls start at different points of the clip, as real calls would.
  const offsets = vads.map((_, i) => Math.floor((i * src.length) / calls / FRAME) * FRAME);
  const frame = (call: number, n: number): Int16Array => {
    let at = (offsets[call] + n * FRAME) % src.length;
    if (at + FRAME > src.length) at = 0;
    return src.subarray(at, at + FRAME);
  };
  const settleAll = (): Promise<unknown> => Promise.all(vads.map((v) => (v instanceof SileroVad ? v.settled() : undefined)));

  // Warm-up (1 s, not counted): JIT, onnxruntime's first runs.
  for (let n = 0; n < 50; n++) {
    vads.forEach((v, c) => v.push(frame(c, n)));
    await settleAll();
  }
  const before = vads.map((v) => v.stats);

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let n = 0; n < frames; n++) {
    for (let c = 0; c < calls; c++) vads[c].push(frame(c, n));
    await settleAll();
  }
  const cpuMs = cpuMsSince(cpu0);
  const wallMs = performance.now() - t0;
  const stats = vads.map((v) => v.stats);
  const sum = (k: keyof (typeof stats)[0]): number => stats.reduce((a, x, i) => a + x[k] - before[i][k], 0);
  vads.forEach((v) => v.close());
  return {
    audio: s.audio,
    detector: s.detector === 'energy' ? 'energy' : `silero ${s.windowSamples}`,
    gate: s.gate ? 'on' : 'off',
    cpuMsPerCallSecond: round(cpuMs / (calls * seconds), 2),
    inferencesPerCallSecond: round(sum('inferences') / (calls * seconds), 1),
    cpuMsPerInference: sum('inferences') > 0 ? round(cpuMs / sum('inferences'), 3) : null,
    skipped: sum('skipped'),
    realtimeFactor: round((calls * seconds * 1000) / wallMs, 1),
  };
}

const rows: Record<string, unknown>[] = [];
for (const s of scenarios) rows.push(await run(s));
writeResults('vad', { calls, seconds, frameMs: 20, sampleRate: 8000, rows }, rows);
