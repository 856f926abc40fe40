/**
 * The Silero model's thread (silero-model.ts is the other side). It owns the ONNX session and
 * every stream's LSTM state, and runs the windows it is sent as batches: all windows that
 * arrived since its last run go through the model together, one row per stream. The model's
 * cost is mostly per run, not per row (bench/vad.ts), and a stream has at most one window in
 * flight, so a batch never holds two windows of the same stream.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { SILERO_SAMPLE_RATE, SILERO_STATE_SIZE, type SileroBatch, type SileroReply } from './silero-model.js';

const port = parentPort!;
const modelPath = (workerData as { data: { modelPath: string } }).data.modelPath;

interface Model {
  ort: typeof import('onnxruntime-node');
  session: InferenceSession;
  sr: Tensor;
}

/** stream id → h then c, each [2 layers × 64 units]. */
const states = new Map<number, Float32Array>();
let pending: SileroBatch[] = [];
/** A drain is scheduled or running: what arrives meanwhile waits for the next (bigger) batch. */
let draining = false;
let model: Model | null = null;

function stateOf(id: number): Float32Array {
  let s = states.get(id);
  if (!s) {
    s = new Float32Array(2 * SILERO_STATE_SIZE);
    states.set(id, s);
  }
  return s;
}

/** State tensors are [layer, batch, unit]: stream k's unit rows sit at layer * b + k. */
function row(layer: number, k: number, b: number): number {
  return (layer * b + k) * 64;
}

/** Runs one group of windows (same size, distinct streams) as one batch. */
async function run(m: Model, windowSamples: number, ids: Int32Array, resets: Uint8Array, windows: Float32Array): Promise<Float32Array> {
  const b = ids.length;
  const h = new Float32Array(2 * b * 64);
  const c = new Float32Array(2 * b * 64);
  for (let k = 0; k < b; k++) {
    const s = stateOf(ids[k]!);
    if (resets[k]) s.fill(0);
    for (let layer = 0; layer < 2; layer++) {
      h.set(s.subarray(layer * 64, layer * 64 + 64), row(layer, k, b));
      c.set(s.subarray(SILERO_STATE_SIZE + layer * 64, SILERO_STATE_SIZE + layer * 64 + 64), row(layer, k, b));
    }
  }
  const out = await m.session.run({
    input: new m.ort.Tensor('float32', windows, [b, windowSamples]),
    sr: m.sr,
    h: new m.ort.Tensor('float32', h, [2, b, 64]),
    c: new m.ort.Tensor('float32', c, [2, b, 64]),
  });
  const hn = out.hn!.data as Float32Array;
  const cn = out.cn!.data as Float32Array;
  const p = out.output!.data as Float32Array;
  const probs = new Float32Array(b);
  for (let k = 0; k < b; k++) {
    probs[k] = p[k]!;
    const s = states.get(ids[k]!);
    if (!s) continue;
    for (let layer = 0; layer < 2; layer++) {
      s.set(hn.subarray(row(layer, k, b), row(layer, k, b) + 64), layer * 64);
      s.set(cn.subarray(row(layer, k, b), row(layer, k, b) + 64), SILERO_STATE_SIZE + layer * 64);
    }
  }
  return probs;
}

/** Everything that arrived since the last drain, one batch per window size. */
async function drain(m: Model): Promise<void> {
  const batches = pending;
  pending = [];
  const groups = new Map<number, { ids: number[]; resets: number[]; windows: Float32Array[] }>();
  for (const b of batches) {
    let at = 0;
    for (let k = 0; k < b.ids.length; k++) {
      const w = b.sizes[k]!;
      let g = groups.get(w);
      if (!g) groups.set(w, (g = { ids: [], resets: [], windows: [] }));
      g.ids.push(b.ids[k]!);
      g.resets.push(b.resets[k]!);
      g.windows.push(b.data.subarray(at, at + w));
      at += w;
    }
  }
  for (const [w, g] of groups) {
    const ids = Int32Array.from(g.ids);
    const windows = new Float32Array(ids.length * w);
    g.windows.forEach((win, k) => windows.set(win, k * w));
    let reply: SileroReply;
    try {
      reply = { type: 'result', ids, probs: await run(m, w, ids, Uint8Array.from(g.resets), windows) };
    } catch (err) {
      reply = { type: 'result', ids, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
  }
  // Closed streams go last: a window of theirs in this drain still got its answer.
  for (const b of batches) for (const id of b.closed) states.delete(id);
  draining = false;
  schedule();
}

function schedule(): void {
  const m = model;
  if (draining || !m || pending.length === 0) return;
  draining = true;
  setImmediate(() => void drain(m));
}

port.on('message', (b: SileroBatch) => {
  pending.push(b);
  schedule();
});

try {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  for (const name of ['input', 'sr', 'h', 'c']) {
    if (!session.inputNames.includes(name)) throw new Error(`silero model ${modelPath}: missing input "${name}"`);
  }
  for (const name of ['output', 'hn', 'cn']) {
    if (!session.outputNames.includes(name)) throw new Error(`silero model ${modelPath}: missing output "${name}"`);
  }
  model = { ort, session, sr: new ort.Tensor('int64', BigInt64Array.from([BigInt(SILERO_SAMPLE_RATE)]), []) };
  port.postMessage({ type: 'ready' } satisfies SileroReply);
  schedule();
} catch (err) {
  port.postMessage({ type: 'fatal', message: err instanceof Error ? err.message : String(err) } satisfies SileroReply);
  port.close();
}
