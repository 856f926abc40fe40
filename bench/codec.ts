/**
 * G.711 μ-law codec and resampler throughput: ours (table-driven, with and without a reused
 * output buffer) side by side with the `alawmulaw` package, in the same process and run, on
 * real speech (the `long` fixture) cut into 20 ms frames.
 *
 *   node --import tsx bench/codec.ts [--ms 1500]
 */
import { parseArgs } from 'node:util';
import alawmulaw from 'alawmulaw';
import { Resampler, ulawDecode, ulawEncode } from '../src/media/index.js';
import { readUlawFixture } from '../test/helpers/fixtures.js';
import { round, writeResults } from './lib/results.js';

// alawmulaw is CommonJS (a UMD bundle): take the namespace off its default export.
const { mulaw } = alawmulaw;
const { values } = parseArgs({ options: { ms: { type: 'string', default: '1500' } } });
const budgetMs = Number(values.ms);

const FRAME = 160; // 20 ms at 8 kHz
const ulaw = readUlawFixture('long');
const frameCount = Math.floor(ulaw.length / FRAME);
const ulawFrames = Array.from({ length: frameCount }, (_, i) => ulaw.subarray(i * FRAME, (i + 1) * FRAME));
const pcmFrames = ulawFrames.map((f) => ulawDecode(f));
const pcm16kFrames = pcmFrames.map((f) => new Resampler(8000, 16000).process(f));

interface Row {
  op: string;
  impl: string;
  nsPerFrame: number;
  framesPerSec: number;
  /** μ-law bytes in (decode) or out (encode) per second; for resampling, input PCM bytes. */
  mbPerSec: number;
}

/** Runs `fn(frameIndex)` over the frames repeatedly for ~budgetMs after a warm-up; ns per call. */
function measure(fn: (i: number) => void): number {
  const warmUntil = performance.now() + Math.min(300, budgetMs / 3);
  let i = 0;
  while (performance.now() < warmUntil) fn(i++ % frameCount);
  let calls = 0;
  const t0 = process.hrtime.bigint();
  const stopAt = performance.now() + budgetMs;
  while (performance.now() < stopAt) {
    // Check the clock every 1,000 frames so the timer call does not dominate.
    for (let k = 0; k < 1000; k++) fn(k % frameCount);
    calls += 1000;
  }
  return Number(process.hrtime.bigint() - t0) / calls;
}

const rows: Row[] = [];
function add(op: string, impl: string, ns: number, bytesPerFrame: number): void {
  rows.push({
    op,
    impl,
    nsPerFrame: round(ns, 1),
    framesPerSec: Math.round(1e9 / ns),
    mbPerSec: round((bytesPerFrame * 1e9) / ns / 1e6, 1),
  });
}

let sink = 0; // keeps results observable so the JIT cannot drop the work

const pcmOut = new Int16Array(FRAME);
add('decode', 'voxgate (into buffer)', measure((i) => { sink ^= ulawDecode(ulawFrames[i], pcmOut)[7]; }), FRAME);
add('decode', 'voxgate (allocating)', measure((i) => { sink ^= ulawDecode(ulawFrames[i])[7]; }), FRAME);
add('decode', 'alawmulaw', measure((i) => { sink ^= mulaw.decode(ulawFrames[i])[7]; }), FRAME);

const ulawOut = Buffer.alloc(FRAME);
add('encode', 'voxgate (into buffer)', measure((i) => { sink ^= ulawEncode(pcmFrames[i], ulawOut)[7]; }), FRAME);
add('encode', 'voxgate (allocating)', measure((i) => { sink ^= ulawEncode(pcmFrames[i])[7]; }), FRAME);
add('encode', 'alawmulaw', measure((i) => { sink ^= mulaw.encode(pcmFrames[i])[7]; }), FRAME);

const up = new Resampler(8000, 16000);
const upOut = new Int16Array(up.maxOutputLength(FRAME));
add('resample 8k→16k', 'voxgate', measure((i) => { sink ^= up.process(pcmFrames[i], upOut)[7]; }), FRAME * 2);
const upVad = new Resampler(8000, 16000, { zeroCrossings: 8 });
add('resample 8k→16k', 'voxgate (VAD: 8 lobes)', measure((i) => { sink ^= upVad.process(pcmFrames[i], upOut)[7]; }), FRAME * 2);
const down = new Resampler(16000, 8000);
const downOut = new Int16Array(down.maxOutputLength(FRAME * 2));
add('resample 16k→8k', 'voxgate', measure((i) => { sink ^= down.process(pcm16kFrames[i], downOut)[7]; }), FRAME * 4);

// Agreement with alawmulaw on this speech: decode must match; encode may differ by one code on
// a few negative samples (alawmulaw truncates like the Reese encoder, we round like sox).
let decodeDiff = 0;
let encodeDiff = 0;
for (let i = 0; i < frameCount; i++) {
  const a = ulawDecode(ulawFrames[i]);
  const b = mulaw.decode(ulawFrames[i]);
  for (let k = 0; k < FRAME; k++) if (a[k] !== b[k]) decodeDiff++;
  const c = ulawEncode(pcmFrames[i]);
  const d = mulaw.encode(pcmFrames[i]);
  for (let k = 0; k < FRAME; k++) if (c[k] !== d[k]) encodeDiff++;
}

const notes = { frameSamples: FRAME, frames: frameCount, decodeDiffSamples: decodeDiff, encodeDiffSamples: encodeDiff, sink };
writeResults('codec', { budgetMs, rows, ...notes }, rows as unknown as Record<string, unknown>[]);
console.log(`agreement with alawmulaw on ${frameCount * FRAME} samples: decode differs on ${decodeDiff}, encode on ${encodeDiff}`);
