/**
 * Silero VAD per call: frames → energy gate → (8 kHz: upsample to 16 kHz) → fixed windows →
 * the shared model → hysteresis → events.
 *
 * Window size: 1024 samples (64 ms) by default. The model was trained on 512/1024/1536-sample
 * windows at 16 kHz; each inference has a fixed overhead that dominates its cost (measured here:
 * ~0.3 ms CPU for 512, ~0.45 ms for 1024, ~0.5 ms for 1536), so CPU per second of speech is
 * ~9 / ~7 / ~5 ms. 1024 halves 512's cost while deciding every 64 ms, which keeps speech onset
 * (and so barge-in) reaction within two windows; bench/vad.ts measures all three.
 *
 * Inference is async: the model runs in its own thread, batched across calls (silero-model.ts).
 * Windows of one call are analysed strictly in order; at most `maxPendingInferences` windows wait
 * for the model. If the model falls further behind, new windows are not analysed (they repeat the
 * last probability) and are counted in `stats.skipped`.
 */
import { Resampler } from '../media/index.js';
import { EnergyGate, type EnergyGateOptions } from './energy-gate.js';
import { SpeechHysteresis } from './hysteresis.js';
import { SILERO_SAMPLE_RATE, type SileroModel, type SileroStream } from './silero-model.js';
import type { VadListener, VadOptions, VadStats, VadWindowListener, VoiceActivityDetector } from './types.js';

export type SileroWindowSamples = 512 | 1024 | 1536;

export interface SileroVadOptions extends VadOptions {
  /** Model window at 16 kHz; see the file comment. Default 1024 (64 ms). */
  windowSamples?: SileroWindowSamples;
  /** Energy gate settings, or false to run the model on every window (benchmarks, tests). */
  gate?: EnergyGateOptions | false;
  /** Windows allowed to wait for the model (including the one running). Default 2. */
  maxPendingInferences?: number;
  /** Inference failures and listener exceptions end up here (they never reach the audio path). */
  onError?: (err: unknown) => void;
}

export const DEFAULT_WINDOW_SAMPLES: SileroWindowSamples = 1024;
/** Upsampling for the model needs no hi-fi: 8 lobes halve the resampler's cost (≥ 40 dB images). */
const VAD_RESAMPLER_ZERO_CROSSINGS = 8;
/** Beyond this many undecided windows (~4 s at 64 ms) new ones are dropped outright: the model is stuck. */
const MAX_QUEUED_WINDOWS = 64;

interface Slot {
  data: Float32Array;
  busy: boolean;
}

interface QueuedWindow {
  startMs: number;
  generation: number;
  /** null: gated (probability 0) or skipped (repeat the last probability). */
  slot: Slot | null;
  skipped: boolean;
}

export class SileroVad implements VoiceActivityDetector {
  readonly kind = 'silero' as const;
  readonly windowSamples: number;
  readonly windowMs: number;
  private readonly stream: SileroStream;
  private readonly sampleRate: number;
  private readonly gate: EnergyGate | null;
  private readonly hysteresis: SpeechHysteresis;
  private readonly resampler: Resampler | null;
  private upBuf = new Int16Array(0);
  private wasOpen = false;
  private readonly onError: (err: unknown) => void;

  // Window being filled.
  private readonly win: Float32Array;
  private fill = 0;
  private winOpen = false;
  /** Model-rate samples of completed windows: the clock of window start times. */
  private windowClock = 0;

  private readonly slots: Slot[];
  private readonly queue: QueuedWindow[] = [];
  private running = false;
  private inflight: Slot | null = null;
  private generation = 0;
  private idleWaiters: (() => void)[] = [];

  private samples = 0;
  private lastP = 0;
  private closed = false;
  private readonly counters: VadStats = { windows: 0, inferences: 0, gated: 0, skipped: 0 };
  private readonly windowListeners: VadWindowListener[] = [];

  constructor(model: SileroModel, opts: SileroVadOptions) {
    if (opts.sampleRate !== 8000 && opts.sampleRate !== 16000) {
      throw new RangeError(`SileroVad: sampleRate must be 8000 or 16000, got ${opts.sampleRate}`);
    }
    this.sampleRate = opts.sampleRate;
    this.windowSamples = opts.windowSamples ?? DEFAULT_WINDOW_SAMPLES;
    this.stream = model.open(this.windowSamples);
    this.windowMs = (this.windowSamples * 1000) / SILERO_SAMPLE_RATE;
    this.gate = opts.gate === false ? null : new EnergyGate(opts.gate ?? {});
    this.hysteresis = new SpeechHysteresis(opts);
    this.resampler =
      opts.sampleRate === SILERO_SAMPLE_RATE
        ? null
        : new Resampler(opts.sampleRate, SILERO_SAMPLE_RATE, { zeroCrossings: VAD_RESAMPLER_ZERO_CROSSINGS });
    this.onError = opts.onError ?? (() => {});
    this.win = new Float32Array(this.windowSamples);
    const n = Math.max(1, opts.maxPendingInferences ?? 2);
    this.slots = Array.from({ length: n }, () => ({ data: new Float32Array(this.windowSamples), busy: false }));
  }

