/**
 * Decides when caller speech interrupts the agent, and tells a backchannel from a turn.
 *
 * Measured with the real Silero VAD (defaults: threshold 0.5, 100 ms min speech, 64 ms windows)
 * on the 8 kHz fixtures, onset = where the clip starts, three alignments each:
 *   - `speech_start` is *fired* 203–437 ms after the true onset (hello 263–297, question
 *     220–323, long 403–437, uh-huh 203–297); its `atMs` (the VAD's onset estimate) lags the
 *     true onset by 84–276 ms, and the event comes ~130 ms after `atMs` (two windows).
 *   - "uh huh" (329 ms clip) is confirmed as 256–384 ms of speech; the 150 ms noise burst as none.
 *   - `speech_end` fires after the VAD's silence (then `silenceMs`, 500; now a 100 ms pause,
 *     turn-taking.ts): speech time must be measured while windows are still voiced, or the
 *     trailing silence of an "uh-huh" counts as more speech and interrupts (the bug the first
 *     version had). Pauses shorter than `silenceMs` keep one speech going (`mergeGapMs`).
 *
 * So time alone cannot separate a 300 ms "uh-huh" from a 300 ms "wait—": words can.
 * The rule (all durations are VAD-confirmed speech from its onset estimate, on the VAD clock,
 * counted only while windows are still voiced):
 *   1. The STT's interim words for this speech include one that is not a backchannel → interrupt
 *      once `minInterruptionMs` (default 150) of speech is confirmed. Words are the evidence
 *      here, so the wait only has to outlast a misjudged window; 150 ms is the smallest value
 *      that still needs the window after `speech_start` (which fires ~130 ms after `atMs`).
 *   2. No words yet (or an STT without interims, e.g. openai-compatible) → interrupt at
 *      WORDLESS_INTERRUPTION_MS (450 ms, or minInterruptionMs if larger): above the longest
 *      backchannel the VAD confirmed on the fixtures (384 ms) by a 64 ms window. At 350 ms,
 *      "uh huh" interrupted in 3 of 4 alignments.
 *   3. Only backchannel words ("uh-huh", "yeah", "okay"…) → no interruption until
 *      MAX_BACKCHANNEL_MS (1 s): a run of "yeah yeah okay" that long is a turn.
 * The clock: `check` runs once per *decided* VAD window (VoiceActivityDetector.onWindow), with
 * that window's end and probability. It used to run per pushed frame with `vad.nowMs` and the
 * last decided probability; Silero decides in a worker thread, so the two drifted apart by the
 * inference lag, pushed silence counted as voiced speech, and "uh huh" interrupted one run in two
 * (issue 14; test/engine/pipeline-backchannel-repeat.test.ts replays that lag on purpose).
 * A wrong call is repaired afterwards: an interruption whose final text is empty or only a
 * backchannel resumes the agent from where it was cut (false-interruption resume, pipeline.ts).
 *
 * Reaction, true onset → interrupt decision, measured on the audio clock with Silero on
 * question/long/hello at 4 window alignments (test/engine/pipeline-barge-in-vad.test.ts):
 * with words 240–457 ms (median ~340), without words 540–817 ms; "uh huh" and the noise burst
 * never interrupt. The ≤ 250 ms p95 target is below what the VAD itself allows with its
 * defaults (confirmation alone takes 203–437 ms): meeting it needs a faster VAD set-up
 * (threshold 0.35 gave 180–397 ms with words; 512-sample windows did not help), not a
 * smaller minInterruptionMs.
 */

/** Default VAD-confirmed speech needed to interrupt when the STT has heard a real word. */
export const DEFAULT_MIN_INTERRUPTION_MS = 150;
/** Speech needed to interrupt when no words are known yet (see rule 2 above). */
export const WORDLESS_INTERRUPTION_MS = 450;
/** Longest run of backchannel-only words that does not interrupt (rule 3). */
export const MAX_BACKCHANNEL_MS = 1000;

