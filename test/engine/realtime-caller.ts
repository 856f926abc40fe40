/** Caller audio for realtime-engine tests: 20 ms frames of speech (a tone) or silence in the host's format. */
import type { Engine } from '../../src/engine/types.js';
import { pcm16ToBuffer, ulawEncode } from '../../src/media/index.js';
import type { AudioFormat } from '../../src/transport/types.js';
import { toneSamples } from '../fakes/openai-realtime-audio.js';

export function speechFrame(format: AudioFormat, index: number): Buffer {
  const n = (format.sampleRate / 1000) * 20;
  const pcm = toneSamples(20, format.sampleRate, 300, 9000, index * n);
  return format.encoding === 'mulaw' ? ulawEncode(pcm) : Buffer.from(pcm16ToBuffer(pcm));
}

export function silenceFrame(format: AudioFormat): Buffer {
  const n = (format.sampleRate / 1000) * 20;
  return format.encoding === 'mulaw' ? Buffer.alloc(n, 0xff) : Buffer.alloc(n * 2, 0);
}

/** `speechMs` of tone then `silenceMs` of silence, as fast as the engine takes it (the fake's VAD counts audio ms, not wall time). */
export function say(engine: Engine, format: AudioFormat, speechMs: number, silenceMs = 0): Buffer[] {
  const frames: Buffer[] = [];
  for (let i = 0; i < speechMs / 20; i++) frames.push(speechFrame(format, i));
  for (let i = 0; i < silenceMs / 20; i++) frames.push(silenceFrame(format));
  for (const f of frames) engine.onAudio(f);
  return frames;
}
