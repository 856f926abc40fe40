/**
 * A cheap RMS gate with an adaptive noise floor, in front of the model: frames clearly below
 * the gate cannot be speech, so the detector skips the model for them and silence costs one
 * sum of squares per frame. The gate only saves CPU; deciding what is speech is the model's job,
 * so it errs on the side of opening.
 */
import { rmsDbfs } from '../media/index.js';

export interface EnergyGateOptions {
  /** Frames quieter than this never open the gate. -55 dBFS is below quiet telephone speech (~-40). */
  minDbfs?: number;
  /** How far above the noise floor a frame must be to open the gate. */
  marginDb?: number;
  /** The gate stays open this long after the last loud frame, so word endings reach the model. */
  hangoverMs?: number;
}

/**
 * The floor follows quieter frames at once and louder ones slowly (2 dB per second), so it sits
 * on the background noise and speech (which dips between syllables) does not drag it up.
 */
const FLOOR_RISE_DB_PER_MS = 2 / 1000;
/** Start assuming a quiet line; the floor settles on the real one within the first pause. */
const INITIAL_FLOOR_DBFS = -70;
/** Never let a noisy line demand more than -40 + margin dBFS of speech. */
const MAX_FLOOR_DBFS = -40;
const DEFAULT_MIN_DBFS = -55;
/** 6 dB: a frame at twice the noise amplitude. Speech onsets clear this easily. */
const DEFAULT_MARGIN_DB = 6;
/** 200 ms covers a trailing fricative or a short intra-word dip. */
const DEFAULT_HANGOVER_MS = 200;

export class EnergyGate {
  readonly minDbfs: number;
  readonly marginDb: number;
  readonly hangoverMs: number;
  /** Current noise floor estimate, dBFS. */
  floorDbfs = INITIAL_FLOOR_DBFS;
  /** Level of the last frame, dBFS. */
  levelDbfs = -120;
  private hangLeftMs = 0;

  constructor(o: EnergyGateOptions = {}) {
    this.minDbfs = o.minDbfs ?? DEFAULT_MIN_DBFS;
    this.marginDb = o.marginDb ?? DEFAULT_MARGIN_DB;
    this.hangoverMs = o.hangoverMs ?? DEFAULT_HANGOVER_MS;
  }

  /** Level the frame must reach to open the gate. */
  get openDbfs(): number {
    return Math.max(this.minDbfs, this.floorDbfs + this.marginDb);
  }

  /** Measures one frame of `durationMs`; true if it may contain speech (or is in the hangover). */
  frame(pcm: Int16Array, durationMs: number): boolean {
    const level = rmsDbfs(pcm);
    this.levelDbfs = level;
    const loud = level >= this.openDbfs;
    if (level < this.floorDbfs) this.floorDbfs = level < INITIAL_FLOOR_DBFS - 30 ? INITIAL_FLOOR_DBFS - 30 : level;
    else this.floorDbfs = Math.min(MAX_FLOOR_DBFS, this.floorDbfs + Math.min(level - this.floorDbfs, FLOOR_RISE_DB_PER_MS * durationMs));
    if (loud) {
      this.hangLeftMs = this.hangoverMs;
      return true;
    }
    if (this.hangLeftMs > 0) {
      this.hangLeftMs -= durationMs;
      return true;
    }
    return false;
  }

  reset(): void {
    this.floorDbfs = INITIAL_FLOOR_DBFS;
    this.hangLeftMs = 0;
  }
}
