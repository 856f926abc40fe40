/**
 * PCM16 helpers: Buffer ↔ Int16Array without copies where the platform allows, level in dBFS,
 * and interleaving two mono tracks into stereo (the recorder's caller-left / agent-right file).
 */
import os from 'node:os';

/** All PCM16 on the wire and in WAV files is little-endian; views are only safe on LE hosts. */
const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * Little-endian PCM16 bytes → samples. A view over `buf` when it can be (LE host and even
 * byteOffset, which Int16Array requires); a copy otherwise. A trailing odd byte is ignored.
 */
export function pcm16FromBytes(buf: Buffer | Uint8Array): Int16Array {
  const n = buf.length >> 1;
  if (LITTLE_ENDIAN && (buf.byteOffset & 1) === 0) {
    return new Int16Array(buf.buffer, buf.byteOffset, n);
  }
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const v = buf[2 * i] | (buf[2 * i + 1] << 8);
    out[i] = (v << 16) >> 16;
  }
  return out;
}

/** Samples → little-endian bytes: a view (no copy) on LE hosts. */
export function pcm16ToBuffer(pcm: Int16Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const out = Buffer.allocUnsafe(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i], 2 * i);
  return out;
}

/** Floor returned for digital silence, so callers never see -Infinity. */
export const SILENCE_DBFS = -120;

/** Root mean square level relative to full scale (32768): a full-scale square wave is 0 dBFS. */
export function rmsDbfs(pcm: Int16Array, start = 0, end = pcm.length): number {
  const n = end - start;
  if (n <= 0) return SILENCE_DBFS;
  let sum = 0;
  for (let i = start; i < end; i++) sum += pcm[i] * pcm[i];
  if (sum === 0) return SILENCE_DBFS;
  const db = 10 * Math.log10(sum / n / (32768 * 32768));
  return db < SILENCE_DBFS ? SILENCE_DBFS : db;
}

/**
 * Two mono tracks → one interleaved stereo track (L R L R …). The shorter track is padded with
 * silence. With `out` (at least 2 × the longer length) nothing is allocated but a view.
 */
export function interleave(left: Int16Array, right: Int16Array, out?: Int16Array): Int16Array {
  const n = Math.max(left.length, right.length);
  let dst: Int16Array;
  if (out) {
    if (out.length < 2 * n) throw new RangeError(`interleave: out holds ${out.length} samples, need ${2 * n}`);
    dst = out.length === 2 * n ? out : out.subarray(0, 2 * n);
  } else {
    dst = new Int16Array(2 * n);
  }
  const nl = left.length;
  const nr = right.length;
  for (let i = 0; i < n; i++) {
    dst[2 * i] = i < nl ? left[i] : 0;
    dst[2 * i + 1] = i < nr ? right[i] : 0;
  }
  return dst;
}

/** Alias kept for readers who think of the recorder's job as mixing to stereo. */
export const mixToStereo = interleave;
