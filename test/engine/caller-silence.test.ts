import { describe, expect, it } from 'vitest';
import { CallerSilence } from '../../src/engine/caller-silence.js';
import { ulawEncode } from '../../src/media/index.js';
import { MULAW_8K, PCM16_16K } from '../../src/transport/types.js';

/** One 20 ms μ-law frame of a 440 Hz tone at `amplitude` (0 = digital silence). */
function ulawFrame(amplitude: number): Buffer {
  const pcm = new Int16Array(160);
  for (let i = 0; i < 160; i++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / 8000));
  return Buffer.from(ulawEncode(pcm));
}

describe('caller silence (which frames may wait for the provider)', () => {
  it('calls silence silent, speech not, and keeps a word ending loud for the gate\'s hangover', () => {
    const s = new CallerSilence(MULAW_8K);
    for (let i = 0; i < 25; i++) expect(s.frame(ulawFrame(0))).toBe(true);
    expect(s.frame(ulawFrame(3000))).toBe(false); // about -20 dBFS: speech from its first frame
    // 200 ms of hangover after the last loud frame, then silence again.
    const after = Array.from({ length: 15 }, () => s.frame(ulawFrame(0)));
    expect(after.slice(0, 10).every((x) => !x)).toBe(true);
    expect(after.slice(11).every((x) => x)).toBe(true);
  });

  it('reads PCM16 frames of web calls', () => {
    const s = new CallerSilence(PCM16_16K);
    const quiet = Buffer.alloc(640);
    const loud = Buffer.alloc(640);
    for (let i = 0; i < 320; i++) loud.writeInt16LE(Math.round(3000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), 2 * i);
    for (let i = 0; i < 20; i++) expect(s.frame(quiet)).toBe(true);
    expect(s.frame(loud)).toBe(false);
  });
});
