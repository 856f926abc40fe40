/**
 * Voice activity detection. `createVad` gives a Silero detector when the model loads and the
 * energy fallback when it cannot (logged once per process); call `loadSilero()` at start-up to
 * pay the model's load time (~100 ms) before the first call instead of during it.
 */
import type { Logger } from '../logger.js';
import { EnergyVad } from './energy-vad.js';
import { SileroVad, type SileroVadOptions } from './silero.js';
import { loadSilero } from './silero-model.js';
import type { VoiceActivityDetector } from './types.js';

export { EnergyGate } from './energy-gate.js';
export type { EnergyGateOptions } from './energy-gate.js';
export { EnergyVad } from './energy-vad.js';
export { SpeechHysteresis } from './hysteresis.js';
export type { HysteresisOptions } from './hysteresis.js';
export { DEFAULT_WINDOW_SAMPLES, SileroVad } from './silero.js';
export type { SileroVadOptions, SileroWindowSamples } from './silero.js';
export { loadSilero, sileroModelPath, startSileroModel, SILERO_SAMPLE_RATE } from './silero-model.js';
export type { SileroModel, SileroStream } from './silero-model.js';
export {
  DEFAULT_MIN_SPEECH_MS,
  DEFAULT_SILENCE_MS,
  DEFAULT_THRESHOLD,
  NEGATIVE_THRESHOLD_GAP,
} from './types.js';
export type { VadEvent, VadListener, VadOptions, VadStats, VadWindowListener, VoiceActivityDetector } from './types.js';

export interface CreateVadOptions extends SileroVadOptions {
  /** Where to say (once) that the model could not load, and where inference errors go. */
  log?: Pick<Logger, 'warn' | 'error'>;
  /** Skip the model: the energy detector only. */
  energyOnly?: boolean;
  /** Another Silero v4 ONNX file instead of the one vad-node ships. */
  modelPath?: string;
}

let fallbackLogged = false;

/** A detector for one call. Never rejects: without the model it returns an `EnergyVad`. */
export async function createVad(opts: CreateVadOptions): Promise<VoiceActivityDetector> {
  if (opts.energyOnly) return new EnergyVad(opts);
  try {
    const model = await loadSilero(opts.modelPath);
    const log = opts.log;
    // Once per call: a broken model fails every window, and the audio path must not log per frame.
    let logged = false;
    const onError =
      opts.onError ??
      ((err: unknown) => {
        if (logged) return;
        logged = true;
        log?.error({ err }, 'vad: inference failed; windows count as silence');
      });
    return new SileroVad(model, { ...opts, onError });
  } catch (err) {
    if (!fallbackLogged) {
      fallbackLogged = true;
      opts.log?.warn({ err }, 'vad: Silero model could not load; using the energy detector');
    }
    return new EnergyVad(opts);
  }
}
