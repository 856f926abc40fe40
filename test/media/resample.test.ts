import { describe, expect, it } from 'vitest';
import { Resampler, resample } from '../../src/media/index.js';

const PAIRS: [number, number][] = [
  [8000, 16000],
  [16000, 8000],
  [8000, 24000],
  [24000, 8000],
  [16000, 24000],
  [24000, 16000],
];

function tone(freq: number, rate: number, n: number, amp = 10000): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate)));
}

/** RMS skipping the filter's start-up transient. */
function rms(x: Int16Array, skip: number): number {
  let s = 0;
  for (let i = skip; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / (x.length - skip));
}

/** Magnitude of one DFT bin (Goertzel-free direct sum; the buffers are short). */
function binLevel(x: Int16Array, freq: number, rate: number, skip: number): number {
  let re = 0;
  let im = 0;
  for (let i = skip; i < x.length; i++) {
    const w = (2 * Math.PI * freq * i) / rate;
    re += x[i] * Math.cos(w);
    im -= x[i] * Math.sin(w);
  }
  return (2 * Math.hypot(re, im)) / (x.length - skip);
}

function zeroCrossingsPerSecond(x: Int16Array, rate: number, skip: number): number {
  let n = 0;
  for (let i = skip + 1; i < x.length; i++) if ((x[i - 1] < 0) !== (x[i] < 0)) n++;
  return (n / (x.length - skip)) * rate;
}

describe('Resampler', () => {
  for (const [from, to] of PAIRS) {
    it(`keeps a 1 kHz sine's frequency and level within 0.5 dB, ${from} → ${to}`, () => {
      const x = tone(1000, from, from); // 1 s
      const y = resample(x, from, to);
      expect(y.length).toBe(to);
      const skipIn = from / 50;
      const skipOut = to / 50; // 20 ms: past the filter's start-up
      const gainDb = 20 * Math.log10(rms(y, skipOut) / rms(x, skipIn));
      expect(Math.abs(gainDb)).toBeLessThan(0.5);
      // Two zero crossings per cycle → 2000 per second.
      expect(zeroCrossingsPerSecond(y, to, skipOut)).toBeGreaterThan(1990);
      expect(zeroCrossingsPerSecond(y, to, skipOut)).toBeLessThan(2010);
      expect(binLevel(y, 1000, to, skipOut)).toBeGreaterThan(0.94 * 10000);
    });
  }

  it('filters a 6 kHz tone by at least 30 dB going 16 kHz → 8 kHz (no alias at 2 kHz)', () => {
    const x = tone(6000, 16000, 16000);
    const y = resample(x, 16000, 8000);
    const attenuationDb = 20 * Math.log10(rms(y, 160) / rms(x, 320));
    expect(attenuationDb).toBeLessThan(-30);
    expect(binLevel(y, 2000, 8000, 160)).toBeLessThan(10000 * 10 ** (-30 / 20));
  });

  it('filters 4.5 kHz and up going 24 kHz → 8 kHz', () => {
    for (const f of [4500, 6000, 9000]) {
      const y = resample(tone(f, 24000, 24000), 24000, 8000);
      expect(20 * Math.log10(rms(y, 160) / (10000 / Math.SQRT2))).toBeLessThan(-30);
    }
  });

  it('suppresses the image of a 1 kHz tone when upsampling 8 kHz → 16 kHz', () => {
    const y = resample(tone(1000, 8000, 8000), 8000, 16000);
    // Zero-stuffing mirrors 1 kHz to 7 kHz; the low-pass must remove it.
    expect(binLevel(y, 7000, 16000, 320)).toBeLessThan(10000 * 10 ** (-40 / 20));
  });

  for (const [from, to] of PAIRS) {
    it(`gives the same samples frame by frame as in one call, ${from} → ${to}`, () => {
      // Speech-like: two tones plus a deterministic pseudo-random component.
      let seed = 12345;
      const n = from; // 1 s
      const x = Int16Array.from({ length: n }, (_, i) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return Math.round(6000 * Math.sin(i * 0.05) + 3000 * Math.sin(i * 0.31) + ((seed >> 16) % 2000) - 1000);
      });
      const whole = resample(x, from, to);
      const r = new Resampler(from, to);
      const frame = from / 50; // 20 ms
      const joined = new Int16Array(whole.length + 64);
      let len = 0;
      const out = new Int16Array(r.maxOutputLength(frame));
      for (let i = 0; i < n; i += frame) {
        const part = r.process(x.subarray(i, i + frame), out);
        joined.set(part, len);
        len += part.length;
      }
      expect(len).toBe(whole.length);
      expect(Buffer.from(joined.buffer, 0, len * 2).equals(Buffer.from(whole.buffer))).toBe(true);
    });
  }

  it('writes 20 ms frames straight into a caller buffer sized by maxOutputLength', () => {
    for (const [from, to] of PAIRS) {
      const r = new Resampler(from, to);
      const out = new Int16Array(r.maxOutputLength(from / 50));
      expect(out.length).toBe(to / 50);
      for (let i = 0; i < 5; i++) expect(r.process(tone(1000, from, from / 50), out)).toBe(out);
    }
  });

  it('handles odd-sized chunks and reset', () => {
    const x = tone(440, 8000, 8000);
    const r = new Resampler(8000, 16000);
    const chunks: Int16Array[] = [];
    for (let i = 0; i < x.length; ) {
      const len = 1 + ((i * 7) % 333);
      chunks.push(r.process(x.subarray(i, i + len)));
      i += len;
    }
    const total = chunks.reduce((a, c) => a + c.length, 0);
    expect(total).toBe(16000);
    r.reset();
    expect(r.process(x.subarray(0, 160))).toEqual(resample(x.subarray(0, 160), 8000, 16000));
  });

  it('keeps a constant input constant and clamps at full scale', () => {
    const dc = new Int16Array(1600).fill(32767);
    const y = resample(dc, 8000, 16000);
    expect(y[y.length - 1]).toBe(32767);
    expect(Math.min(...y.subarray(100))).toBeGreaterThan(32700);
  });

  it('rejects unusable rates', () => {
    expect(() => new Resampler(0, 8000)).toThrow(RangeError);
    expect(() => new Resampler(44100, 8000)).toThrow(/ratio/);
  });
});
