/**
 * The barge-in defaults on the real Silero VAD and the caller fixtures, on the VAD's audio clock
 * (deterministic: frames are pushed one by one and each window is settled before the next).
 * This is the measurement behind DEFAULT_MIN_INTERRUPTION_MS and WORDLESS_INTERRUPTION_MS: sentences
 * interrupt, "uh huh" and a noise burst never do, with or without words from the STT.
 */
import { describe, expect, it } from 'vitest';
import { ulawDecode } from '../../src/media/index.js';
import { SileroVad, loadSilero } from '../../src/vad/index.js';
import { BargeInDetector, DEFAULT_MIN_INTERRUPTION_MS } from '../../src/engine/barge-in.js';
import { readUlawFixture, type FixtureName } from '../helpers/fixtures.js';

type Words = 'real' | 'backchannel' | 'none';

/**
 * Plays `name` after `leadMs` of silence through Silero + the detector (agent speaking
 * throughout); returns ms from the clip's onset to the interruption, or null if none.
 */
async function reaction(name: FixtureName, leadMs: number, words: Words): Promise<number | null> {
  const vad = new SileroVad(await loadSilero(), { sampleRate: 8000 });
  const det = new BargeInDetector(DEFAULT_MIN_INTERRUPTION_MS, true);
  vad.onEvent((e) => (e.type === 'speech_start' ? det.speechStart(e.atMs) : det.speechEnd(e.atMs)));
  // Words as a streaming STT would have them for this speech (the fake Deepgram: at once).
  if (words === 'real') det.interim('wait');
  if (words === 'backchannel') det.interim('uh huh');
  const clip = ulawDecode(readUlawFixture(name));
  const all = new Int16Array(8 * leadMs + clip.length + 8000);
  all.set(clip, 8 * leadMs);
  let at: number | null = null;
  for (let i = 0; i + 160 <= all.length && at === null; i += 160) {
    vad.push(all.subarray(i, i + 160));
    await vad.settled();
    if (det.check(vad.nowMs, vad.probability, true)) at = vad.nowMs - leadMs;
  }
  vad.close();
  return at;
}

/** Leads that put the onset at different phases of the 64 ms analysis window. */
const LEADS = [300, 317, 343, 371];

describe('barge-in defaults on the real VAD and the fixtures', () => {
  it('sentences interrupt; with words from the STT within ~0.46 s of onset, without within ~0.82 s', async () => {
    const withWords: number[] = [];
    const without: number[] = [];
    for (const name of ['question', 'long', 'hello'] as const) {
      for (const lead of LEADS) {
        withWords.push((await reaction(name, lead, 'real'))!);
        without.push((await reaction(name, lead, 'none'))!);
      }
    }
    console.log(`reaction onset→interrupt (audio clock), words: ${withWords.join(' ')} ms; no words: ${without.join(' ')} ms`);
    expect(withWords.every((ms) => ms !== null && ms > 0 && ms <= 470)).toBe(true);
    expect(without.every((ms) => ms !== null && ms > 0 && ms <= 830)).toBe(true);
  });

  it('"uh huh" never interrupts, whatever the STT says, and neither does a 150 ms noise burst', async () => {
    for (const lead of LEADS) {
      for (const words of ['backchannel', 'none'] as const) expect(await reaction('uh-huh', lead, words), `uh-huh ${lead} ${words}`).toBeNull();
      expect(await reaction('noise-150ms', lead, 'real')).toBeNull();
    }
  });
});
