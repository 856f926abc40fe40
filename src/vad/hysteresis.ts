/**
 * Turns a stream of per-window speech probabilities into speech_start / speech_end events.
 * Pure and synchronous: both detectors feed it, tests drive it with made-up probabilities.
 */
import {
  DEFAULT_MIN_SPEECH_MS,
  DEFAULT_SILENCE_MS,
  DEFAULT_THRESHOLD,
  NEGATIVE_THRESHOLD_GAP,
  type VadEvent,
  type VadListener,
} from './types.js';

export interface HysteresisOptions {
  threshold?: number;
  minSpeechMs?: number;
  silenceMs?: number;
}

export class SpeechHysteresis {
  readonly threshold: number;
  readonly negativeThreshold: number;
  readonly minSpeechMs: number;
  readonly silenceMs: number;
  speaking = false;
  private listeners: VadListener[] = [];
  /** Start of the current run of speech windows (or -1). */
  private runStartMs = -1;
  private runMs = 0;
  /** Start of the current run of silence while speaking (or -1). */
  private silenceStartMs = -1;
  private silenceRunMs = 0;
  private speechStartMs = 0;

  constructor(o: HysteresisOptions = {}) {
    this.threshold = clamp01(o.threshold ?? DEFAULT_THRESHOLD);
    this.negativeThreshold = Math.max(0, this.threshold - NEGATIVE_THRESHOLD_GAP);
    this.minSpeechMs = Math.max(0, o.minSpeechMs ?? DEFAULT_MIN_SPEECH_MS);
    this.silenceMs = Math.max(0, o.silenceMs ?? DEFAULT_SILENCE_MS);
  }

  onEvent(listener: VadListener): void {
    this.listeners.push(listener);
  }

  /** One analysed window of `durationMs` starting at `startMs` with speech probability `p`. */
  feed(p: number, startMs: number, durationMs: number): void {
    if (!this.speaking) {
      if (p >= this.threshold) {
        if (this.runStartMs < 0) this.runStartMs = startMs;
        this.runMs += durationMs;
        if (this.runMs >= this.minSpeechMs) {
          this.speaking = true;
          this.speechStartMs = this.runStartMs;
          this.silenceStartMs = -1;
          this.silenceRunMs = 0;
          this.emit({ type: 'speech_start', atMs: this.speechStartMs });
        }
      } else if (p < this.negativeThreshold) {
        this.runStartMs = -1;
        this.runMs = 0;
      }
      // Between the two thresholds: the run neither grows nor breaks.
      return;
    }
    if (p >= this.threshold) {
      this.silenceStartMs = -1;
      this.silenceRunMs = 0;
    } else if (p < this.negativeThreshold) {
      if (this.silenceStartMs < 0) this.silenceStartMs = startMs;
      this.silenceRunMs += durationMs;
      if (this.silenceRunMs >= this.silenceMs) {
        const atMs = this.silenceStartMs;
        this.speaking = false;
        this.runStartMs = -1;
        this.runMs = 0;
        this.emit({ type: 'speech_end', atMs, durationMs: atMs - this.speechStartMs });
      }
    }
  }

  /** Back to "not speaking" without an event (the caller decided the segment is over). */
  reset(): void {
    this.speaking = false;
    this.runStartMs = -1;
    this.runMs = 0;
    this.silenceStartMs = -1;
    this.silenceRunMs = 0;
  }

  private emit(e: VadEvent): void {
    for (const l of this.listeners) l(e);
  }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
