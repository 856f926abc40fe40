/**
 * The page's AudioWorklet module run in Node (a vm with the worklet globals stubbed): the
 * capture side turns 48 kHz (and 44.1 kHz) microphone audio into 20 ms PCM16 frames at 16 kHz
 * with a real low-pass (speech passes at level, content above 8 kHz does not fold back), and
 * the player holds a pre-roll, plays, and drops everything on `clear`.
 */
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';

type Msg = Record<string, unknown>;
interface Proc {
  port: { postMessage(m: Msg): void; onmessage: ((ev: { data: Msg }) => void) | null };
  process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean;
}

function loadWorklet(sampleRate: number) {
  const processors = new Map<string, new () => Proc>();
  const posted: Msg[] = [];
  const sandbox = {
    sampleRate,
    currentFrame: 0,
    AudioWorkletProcessor: class {
      port = { postMessage: (m: Msg) => posted.push(m), onmessage: null };
    },
    registerProcessor: (name: string, ctor: new () => Proc) => processors.set(name, ctor),
    Math,
    Float32Array,
    Int16Array,
  };
  vm.runInNewContext(readFileSync(new URL('../../src/web/call/audio-worklet.js', import.meta.url), 'utf8'), sandbox);
  return { processors, posted, sandbox };
}

/** Runs `seconds` of a sine at `hz` (amplitude 0.5) through the capture processor; returns the 16 kHz samples. */
function capture(rate: number, hz: number, seconds: number): { samples: Int16Array; frames: number[] } {
  const { processors, posted } = loadWorklet(rate);
  const p = new (processors.get('voxgate-capture')!)();
  const total = Math.round(rate * seconds);
  for (let start = 0; start < total; start += 128) {
    const block = new Float32Array(128);
    for (let i = 0; i < 128; i++) block[i] = 0.5 * Math.sin((2 * Math.PI * hz * (start + i)) / rate);
    p.process([[block]], [[new Float32Array(128)]]);
  }
  const frames = posted.map((m) => (m['pcm'] as ArrayBuffer).byteLength);
  const all = posted.flatMap((m) => Array.from(new Int16Array(m['pcm'] as ArrayBuffer)));
  return { samples: Int16Array.from(all), frames };
}

/** RMS of the steady part (skips the filter's start-up). */
function rms(s: Int16Array): number {
  const part = s.subarray(1600);
  let sum = 0;
  for (const v of part) sum += v * v;
  return Math.sqrt(sum / part.length) / 32768;
}

describe('capture worklet: resampling to 16 kHz', () => {
  it.each([48000, 44100])('posts 640-byte frames, 50 a second, from %i Hz', (rate) => {
    const { frames, samples } = capture(rate, 440, 1);
    expect(new Set(frames)).toEqual(new Set([640]));
    expect(frames.length).toBeGreaterThanOrEqual(48);
    expect(frames.length).toBeLessThanOrEqual(50);
    expect(samples.length).toBe(frames.length * 320);
  });

  it.each([48000, 44100])('passes speech-band tones at level from %i Hz', (rate) => {
    for (const hz of [300, 1000, 3000, 6000]) {
      const level = rms(capture(rate, hz, 0.5).samples);
      expect(level, `${hz} Hz`).toBeGreaterThan(0.5 / Math.SQRT2 - 0.02);
      expect(level, `${hz} Hz`).toBeLessThan(0.5 / Math.SQRT2 + 0.02);
    }
  });

  it.each([48000, 44100])('keeps content above 8 kHz from aliasing into the speech band (%i Hz)', (rate) => {
    // Naive decimation would fold 12 kHz to 4 kHz and 15 kHz to 1 kHz at full level.
    for (const hz of [9000, 12000, 15000]) {
      const level = rms(capture(rate, hz, 0.5).samples);
      expect(20 * Math.log10(level / (0.5 / Math.SQRT2)), `${hz} Hz`).toBeLessThan(-60);
    }
  });
});

describe('player worklet: jitter buffer', () => {
  function player() {
    const { processors, posted, sandbox } = loadWorklet(48000);
    const p = new (processors.get('voxgate-player')!)();
    const out = () => {
      const buf = new Float32Array(128);
      p.process([], [[buf]]);
      sandbox.currentFrame += 128;
      return buf;
    };
    const send = (ms: number) => {
      const pcm = new Int16Array(ms * 16).fill(8000);
      p.port.onmessage!({ data: { type: 'audio', pcm: pcm.buffer } });
    };
    const energy = (b: Float32Array) => b.reduce((a, v) => a + Math.abs(v), 0);
    return { p, posted, out, send, energy };
  }

  it('waits for the pre-roll, then plays, and reports playing/idle', () => {
    const { out, send, energy, posted } = player();
    send(40); // half the 80 ms pre-roll
    expect(energy(out())).toBe(0);
    send(60);
    let played = 0;
    for (let i = 0; i < 60; i++) played += energy(out()) > 0 ? 1 : 0;
    expect(played).toBeGreaterThan(30); // ~100 ms = 37 blocks of 128 at 48 kHz
    expect(posted.map((m) => m['type'])).toEqual(['playing', 'idle']);
  });

  it('starts a short last chunk once audio stops arriving, without a full pre-roll', () => {
    const { out, send, energy } = player();
    send(20);
    let played = false;
    for (let i = 0; i < 60 && !played; i++) played = energy(out()) > 0;
    expect(played).toBe(true);
  });

  it('drops everything queued at once on clear', () => {
    const { p, out, send, energy } = player();
    send(1000);
    expect(energy(out())).toBeGreaterThan(0);
    p.port.onmessage!({ data: { type: 'clear' } });
    for (let i = 0; i < 20; i++) expect(energy(out())).toBe(0);
  });
});
