/**
 * The real Silero model on the speech fixtures: it must find the sentence, nothing in silence or
 * a noise burst, and only a short segment in a backchannel. Frames are pushed as the audio path
 * does (20 ms), waiting for the model between frames so no window is skipped.
 */
import { describe, expect, it } from 'vitest';
import { ulawDecode } from '../../src/media/index.js';
import {
  EnergyVad,
  SileroVad,
  createVad,
  loadSilero,
  type SileroVadOptions,
  type VadEvent,
  type VoiceActivityDetector,
} from '../../src/vad/index.js';
import { readPcm16Fixture, readUlawFixture, type FixtureName } from '../helpers/fixtures.js';

/** Silence after the clip so a segment can end (default silenceMs is 500). */
const TAIL_MS = 1000;

function pcm8k(name: FixtureName): Int16Array {
  return ulawDecode(readUlawFixture(name));
}

async function detect(
  vad: VoiceActivityDetector,
  pcm: Int16Array,
  rate: number,
  leadMs = 300,
): Promise<VadEvent[]> {
  const events: VadEvent[] = [];
  vad.onEvent((e) => events.push(e));
  const frame = rate / 50;
  const lead = new Int16Array((rate * leadMs) / 1000);
  const tail = new Int16Array((rate * TAIL_MS) / 1000);
  const all = new Int16Array(lead.length + pcm.length + tail.length);
  all.set(lead);
  all.set(pcm, lead.length);
  for (let i = 0; i + frame <= all.length; i += frame) {
    vad.push(all.subarray(i, i + frame));
    if (vad instanceof SileroVad) await vad.settled();
  }
  return events;
}

async function silero(opts: Partial<SileroVadOptions> & { sampleRate: 8000 | 16000 }): Promise<SileroVad> {
  return new SileroVad(await loadSilero(), opts);
}

