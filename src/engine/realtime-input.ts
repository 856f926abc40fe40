/**
 * Which caller frames must reach the realtime provider at once, and which may wait to share an
 * `input_audio_buffer.append` with the next ones.
 *
 * Every append is a socket write, and at one per 20 ms frame they were the largest single cost
 * of a bridged call (docs/performance.md). Batching them all would delay what the provider's
 * VAD decides on: the onset of speech (barge-in) and the silence that ends the caller's turn.
 * Neither is at stake for a frame of silence while the caller has no turn open: the provider
 * has nothing to end, and speech, when it comes, flushes whatever waits in front of it. So a
 * frame may wait when the energy gate calls it silent and the provider has not reported
 * speech since its last `speech_stopped`; the caller listening to the agent is most of a call.
 * Speech too quiet for the gate is at worst 80 ms late (five frames per append at most).
 */
import { EnergyGate } from '../vad/index.js';
import { pcm16FromBytes, ulawDecode } from '../media/index.js';
import { bytesPerMs, type AudioFormat } from '../transport/types.js';

export class CallerAudioUrgency {
  private readonly gate = new EnergyGate();
  private readonly bytesPerMs: number;
  private scratch = new Int16Array(160);
  /** Between the provider's `speech_started` and `speech_stopped`: every frame counts now. */
  private turnOpen = false;

  constructor(private readonly format: AudioFormat) {
    this.bytesPerMs = bytesPerMs(format);
  }

  /** True when `frame` (the caller's format) must go to the provider without waiting. */
  urgent(frame: Buffer): boolean {
    let pcm: Int16Array;
    if (this.format.encoding === 'mulaw') {
      if (this.scratch.length < frame.length) this.scratch = new Int16Array(frame.length);
      pcm = ulawDecode(frame, this.scratch);
    } else {
      pcm = pcm16FromBytes(frame);
    }
    // The gate runs on every frame, so its noise floor follows the line during turns too.
    const loud = this.gate.frame(pcm, frame.length / this.bytesPerMs);
    return loud || this.turnOpen;
  }

  speechStarted(): void {
    this.turnOpen = true;
  }

  speechStopped(): void {
    this.turnOpen = false;
  }

  /** A new provider session knows of no open turn. */
  reset(): void {
    this.turnOpen = false;
  }
}
