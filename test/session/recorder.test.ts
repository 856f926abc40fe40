import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallRecorder, recordingPath } from '../../src/session/index.js';
import { parseWav, ulawEncode } from '../../src/media/index.js';
import { MULAW_8K, PCM16_16K } from '../../src/transport/types.js';
import { soxi } from './call-fixtures.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'voxgate-rec-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A μ-law frame of `ms` holding one constant level (its decoded value is what we look for). */
function level(ms: number, value: number): Buffer {
  return ulawEncode(new Int16Array(ms * 8).fill(value));
}

/** Per-channel samples of a stereo PCM16 WAV. */
function channels(file: string): { left: Int16Array; right: Int16Array } {
  const buf = readFileSync(file);
  const info = parseWav(buf);
  const n = info.dataBytes / 4;
  const left = new Int16Array(n);
  const right = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    left[i] = buf.readInt16LE(info.dataOffset + 4 * i);
    right[i] = buf.readInt16LE(info.dataOffset + 4 * i + 2);
  }
  return { left, right };
}

describe('call recorder', () => {
  it('puts caller left and agent right on one timeline, with silence in the gaps', () => {
    const file = recordingPath(dir, 'call_x');
    const rec = new CallRecorder(file, MULAW_8K, MULAW_8K);
    // Caller: 0–100 ms, then a lost stretch, then 200–300 ms.
    for (let ms = 0; ms < 100; ms += 20) rec.caller(level(20, 1000), ms);
    // Agent audio scheduled ahead of the caller's timeline, at 120–160 ms.
    rec.agent(level(20, -2000), 120);
    rec.agent(level(20, -2000), 140);
    for (let ms = 200; ms < 300; ms += 20) rec.caller(level(20, 1000), ms);
    rec.close(300);
    const { left, right } = channels(file);
    expect(left.length).toBe(300 * 8);
    const at = (ch: Int16Array, ms: number) => ch[ms * 8]!;
    expect(at(left, 50)).toBeGreaterThan(900);
    expect(at(left, 150)).toBe(0);
    expect(at(left, 250)).toBeGreaterThan(900);
    expect(at(right, 50)).toBe(0);
    expect(at(right, 119)).toBe(0);
    expect(at(right, 130)).toBeLessThan(-1900);
    expect(at(right, 159)).toBeLessThan(-1900);
    expect(at(right, 161)).toBe(0);
    expect(soxi(file)).toMatchObject({ channels: 2, rate: 8000, bits: 16, samples: 2400 });
  });

  it('erases agent audio scheduled after a clear: the file holds what the caller heard', () => {
    const file = recordingPath(dir, 'call_y');
    const rec = new CallRecorder(file, MULAW_8K, MULAW_8K);
    for (let ms = 0; ms < 200; ms += 20) rec.agent(level(20, 3000), ms);
    for (let ms = 0; ms < 60; ms += 20) rec.caller(level(20, 0), ms);
    rec.cleared(100);
    for (let ms = 60; ms < 200; ms += 20) rec.caller(level(20, 0), ms);
    rec.close(200);
    const { right } = channels(file);
    expect(right[90 * 8]).toBeGreaterThan(2900);
    expect(right[100 * 8]).toBe(0);
    expect(right[150 * 8]).toBe(0);
  });

  it('keeps the caller channel going when frames arrive late or twice', () => {
    const file = recordingPath(dir, 'call_z');
    const rec = new CallRecorder(file, MULAW_8K, MULAW_8K);
    rec.caller(level(20, 500), 0);
    rec.caller(level(20, 500), 20);
    rec.caller(level(20, 500), 20); // duplicate
    rec.caller(level(20, 500), 0); // late
    rec.caller(level(20, 500), 40);
    rec.close(60);
    expect(channels(file).left.length).toBe(60 * 8);
  });

  it('does not hold more than its ring when the caller channel stalls', () => {
    const file = recordingPath(dir, 'call_s');
    const rec = new CallRecorder(file, MULAW_8K, MULAW_8K);
    for (let ms = 0; ms < 5000; ms += 20) rec.agent(level(20, 100), ms);
    expect(rec.durationMs).toBeGreaterThanOrEqual(2900);
    rec.close(5000);
    expect(soxi(file).samples).toBe(5000 * 8);
  });

  it('records browser calls at 8 kHz from 16 kHz PCM16', () => {
    const file = recordingPath(dir, 'call_w');
    const rec = new CallRecorder(file, PCM16_16K, PCM16_16K);
    const frame = Buffer.alloc(640);
    for (let i = 0; i < 320; i++) frame.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 500 * i) / 16000)), 2 * i);
    for (let ms = 0; ms < 1000; ms += 20) rec.caller(frame, ms);
    rec.close(1000);
    const info = soxi(file);
    expect(info).toMatchObject({ channels: 2, rate: 8000, samples: 8000 });
    const { left } = channels(file);
    const peak = left.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak).toBeGreaterThan(7000);
  });
});
