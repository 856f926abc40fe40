import { describe, expect, it } from 'vitest';
import { CallerAudioUrgency } from '../../src/engine/realtime-input.js';
import { ulawEncode } from '../../src/media/index.js';
import { MULAW_8K, PCM16_16K } from '../../src/transport/types.js';

/** One 20 ms μ-law frame of a 440 Hz tone at `amplitude` (0 = digital silence). */
function ulawFrame(amplitude: number, offset = 0): Buffer {
  const pcm = new Int16Array(160);
  for (let i = 0; i < 160; i++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * (offset + i)) / 8000));
  return Buffer.from(ulawEncode(pcm));
}

describe('caller audio urgency (realtime appends)', () => {
  it('lets silence wait, not speech, and not the silence of a turn the provider has open', () => {
    const u = new CallerAudioUrgency(MULAW_8K);
    for (let i = 0; i < 25; i++) expect(u.urgent(ulawFrame(0))).toBe(false);
    // Speech at about -20 dBFS: urgent from its first frame.
    expect(u.urgent(ulawFrame(3000))).toBe(true);
    u.speechStarted();
    // The gate's hangover is 200 ms; after it, the open turn alone keeps silence urgent.
    for (let i = 0; i < 30; i++) expect(u.urgent(ulawFrame(0, i * 160))).toBe(true);
    u.speechStopped();
    expect(u.urgent(ulawFrame(0))).toBe(false);
    u.speechStarted();
    u.reset(); // a reconnected session has no open turn
    expect(u.urgent(ulawFrame(0))).toBe(false);
  });

  it('reads PCM16 frames of web calls', () => {
    const u = new CallerAudioUrgency(PCM16_16K);
    const quiet = Buffer.alloc(640);
    const loud = Buffer.alloc(640);
    for (let i = 0; i < 320; i++) loud.writeInt16LE(Math.round(3000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), 2 * i);
    for (let i = 0; i < 20; i++) expect(u.urgent(quiet)).toBe(false);
    expect(u.urgent(loud)).toBe(true);
  });
});
