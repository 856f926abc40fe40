/**
 * Audio between the caller's transport and the provider session. Phone: μ-law 8 kHz both ways,
 * passed through byte for byte. Web: PCM16 at the browser rate ⇄ PCM16 24 kHz, through
 * streaming resamplers (state kept across frames so there are no clicks at frame edges).
 */
import { Resampler, pcm16FromBytes, pcm16ToBuffer } from '../media/index.js';
import type { AudioFormat } from '../transport/types.js';

/** OpenAI Realtime's PCM rate (PROTOCOLS.md §5.2: `audio/pcm` is 24 kHz only). */
export const PROVIDER_PCM_RATE = 24000;

export interface AudioBridge {
  /** Caller frame (host input format) → provider format. */
  toProvider(frame: Buffer): Buffer;
  /** Provider audio → host output format. */
  toCaller(audio: Buffer): Buffer;
  /** A new agent utterance starts (or playback was cleared): forget the resampler's tail. */
  resetOutput(): void;
}

export function createAudioBridge(input: AudioFormat, output: AudioFormat): AudioBridge {
  if (input.encoding === 'mulaw' && output.encoding === 'mulaw') {
    return { toProvider: (f) => f, toCaller: (a) => a, resetOutput: () => {} };
  }
  const up = input.sampleRate === PROVIDER_PCM_RATE ? null : new Resampler(input.sampleRate, PROVIDER_PCM_RATE);
  const down = output.sampleRate === PROVIDER_PCM_RATE ? null : new Resampler(PROVIDER_PCM_RATE, output.sampleRate);
  return {
    toProvider(frame) {
      if (!up) return frame;
      return pcm16ToBuffer(up.process(pcm16FromBytes(frame)));
    },
    toCaller(audio) {
      if (!down) return audio;
      // Playback keeps the buffer, so it must own its memory: `process` without `out` allocates.
      return pcm16ToBuffer(down.process(pcm16FromBytes(audio)));
    },
    resetOutput() {
      down?.reset();
    },
  };
}