  get speaking(): boolean {
    return this.hysteresis.speaking;
  }

  get probability(): number {
    return this.lastP;
  }

  get nowMs(): number {
    return (this.samples * 1000) / this.sampleRate;
  }

  get stats(): VadStats {
    return { ...this.counters };
  }

  onEvent(listener: VadListener): void {
    this.hysteresis.onEvent(listener);
  }

  onWindow(listener: VadWindowListener): void {
    this.windowListeners.push(listener);
  }

  push(frame: Int16Array): void {
    if (this.closed || frame.length === 0) return;
    this.samples += frame.length;
    const durationMs = (frame.length * 1000) / this.sampleRate;
    const open = this.gate ? this.gate.frame(frame, durationMs) : true;

    if (!open) {
      // Quiet: the window gets zeros for this span, and the resampler restarts from silence
      // when the gate opens again (which is what the zeros stand for).
      if (this.wasOpen && this.resampler) this.resampler.reset();
      this.wasOpen = false;
      const n = this.resampler ? (frame.length * SILERO_SAMPLE_RATE) / this.sampleRate : frame.length;
      this.appendZeros(n);
      return;
    }
    this.wasOpen = true;
    let pcm = frame;
    if (this.resampler) {
      const need = this.resampler.maxOutputLength(frame.length);
      if (this.upBuf.length < need) this.upBuf = new Int16Array(need);
      pcm = this.resampler.process(frame, this.upBuf);
    }
    this.appendSamples(pcm);
  }

  /** Resolves once every completed window has been decided (tests and benchmarks). */
  settled(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  reset(): void {
    this.generation++;
    this.queue.length = 0;
    for (const s of this.slots) if (s !== this.inflight) s.busy = false;
    this.stream.reset();
    this.hysteresis.reset();
    this.lastP = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.generation++;
    this.queue.length = 0;
    this.stream.close();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private appendSamples(pcm: Int16Array): void {
    const win = this.win;
    const w = this.windowSamples;
    for (let i = 0; i < pcm.length; ) {
      this.winOpen = true;
      const n = Math.min(pcm.length - i, w - this.fill);
      for (let k = 0; k < n; k++) win[this.fill + k] = pcm[i + k] / 32768;
      this.fill += n;
      i += n;
      if (this.fill === w) this.completeWindow();
    }
  }

  private appendZeros(count: number): void {
    const w = this.windowSamples;
    while (count > 0) {
      const n = Math.min(count, w - this.fill);
      this.win.fill(0, this.fill, this.fill + n);
      this.fill += n;
      count -= n;
      if (this.fill === w) this.completeWindow();
    }
  }

  private completeWindow(): void {
    const startMs = (this.windowClock * 1000) / SILERO_SAMPLE_RATE;
    this.windowClock += this.windowSamples;
    const open = this.winOpen;
    this.fill = 0;
    this.winOpen = false;

    if (this.queue.length >= MAX_QUEUED_WINDOWS) {
      this.counters.windows++;
      this.counters.skipped++;
      return;
    }
    let slot: Slot | null = null;
    let skipped = false;
    if (open) {
      for (const s of this.slots) {
        if (!s.busy) {
          slot = s;
          break;
        }
      }
      if (slot) {
        slot.busy = true;
        slot.data.set(this.win);
      } else {
        skipped = true;
      }
    }
    this.queue.push({ startMs, generation: this.generation, slot, skipped });
    this.pump();
  }

  /** Decides queued windows in order; at most one inference of this call runs at a time. */
  private pump(): void {
    while (!this.running && this.queue.length > 0 && !this.closed) {
      const item = this.queue[0];
      if (item.slot) {
        this.running = true;
        this.inflight = item.slot;
        void this.infer(item);
        return;
      }
      this.queue.shift();
      if (item.skipped) this.counters.skipped++;
      else this.counters.gated++;
      this.decide(item.skipped ? this.lastP : 0, item.startMs);
    }
    if (!this.running && (this.queue.length === 0 || this.closed)) this.notifyIdle();
  }

  private async infer(item: QueuedWindow): Promise<void> {
    const slot = item.slot as Slot;
    let p = 0;
    try {
      p = await this.stream.run(slot.data);
    } catch (err) {
      this.onError(err);
    }
    slot.busy = false;
    this.inflight = null;
    this.running = false;
    if (item.generation !== this.generation || this.closed) {
      this.pump();
      return;
    }
    this.queue.shift();
    this.counters.inferences++;
    this.decide(p, item.startMs);
    this.pump();
  }

  private decide(p: number, startMs: number): void {
    this.lastP = p;
    this.counters.windows++;
    try {
      this.hysteresis.feed(p, startMs, this.windowMs);
      for (const l of this.windowListeners) l(p, startMs + this.windowMs);
    } catch (err) {
      this.onError(err);
    }
  }
}
