import { describe, expect, it } from 'vitest';
import { SpeechHysteresis, type VadEvent } from '../../src/vad/index.js';

function run(probs: number[], opts: ConstructorParameters<typeof SpeechHysteresis>[0], windowMs = 64): VadEvent[] {
  const h = new SpeechHysteresis(opts);
  const events: VadEvent[] = [];
  h.onEvent((e) => events.push(e));
  probs.forEach((p, i) => h.feed(p, i * windowMs, windowMs));
  return events;
}

describe('speech hysteresis', () => {
  it('starts after minSpeechMs of speech, dated at the first speech window', () => {
    const events = run([0, 0, 0.9, 0.9, 0.9, 0], { minSpeechMs: 100, silenceMs: 1000 });
    expect(events).toEqual([{ type: 'speech_start', atMs: 128 }]);
  });

  it('ignores a single window of speech shorter than minSpeechMs', () => {
    expect(run([0, 0.9, 0, 0, 0.9, 0.1], { minSpeechMs: 100 })).toEqual([]);
  });

  it('ends after silenceMs below threshold - 0.15, dated where the silence began', () => {
    const probs = [0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
    const events = run(probs, { minSpeechMs: 100, silenceMs: 300 });
    expect(events).toEqual([
      { type: 'speech_start', atMs: 0 },
      { type: 'speech_end', atMs: 192, durationMs: 192 },
    ]);
  });

  it('does not end on probabilities between the two thresholds, and a speech window resets the silence', () => {
    // 0.4 is below 0.5 but above 0.35: not silence. The 0.9 in the middle restarts the count.
    const probs = [0.9, 0.9, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1];
    const events = run(probs, { minSpeechMs: 100, silenceMs: 192 });
    expect(events.map((e) => e.type)).toEqual(['speech_start', 'speech_end']);
    expect(events[1]).toEqual({ type: 'speech_end', atMs: 11 * 64, durationMs: 11 * 64 });
  });

  it('uses the configured threshold', () => {
    expect(run([0.6, 0.6, 0.6], { threshold: 0.7, minSpeechMs: 64 })).toEqual([]);
    expect(run([0.6, 0.6, 0.6], { threshold: 0.55, minSpeechMs: 64 })).toHaveLength(1);
  });

  it('forgets a started segment on reset without an event', () => {
    const h = new SpeechHysteresis({ minSpeechMs: 64, silenceMs: 64 });
    const events: VadEvent[] = [];
    h.onEvent((e) => events.push(e));
    h.feed(0.9, 0, 64);
    expect(h.speaking).toBe(true);
    h.reset();
    expect(h.speaking).toBe(false);
    h.feed(0.0, 64, 64);
    expect(events).toEqual([{ type: 'speech_start', atMs: 0 }]);
  });
});
