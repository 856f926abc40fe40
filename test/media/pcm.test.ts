import { describe, expect, it } from 'vitest';
import { interleave, pcm16FromBytes, pcm16ToBuffer, rmsDbfs, SILENCE_DBFS } from '../../src/media/index.js';

describe('PCM16 helpers', () => {
  it('views little-endian bytes without copying when the offset is even', () => {
    const buf = Buffer.from([0x01, 0x00, 0xff, 0xff, 0x00, 0x80]);
    const pcm = pcm16FromBytes(buf);
    expect(Array.from(pcm)).toEqual([1, -1, -32768]);
    buf[0] = 2;
    expect(pcm[0]).toBe(2); // a view: the change shows through
  });

  it('copies when the byte offset is odd, with the same values', () => {
    const backing = Buffer.from([0x00, 0x01, 0x00, 0xff, 0x7f]);
    const odd = backing.subarray(1);
    const pcm = pcm16FromBytes(odd);
    expect(Array.from(pcm)).toEqual([1, 32767]);
    backing[1] = 5;
    expect(pcm[0]).toBe(1); // a copy
  });

  it('turns samples into a byte view and back', () => {
    const pcm = Int16Array.from([0, 1000, -1000, 32767, -32768]);
    const buf = pcm16ToBuffer(pcm);
    expect(buf.length).toBe(10);
    expect(buf.readInt16LE(6)).toBe(32767);
    expect(Array.from(pcm16FromBytes(buf))).toEqual(Array.from(pcm));
  });

  it('measures a full-scale sine at -3 dBFS and silence at the floor', () => {
    const sine = Int16Array.from({ length: 8000 }, (_, i) => Math.round(32767 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
    expect(rmsDbfs(sine)).toBeCloseTo(-3.01, 1);
    expect(rmsDbfs(new Int16Array(160))).toBe(SILENCE_DBFS);
  });

  it('interleaves two tracks, padding the shorter with silence', () => {
    const out = interleave(Int16Array.from([1, 2, 3]), Int16Array.from([-1]));
    expect(Array.from(out)).toEqual([1, -1, 2, 0, 3, 0]);
    const scratch = new Int16Array(10);
    const view = interleave(Int16Array.from([7]), Int16Array.from([8]), scratch);
    expect(view.buffer).toBe(scratch.buffer);
    expect(Array.from(view)).toEqual([7, 8]);
  });
});
