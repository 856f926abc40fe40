/**
 * Voice activity detection, one detector per call. Frames go in synchronously on the audio
 * path; events come out when speech is confirmed to start or end. All times are in ms of audio
 * pushed so far (the detector's own clock), so they are exact whatever the inference delay.
 */

export type VadEvent =
  /** Speech began at `atMs` (start of the first speech window); fired once confirmed. */
  | { type: 'speech_start'; atMs: number }
  /** Speech ended at `atMs` (end of the last speech window); fired after the silence. */
  | { type: 'speech_end'; atMs: number; durationMs: number };

export type VadListener = (event: VadEvent) => void;

/**
 * One analysed window, in order, once its probability is known (after the events it caused):
 * `endMs` is the window's end on the detector's clock. Rules that measure speech must read
 * this, not `nowMs`: with inference in a worker the decided windows lag the pushed audio by a
 * varying amount, and pairing `nowMs` with a stale probability counts pushed silence as speech.
 */
export type VadWindowListener = (probability: number, endMs: number) => void;

export interface VadOptions {
  /** Speech probability (0..1) at or above which a window counts as speech. Default 0.5. */
  threshold?: number;
  /** Rate of the frames given to `push`. */
  sampleRate: 8000 | 16000;
  /** Speech needed before `speech_start` fires. Default `DEFAULT_MIN_SPEECH_MS`. */
  minSpeechMs?: number;
  /** Silence (probability below threshold − 0.15) needed before `speech_end`. Default `DEFAULT_SILENCE_MS`. */
  silenceMs?: number;
}

/** Counters for benchmarks and call notes. */
export interface VadStats {
  /** Analysis windows completed (each counts once, whichever way it was decided). */
  windows: number;
  /** Windows the model actually ran on. */
  inferences: number;
  /** Windows the energy gate decided (too quiet to be speech): no model run. */
  gated: number;
  /** Windows dropped because inference fell behind (they repeat the last probability). */
  skipped: number;
}

export interface VoiceActivityDetector {
  /** Which implementation this is: the model, or the energy fallback. */
  readonly kind: 'silero' | 'energy';
  /** One frame of PCM16 at `sampleRate` (20 ms on the audio path; any length works). Never blocks. */
  push(frame: Int16Array): void;
  onEvent(listener: VadListener): void;
  onWindow(listener: VadWindowListener): void;
  /** True between `speech_start` and `speech_end`. */
  readonly speaking: boolean;
  /** Speech probability of the last analysed window. */
  readonly probability: number;
  /** ms of audio pushed so far (the clock of the events). */
  readonly nowMs: number;
  readonly stats: VadStats;
  /** Forgets speech state and model state (e.g. after the agent's turn); the clock keeps running. */
  reset(): void;
  /** Stops analysis; pending windows are dropped and no events follow. Idempotent. */
  close(): void;
}

/** Model vs threshold hysteresis: end of speech needs the probability this far below the threshold (vad-node/Silero practice). */
export const NEGATIVE_THRESHOLD_GAP = 0.15;
export const DEFAULT_THRESHOLD = 0.5;
/**
 * Speech needed before `speech_start`: long enough that a click or a single misjudged window
 * does not start a turn, short enough to react fast. Two 64 ms model windows.
 */
export const DEFAULT_MIN_SPEECH_MS = 100;
/** Silence that ends a speech segment: normal pauses between words and clauses are shorter. */
export const DEFAULT_SILENCE_MS = 500;
