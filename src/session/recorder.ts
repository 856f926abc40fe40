/**
 * The call recording: stereo WAV, 8 kHz PCM16, left = caller, right = agent (API.md, recording).
 *
 * Both channels sit on one timeline, the call's media clock (ms since the stream started):
 * caller frames at their transport timestamp, agent frames at the time playback estimates the
 * caller starts hearing them. Gaps are silence. Agent audio is sent ~PLAYBACK_LEAD_MS ahead of
 * play-out, so it waits in a small ring until the caller's timeline reaches it; a barge-in
 * `clear` erases what was scheduled but never played, so the file holds what the caller heard.
 *
 * The caller channel drives writing (Twilio sends a frame every 20 ms, speech or not); if it
 * stalls, agent audio pushes the timeline on once the ring is full. Crash safety is the
 * writer's: the header is kept current, and `repairWav` fixes the rest at the next start.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Resampler, WavFileWriter, ulawDecode } from '../media/index.js';
import type { AudioFormat } from '../transport/types.js';

/** The recording's rate: the telephone rate, whatever the transport (API.md). */
export const RECORDING_SAMPLE_RATE = 8000;
const SAMPLES_PER_MS = RECORDING_SAMPLE_RATE / 1000;
/**
 * 1 s of timeline held in memory per call (32 KiB for both channels): several times the
 * playback lead (120 ms) plus the caller's network delay, and small enough that 1,000
 * concurrent calls hold 32 MiB for it (bench/media-ingest.ts measures the whole per-call cost).
 */
const RING_SAMPLES = RECORDING_SAMPLE_RATE;
/** Interleave and write at most 200 ms per write call (6.4 KiB scratch). */
const WRITE_BLOCK_SAMPLES = 1600;

export function recordingPath(dataDir: string, callId: string): string {
  return path.join(dataDir, 'recordings', `${callId}.wav`);
}

export class CallRecorder {
  private readonly writer: WavFileWriter;
  private readonly left = new Int16Array(RING_SAMPLES);
  private readonly right = new Int16Array(RING_SAMPLES);
  private readonly block = new Int16Array(WRITE_BLOCK_SAMPLES * 2);
  /** Decoded input scratch (grown on demand; frames are 160–960 samples). */
  private scratch = new Int16Array(960);
  private readonly callerResampler: Resampler | null;
  private readonly agentResampler: Resampler | null;
  /** Samples written to the file: the ring holds [written, written + RING_SAMPLES). */
  private written = 0;
  private callerEnd = 0;
  private agentEnd = 0;
  private closed = false;

  constructor(
    readonly file: string,
    private readonly callerFormat: AudioFormat,
    private readonly agentFormat: AudioFormat,
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.writer = new WavFileWriter(file, RECORDING_SAMPLE_RATE, 2);
    this.callerResampler = resamplerFor(callerFormat);
    this.agentResampler = resamplerFor(agentFormat);
  }

  /** Seconds of audio in the file so far. */
  get durationMs(): number {
    return this.written / SAMPLES_PER_MS;
  }

  /** One caller frame at `atMs` on the media timeline. */
  caller(payload: Buffer, atMs: number): void {
    if (this.closed) return;
    const pcm = this.decode(payload, this.callerFormat, this.callerResampler);
    const end = this.place(this.left, pcm, Math.round(atMs * SAMPLES_PER_MS));
    if (end > this.callerEnd) this.callerEnd = end;
    this.flushTo(this.callerEnd);
  }

  /** One agent frame that starts playing at `atMs` on the media timeline. */
  agent(payload: Buffer, atMs: number): void {
    if (this.closed) return;
    const pcm = this.decode(payload, this.agentFormat, this.agentResampler);
    const end = this.place(this.right, pcm, Math.round(atMs * SAMPLES_PER_MS));
    if (end > this.agentEnd) this.agentEnd = end;
  }

  /** A barge-in at `atMs`: agent audio scheduled from then on was never heard. */
  cleared(atMs: number): void {
    if (this.closed) return;
    const from = Math.max(this.written, Math.round(atMs * SAMPLES_PER_MS));
    for (let p = from; p < this.agentEnd; ) {
      const idx = p % RING_SAMPLES;
      const n = Math.min(this.agentEnd - p, RING_SAMPLES - idx);
      this.right.fill(0, idx, idx + n);
      p += n;
    }
    if (this.agentEnd > from) this.agentEnd = from;
  }

  /** Writes everything heard up to `endMs` and closes the file. Idempotent. */
  close(endMs: number): void {
    if (this.closed) return;
    this.closed = true;
    const heardAgentEnd = Math.min(this.agentEnd, Math.round(endMs * SAMPLES_PER_MS));
    this.flushTo(Math.max(this.callerEnd, heardAgentEnd));
    this.writer.close();
  }

  /** Copies `pcm` into `ring` from absolute sample `start`; returns the end position. */
  private place(ring: Int16Array, pcm: Int16Array, start: number): number {
    let from = 0;
    // Already written (a late or duplicate frame): that part is lost, the rest still counts.
    if (start < this.written) from = this.written - start;
    const end = start + pcm.length;
    // Beyond the ring: the other channel stalled; write it out as silence to make room.
    if (end > this.written + RING_SAMPLES) this.flushTo(end - RING_SAMPLES);
    // At most two contiguous runs (the ring wraps once): typed-array copies, no per-sample modulo.
    let src = from;
    while (src < pcm.length) {
      const idx = (start + src) % RING_SAMPLES;
      const n = Math.min(pcm.length - src, RING_SAMPLES - idx);
      ring.set(pcm.subarray(src, src + n), idx);
      src += n;
    }
    return end;
  }

  private flushTo(target: number): void {
    const { left, right, block } = this;
    while (this.written < target) {
      const idx = this.written % RING_SAMPLES;
      // One contiguous run of the ring, at most one write block.
      const n = Math.min(target - this.written, WRITE_BLOCK_SAMPLES, RING_SAMPLES - idx);
      for (let i = 0, j = idx; i < n; i++, j++) {
        block[2 * i] = left[j];
        block[2 * i + 1] = right[j];
      }
      // Zero behind us so the slots start silent when the ring comes round again.
      left.fill(0, idx, idx + n);
      right.fill(0, idx, idx + n);
      this.writer.write(n * 2 === block.length ? block : block.subarray(0, n * 2));
      this.written += n;
    }
  }

  private decode(payload: Buffer, format: AudioFormat, resampler: Resampler | null): Int16Array {
    if (format.encoding === 'mulaw') {
      if (this.scratch.length < payload.length) this.scratch = new Int16Array(payload.length);
      const pcm = ulawDecode(payload, this.scratch);
      return resampler ? resampler.process(pcm) : pcm;
    }
    const samples = payload.length >> 1;
    // Copy into an aligned Int16Array: the payload's byteOffset may be odd.
    if (this.scratch.length < samples) this.scratch = new Int16Array(samples);
    const pcm = this.scratch.subarray(0, samples);
    for (let i = 0; i < samples; i++) pcm[i] = payload.readInt16LE(2 * i);
    return resampler ? resampler.process(pcm) : pcm;
  }
}

function resamplerFor(format: AudioFormat): Resampler | null {
  return format.sampleRate === RECORDING_SAMPLE_RATE ? null : new Resampler(format.sampleRate, RECORDING_SAMPLE_RATE);
}
