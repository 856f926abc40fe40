/**
 * Which caller frames may wait before they go to the speech provider (the realtime model's
 * `input_audio_buffer.append`, Deepgram's live socket), to share one message with the next.
 *
 * Every message is a socket write, and at one per 20 ms frame they were the largest single cost
 * of a call's CPU (docs/performance.md). Batching every frame would delay what the provider
 * decides on: the onset of speech and the silence that ends the caller's turn. Neither is at
 * stake for a frame of silence while the caller has no turn open: there is nothing to end, and
 * speech, when it comes, takes whatever waits in front of it along, in order. The engines own
 * the "turn open" half (the realtime provider's speech events, the pipeline's VAD and STT);
 * this gate is the "silent" half: the energy gate the VAD uses, run on every frame so its noise
 * floor follows the line. Speech too quiet for the gate is at worst 80 ms late (five frames
 * per message at most).
 */
import { EnergyGate } from '../vad/index.js';
import { pcm16FromBytes, ulawDecode } from '../media/index.js';
import { bytesPerMs, type AudioFormat } from '../transport/types.js';

export class CallerSilence {
  private readonly gate = new EnergyGate();
  private readonly bytesPerMs: number;
  private scratch = new Int16Array(160);

  constructor(private readonly format: AudioFormat) {
    this.bytesPerMs = bytesPerMs(format);
  }

  /** True when `frame` (the caller's format) is silence by the energy gate. */
  frame(frame: Buffer): boolean {
    let pcm: Int16Array;
    if (this.format.encoding === 'mulaw') {
      if (this.scratch.length < frame.length) this.scratch = new Int16Array(frame.length);
      pcm = ulawDecode(frame, this.scratch);
    } else {
      pcm = pcm16FromBytes(frame);
    }
    return this.pcm(pcm, frame.length / this.bytesPerMs);
  }

  /** The same for a frame already decoded to PCM16 (the pipeline decodes for its VAD anyway). */
  pcm(pcm: Int16Array, durationMs: number): boolean {
    return !this.gate.frame(pcm, durationMs);
  }
}
