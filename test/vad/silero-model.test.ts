/**
 * The model's worker thread: windows of many streams go through the model as one batch, and a
 * stream's answers must be exactly what it gets alone (its own LSTM state, in order), with resets
 * and closes applied at the right point.
 */
import { describe, expect, it } from 'vitest';
import { Resampler, ulawDecode } from '../../src/media/index.js';
import { loadSilero, startSileroModel, type SileroStream } from '../../src/vad/index.js';
import { readUlawFixture } from '../helpers/fixtures.js';

const W = 1024;

/** The fixture at 16 kHz in [-1, 1], cut into whole model windows. */
function windows(name: 'hello' | 'question'): Float32Array[] {
  const pcm8 = ulawDecode(readUlawFixture(name));
  const r = new Resampler(8000, 16000);
  const out = new Int16Array(r.maxOutputLength(pcm8.length));
  const pcm = r.process(pcm8, out);
  const list: Float32Array[] = [];
  for (let i = 0; i + W <= pcm.length; i += W) list.push(Float32Array.from(pcm.subarray(i, i + W), (x) => x / 32768));
  return list;
}

async function runAll(stream: SileroStream, wins: Float32Array[]): Promise<number[]> {
  const out: number[] = [];
  for (const w of wins) out.push(await stream.run(w));
  return out;
}

describe('Silero model worker', () => {
  it('gives each stream in a batch the answers it gets alone', async () => {
    const model = await loadSilero();
    const hello = windows('hello');
    const question = windows('question');
    const alone = await runAll(model.open(W), hello);
    expect(Math.max(...alone)).toBeGreaterThan(0.5); // the sentence is found at all

    // Three streams in lockstep: each tick's windows travel and run together.
    const a = model.open(W);
    const b = model.open(W);
    const c = model.open(W);
    const got: number[] = [];
    const n = Math.min(hello.length, question.length);
    for (let i = 0; i < n; i++) {
      const [pa] = await Promise.all([a.run(hello[i]!), b.run(question[i]!), c.run(question[(i + 7) % n]!)]);
      got.push(pa);
    }
    for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(alone[i]!, 5);
    for (const s of [a, b, c]) s.close();
  });

  it('starts from a zero state after reset, and runs one window at a time per stream', async () => {
    const model = await loadSilero();
    const hello = windows('hello');
    const fresh = await runAll(model.open(W), hello.slice(0, 6));

    const s = model.open(W);
    await runAll(s, hello.slice(10, 20)); // some state
    s.reset();
    expect(await runAll(s, hello.slice(0, 6))).toEqual(fresh);

    const first = s.run(hello[0]!);
    await expect(s.run(hello[1]!)).rejects.toThrow(/one window at a time/);
    await first;
    await expect(s.run(new Float32Array(512))).rejects.toThrow(RangeError);
    s.close();
    await expect(s.run(hello[0]!)).rejects.toThrow(/closed/);
  });

  it('runs streams of different window sizes side by side', async () => {
    const model = await loadSilero();
    const small = model.open(512);
    const big = model.open(1536);
    const [p1, p2] = await Promise.all([small.run(new Float32Array(512)), big.run(new Float32Array(1536))]);
    expect(p1).toBeGreaterThanOrEqual(0);
    expect(p1).toBeLessThan(0.5);
    expect(p2).toBeLessThan(0.5);
    small.close();
    big.close();
  });

  it('when the worker dies, what was in flight settles and the next run starts a new worker', async () => {
    const model = await startSileroModel();
    const hello = windows('hello');
    const fresh = await runAll(model.open(W), hello.slice(0, 4));
    const s = model.open(W);
    await runAll(s, hello.slice(10, 14));
    const inFlight = s.run(hello[14]!);
    await model.stop();
    // Answered before the worker went, or rejected with it; a run left hanging fails the test
    // by its timeout.
    await inFlight.catch(() => undefined);
    // A new worker, so a zero state: the same answers as a fresh stream.
    expect(await runAll(s, hello.slice(0, 4))).toEqual(fresh);
    await model.stop();
  });

  it('fails to load with a clear error for a missing model file', async () => {
    await expect(loadSilero('/nonexistent/silero.onnx')).rejects.toThrow(/silero|nonexistent|load/i);
  });
});
