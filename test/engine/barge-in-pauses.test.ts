/**
 * The barge-in rule across the VAD's short pauses (src/engine/barge-in.ts, mergeGapMs): the VAD
 * reports a pause after 100 ms so finished turns end early, but a pause shorter than the agent's
 * silenceMs keeps one speech going for the interruption rule, as when the VAD waited silenceMs.
 * Pure: made-up windows on the VAD clock.
 */
import { describe, expect, it } from 'vitest';
import { BargeInDetector } from '../../src/engine/barge-in.js';

/** Voiced 64 ms windows ending at `from + 64k` up to `to`; the first that interrupts, or null. */
function windows(det: BargeInDetector, from: number, to: number): number | null {
  for (let end = from + 64; end <= to; end += 64) if (det.check(end, 0.9, true)) return end;
  return null;
}

describe('barge-in across short pauses', () => {
  it('"wait… stop" with a 130 ms pause is one speech: words interrupt on the first window after it', () => {
    const det = new BargeInDetector(150, true, 0.5, 500);
    det.interim('wait');
    det.speechStart(0);
    expect(windows(det, 0, 128)).toBeNull(); // 128 ms < 150
    det.speechEnd(128);
    expect(det.check(192, 0.1, true)).toBe(false); // paused: silent windows never count
    det.speechStart(258); // 130 ms later
    expect(windows(det, 258, 400)).toBe(322); // 322 − 0 ≥ 150
  });

  it('after a pause longer than silenceMs, a new speech starts from zero', () => {
    const det = new BargeInDetector(150, true, 0.5, 500);
    det.interim('wait');
    det.speechStart(0);
    expect(windows(det, 0, 128)).toBeNull();
    det.speechEnd(128);
    det.speechStart(700);
    expect(windows(det, 700, 828)).toBeNull();
    expect(windows(det, 828, 900)).toBe(892);
  });

  it('two "uh huh"s 150 ms apart stay a backchannel: no interruption before MAX_BACKCHANNEL_MS', () => {
    const det = new BargeInDetector(150, true, 0.5, 500);
    det.interim('uh huh uh huh');
    det.speechStart(0);
    expect(windows(det, 0, 320)).toBeNull();
    det.speechEnd(320);
    det.speechStart(470);
    expect(windows(det, 470, 790)).toBeNull();
  });
});
