/**
 * Audio helpers for the fake realtime server and its tests: deterministic tones in a session
 * format, and the energy of received audio for its speech detection.
 */
import { pcm16FromBytes, pcm16ToBuffer, rmsDbfs, ulawDecode, ulawEncode } from '../../src/media/index.js';

export type FakeAudioFormat = 'pcmu' | 'pcm24k';

export function sampleRateOf(format: FakeAudioFormat): number {
  return format === 'pcmu' ? 8000 : 24000;
}

export function bytesPerMs(format: FakeAudioFormat): number {
  return format === 'pcmu' ? 8 : 48;
}

/** `ms` of a sine tone; `phaseStart` (in samples) keeps consecutive chunks continuous. */
export function toneSamples(ms: number, rate: number, freqHz = 440, amplitude = 8000, phaseStart = 0): Int16Array {
  const n = Math.round((ms * rate) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * (i + phaseStart)) / rate));
  return out;
}

/** A tone encoded in the format: μ-law bytes or PCM16 LE bytes. */
export function toneBytes(format: FakeAudioFormat, ms: number, freqHz = 440, amplitude = 8000, phaseStart = 0): Buffer {
  const pcm = toneSamples(ms, sampleRateOf(format), freqHz, amplitude, phaseStart);
  return format === 'pcmu' ? ulawEncode(pcm) : Buffer.from(pcm16ToBuffer(pcm));
}

export function silenceBytes(format: FakeAudioFormat, ms: number): Buffer {
  const n = Math.round(ms * bytesPerMs(format));
  return format === 'pcmu' ? Buffer.alloc(n, 0xff) : Buffer.alloc(n, 0);
}

/** Level of received audio in dBFS and its duration in ms. */
export function measure(format: FakeAudioFormat, bytes: Buffer): { dbfs: number; ms: number } {
  const pcm = format === 'pcmu' ? ulawDecode(bytes) : pcm16FromBytes(Buffer.from(bytes));
  return { dbfs: rmsDbfs(pcm), ms: bytes.length / bytesPerMs(format) };
}
