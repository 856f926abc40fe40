/**
 * The fallback detector: level above an adaptive noise floor, no model. Synchronous and nearly
 * free, but it cannot tell speech from other loud sounds (a noise burst counts as speech), so it
 * is used only when the Silero model cannot load.
 */
import { EnergyGate } from './energy-gate.js';
import { SpeechHysteresis } from './hysteresis.js';
import type { VadListener, VadOptions, VadStats, VadWindowListener, VoiceActivityDetector } from './types.js';

/** Speech must stand further above the floor than the gate needs: here loudness is the whole decision. */
const ENERGY_VAD_MARGIN_DB = 10;
/** dB over which the pseudo-probability goes from 0.27 to 0.73 (a logistic of the level). */
const PROBABILITY_SLOPE_DB = 3;

export class EnergyVad implements VoiceActivityDetector {
  readonly kind = 'energy' as const;
  private readonly gate = new EnergyGate({ marginDb: ENERGY_VAD_MARGIN_DB, hangoverMs: 0 });
  private readonly hysteresis: SpeechHysteresis;
  private readonly sampleRate: number;
  private samples = 0;
  private closed = false;
  private lastP = 0;
  private readonly counters: VadStats = { windows: 0, inferences: 0, gated: 0, skipped: 0 };
  private readonly windowListeners: VadWindowListener[] = [];

  constructor(opts: VadOptions) {
    this.sampleRate = opts.sampleRate;
    this.hysteresis = new SpeechHysteresis(opts);
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
    const startMs = this.nowMs;
    this.samples += frame.length;
    const durationMs = (frame.length * 1000) / this.sampleRate;
    this.gate.frame(frame, durationMs);
    const p = 1 / (1 + Math.exp(-(this.gate.levelDbfs - this.gate.openDbfs) / PROBABILITY_SLOPE_DB));
    this.lastP = p;
    this.counters.windows++;
    this.hysteresis.feed(p, startMs, durationMs);
    for (const l of this.windowListeners) l(p, this.nowMs);
  }

  reset(): void {
    this.hysteresis.reset();
    this.lastP = 0;
  }

  close(): void {
    this.closed = true;
  }
}