describe('Silero VAD on the fixtures', () => {
  it('loads the v4 model from the vad-node package through createVad', async () => {
    const vad = await createVad({ sampleRate: 8000 });
    expect(vad.kind).toBe('silero');
    vad.close();
  });

  for (const rate of [8000, 16000] as const) {
    it(`finds the sentence in hello (${rate} Hz), starting near its onset`, async () => {
      const pcm = rate === 8000 ? pcm8k('hello') : readPcm16Fixture('hello');
      const clipMs = (pcm.length / rate) * 1000;
      const vad = await silero({ sampleRate: rate });
      const events = await detect(vad, pcm, rate);
      expect(events.map((e) => e.type)).toEqual(['speech_start', 'speech_end']);
      const [start, end] = events;
      // Speech starts at 300 ms (the lead); windows are 64 ms.
      expect(start.atMs).toBeGreaterThanOrEqual(300 - 64);
      expect(start.atMs).toBeLessThanOrEqual(300 + 200);
      expect(end.type === 'speech_end' && end.durationMs).toBeGreaterThan(clipMs * 0.7);
      expect(vad.speaking).toBe(false);
      expect(vad.stats.skipped).toBe(0);
    });
  }

  it('finds no speech in silence, and the gate spares the model entirely', async () => {
    const vad = await silero({ sampleRate: 8000 });
    const events = await detect(vad, pcm8k('silence-2s'), 8000);
    expect(events).toEqual([]);
    expect(vad.stats.inferences).toBe(0);
    expect(vad.stats.gated).toBe(vad.stats.windows);
    expect(vad.stats.windows).toBeGreaterThan(40);
  });

  it('finds no speech in a 150 ms noise burst', async () => {
    const vad = await silero({ sampleRate: 8000 });
    const events = await detect(vad, pcm8k('noise-150ms'), 8000);
    expect(events).toEqual([]);
    expect(vad.stats.inferences).toBeGreaterThan(0); // the gate let it through; the model said no
  });

  it('gives a backchannel ("uh huh") only a short segment', async () => {
    const vad = await silero({ sampleRate: 8000 });
    const events = await detect(vad, pcm8k('uh-huh'), 8000);
    const segments = events.filter((e) => e.type === 'speech_end');
    expect(segments).toHaveLength(1);
    expect(segments[0].type === 'speech_end' && segments[0].durationMs).toBeLessThan(600);
  });

  it('reports two separate segments for two sentences with a pause between', async () => {
    const q = pcm8k('question');
    const both = new Int16Array(q.length * 2 + 8000);
    both.set(q);
    both.set(q, q.length + 8000); // 1 s pause > silenceMs
    const vad = await silero({ sampleRate: 8000 });
    const events = await detect(vad, both, 8000);
    expect(events.map((e) => e.type)).toEqual(['speech_start', 'speech_end', 'speech_start', 'speech_end']);
  });

  it('skips and counts windows instead of queueing when the model falls behind', async () => {
    const vad = await silero({ sampleRate: 8000, gate: false, maxPendingInferences: 2 });
    const pcm = pcm8k('long');
    // All 6 s pushed in one synchronous burst: the model cannot keep up.
    for (let i = 0; i + 160 <= pcm.length; i += 160) vad.push(pcm.subarray(i, i + 160));
    await vad.settled();
    const s = vad.stats;
    expect(s.inferences).toBeLessThanOrEqual(2);
    expect(s.skipped).toBeGreaterThan(50);
    expect(s.windows).toBe(Math.floor((pcm.length * 2) / 1024));
  });

  it('stops emitting after close and drops pending windows', async () => {
    const vad = await silero({ sampleRate: 8000 });
    const events: VadEvent[] = [];
    vad.onEvent((e) => events.push(e));
    const pcm = pcm8k('hello');
    for (let i = 0; i + 160 <= pcm.length; i += 160) vad.push(pcm.subarray(i, i + 160));
    vad.close();
    await vad.settled();
    vad.push(pcm.subarray(0, 160));
    expect(events).toEqual([]);
  });

  it('reset forgets a segment in progress and the next speech starts a new one', async () => {
    const vad = await silero({ sampleRate: 8000 });
    const pcm = pcm8k('long');
    const events: VadEvent[] = [];
    vad.onEvent((e) => events.push(e));
    const half = Math.floor(pcm.length / 2 / 160) * 160;
    for (let i = 0; i < half; i += 160) {
      vad.push(pcm.subarray(i, i + 160));
      await vad.settled();
    }
    expect(vad.speaking).toBe(true);
    vad.reset();
    expect(vad.speaking).toBe(false);
    for (let i = half; i + 160 <= pcm.length; i += 160) {
      vad.push(pcm.subarray(i, i + 160));
      await vad.settled();
    }
    expect(events.map((e) => e.type)).toEqual(['speech_start', 'speech_start']);
    expect(events[1].atMs).toBeGreaterThanOrEqual((half / 8000) * 1000 - 64);
  });
});

describe('energy fallback VAD', () => {
  it('finds speech in hello and none in silence', async () => {
    const vad = new EnergyVad({ sampleRate: 8000 });
    const events = await detect(vad, pcm8k('hello'), 8000);
    expect(events[0]).toMatchObject({ type: 'speech_start' });
    expect(events.at(-1)).toMatchObject({ type: 'speech_end' });
    expect(await detect(new EnergyVad({ sampleRate: 8000 }), pcm8k('silence-2s'), 8000)).toEqual([]);
  });

  it('is what createVad returns when asked for energy only', async () => {
    const vad = await createVad({ sampleRate: 16000, energyOnly: true });
    expect(vad.kind).toBe('energy');
  });
});

describe('createVad without a usable model', () => {
  it('falls back to the energy detector and says so once', async () => {
    const warnings: unknown[] = [];
    const log = { warn: (...a: unknown[]) => warnings.push(a), error: () => {} };
    const a = await createVad({ sampleRate: 8000, modelPath: '/nonexistent/silero.onnx', log });
    const b = await createVad({ sampleRate: 8000, modelPath: '/nonexistent/silero.onnx', log });
    expect([a.kind, b.kind]).toEqual(['energy', 'energy']);
    expect(warnings).toHaveLength(1);
  });
});