/** Words a listener says to keep the speaker going (English; lower case, no punctuation). */
const BACKCHANNEL_WORDS = new Set([
  'uh', 'huh', 'uhhuh', 'uh-huh', 'mm', 'mmm', 'hmm', 'mhm', 'mmhmm', 'mm-hmm', 'hm', 'um', 'ah', 'oh',
  'yeah', 'yes', 'yep', 'yup', 'ok', 'okay', 'right', 'sure', 'alright', 'i see', 'got it', 'cool',
]);

/** True when `text` has words and every one of them is a backchannel. */
export function isBackchannel(text: string): boolean {
  const words = text.toLowerCase().replace(/[^\p{L}\s'-]/gu, ' ').split(/\s+/).filter(Boolean);
  if (words.length === 0 || words.length > 4) return false;
  return words.every((w) => BACKCHANNEL_WORDS.has(w) || BACKCHANNEL_WORDS.has(w.replace(/-/g, '')));
}

export class BargeInDetector {
  private onsetMs = -1;
  private lastVoicedMs = -1;
  /** The VAD reported a pause at this time (VAD clock); -1 while speech goes on. */
  private pausedAtMs = -1;
  private fired = false;
  /** Interim transcript of the STT's current segment ('' until one arrives). */
  private words = '';

  constructor(
    private readonly minInterruptionMs: number,
    private readonly interruptible: boolean,
    /** Probability at or above which a VAD window counts as voiced (the VAD's threshold). */
    private readonly voicedThreshold = 0.5,
    /**
     * Pauses shorter than this keep one speech going (the agent's `silenceMs`). The VAD reports
     * pauses of only 100 ms (turn-taking.ts) so that finished turns end early; the barge-in
     * rule still sees "wait… [150 ms] stop" as one speech, as it did when the VAD waited silenceMs.
     */
    private readonly mergeGapMs = 0,
  ) {}

  get enabled(): boolean {
    return this.interruptible;
  }

  /** VAD speech_start (onset time on the VAD clock). */
  speechStart(atMs: number): void {
    const resumed = this.onsetMs >= 0 && this.pausedAtMs >= 0 && atMs - this.pausedAtMs < this.mergeGapMs;
    this.pausedAtMs = -1;
    if (resumed) return; // the same speech goes on: keep its onset (and whether it fired)
    this.onsetMs = atMs;
    this.lastVoicedMs = atMs;
    this.fired = false;
  }

  /** VAD speech_end (a pause); `atMs` is where the speech ended, on the VAD clock. */
  speechEnd(atMs: number): void {
    if (this.mergeGapMs > 0) this.pausedAtMs = atMs;
    else this.onsetMs = -1;
  }

  /** The STT's interim text for the segment being spoken (Deepgram interims are cumulative). */
  interim(text: string): void {
    this.words = text;
  }

  /** The STT closed a segment: the next interim starts new words. */
  segmentFinal(): void {
    this.words = '';
  }

  /**
   * Per decided VAD window, in order: true once when the ongoing speech should interrupt the
   * agent. `vadNowMs` is the window's end on the VAD clock, `probability` that window's.
   */
  check(vadNowMs: number, probability: number, agentActive: boolean): boolean {
    if (!this.interruptible || this.fired || this.onsetMs < 0 || this.pausedAtMs >= 0 || !agentActive) return false;
    // Only while the caller is still voiced: speech_end comes silenceMs late.
    if (probability < this.voicedThreshold) return false;
    this.lastVoicedMs = vadNowMs;
    const spokenMs = this.lastVoicedMs - this.onsetMs;
    if (spokenMs < this.minInterruptionMs) return false;
    const words = this.words.trim();
    let needMs: number;
    if (words === '') needMs = Math.max(this.minInterruptionMs, WORDLESS_INTERRUPTION_MS);
    else if (isBackchannel(words)) needMs = Math.max(MAX_BACKCHANNEL_MS, this.minInterruptionMs);
    else needMs = this.minInterruptionMs;
    if (spokenMs < needMs) return false;
    this.fired = true;
    return true;
  }
}
