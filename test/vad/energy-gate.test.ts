import { describe, expect, it } from 'vitest';
import { EnergyGate } from '../../src/vad/index.js';

function noise(n: number, amp: number, seed = 1): Int16Array {
  let s = seed;
  return Int16Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return Math.round(((s / 0x7fffffff) * 2 - 1) * amp);
  });
}

function tone(n: number, amp: number): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin(i * 0.3)));
}

describe('energy gate', () => {
  it('stays closed on digital silence and on a quiet line', () => {
    const g = new EnergyGate();
    for (let i = 0; i < 50; i++) expect(g.frame(new Int16Array(160), 20)).toBe(false);
    for (let i = 0; i < 50; i++) expect(g.frame(noise(160, 30, i + 1), 20)).toBe(false); // ≈ -65 dBFS
  });

  it('opens on speech-level audio and holds open for the hangover', () => {
    const g = new EnergyGate({ hangoverMs: 100 });
    for (let i = 0; i < 10; i++) g.frame(new Int16Array(160), 20);
    expect(g.frame(tone(160, 3000), 20)).toBe(true); // ≈ -24 dBFS
    const after = Array.from({ length: 8 }, () => g.frame(new Int16Array(160), 20));
    expect(after).toEqual([true, true, true, true, true, false, false, false]);
  });

  it('raises its floor slowly on steady background noise, so the noise stops opening it', () => {
    const g = new EnergyGate();
    const loudNoise = 600; // ≈ -39 dBFS: above the absolute minimum
    const opened: boolean[] = [];
    for (let i = 0; i < 1500; i++) opened.push(g.frame(noise(160, loudNoise, i + 7), 20)); // 30 s
    expect(opened.slice(0, 10).every(Boolean)).toBe(true);
    expect(opened.slice(-100).some(Boolean)).toBe(false);
    // Speech well above that noise still opens it.
    expect(g.frame(tone(160, 8000), 20)).toBe(true);
  });
});
