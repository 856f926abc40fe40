/**
 * Deepgram Flux (src/providers/stt/deepgram-flux.ts) through the real @deepgram/sdk `listen.v2`
 * client against the Flux fake: the phone query (μ-law 8 kHz as it is, thresholds in range),
 * TurnInfo mapped to turn events — eager end then end with the same text for a finished turn,
 * resumed when the caller goes on, the timeout end for an unfinished one — and CloseStream.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeepgramFluxStt, type DeepgramFluxOptions } from '../../src/providers/stt/deepgram-flux.js';
import type { SttEvent } from '../../src/providers/stt/types.js';
import { MULAW_8K } from '../../src/transport/types.js';
import { ulawEncodeSample } from '../../src/media/index.js';
import { startFakeFlux, type FakeFlux } from '../fakes/deepgram-flux.js';

let fake: FakeFlux | undefined;
let stt: DeepgramFluxStt | undefined;
afterEach(async () => {
  await stt?.close();
  stt = undefined;
  await fake?.close();
  fake = undefined;
});

let n = 0;
function frame(tone: boolean): Buffer {
  const b = Buffer.alloc(160, 0xff);
  if (tone) for (let i = 0; i < 160; i++) b[i] = ulawEncodeSample(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (n * 160 + i)) / 8000)));
  n++;
  return b;
}
const speak = (ms: number, tone = true) => {
  for (let t = 0; t < ms; t += 20) stt!.write(frame(tone));
};

async function open(opts: Partial<DeepgramFluxOptions> = {}) {
  stt = new DeepgramFluxStt({ baseUrl: fake!.url, apiKey: 'dg-test', format: MULAW_8K, language: 'en-US', ...opts });
  const events: SttEvent[] = [];
  stt.onEvent((e) => events.push(e));
  await stt.connect(new AbortController().signal);
  const turns = () => events.filter((e) => e.type === 'turn').map((e) => (e.type === 'turn' ? `${e.event}:${e.text}` : ''));
  return { events, turns };
}

describe('Deepgram Flux against the fake', () => {
  it('sends phone audio as μ-law 8 kHz with token auth and Flux thresholds; a finished turn: eager end, then end, same text', async () => {
    fake = await startFakeFlux({ transcripts: ['What time do you open?'] });
    const { events, turns } = await open({ eotTimeoutMs: 500 });
    const c = fake.connections[0]!;
    expect(c.headers.authorization).toBe('Token dg-test');
    expect(c.query).toMatchObject({ model: 'flux-general-en', encoding: 'mulaw', sample_rate: '8000', eager_eot_threshold: '0.5', eot_threshold: '0.7', eot_timeout_ms: '500' });
    speak(1200);
    speak(400, false);
    await expect.poll(turns).toEqual(['start:What', 'eager_end:What time do you open?', 'end:What time do you open?']);
    expect(events.some((e) => e.type === 'partial' && e.text === 'What time do you open?')).toBe(true);
    await stt!.close();
    expect(c.controls).toContain('CloseStream');
    await expect.poll(() => events.at(-1)?.type).toBe('closed');
  });

  it('speech after the eager end: resumed, and the turn ends later with the rest', async () => {
    fake = await startFakeFlux({ transcripts: ['I need a table.'], eagerSilenceMs: 100, endSilenceMs: 300 });
    const { turns } = await open();
    speak(1000);
    speak(160, false); // past eager (100), short of the end (300)
    await expect.poll(turns).toContain('eager_end:I need a table.');
    speak(600);
    speak(400, false);
    await expect.poll(turns).toEqual(['start:I', 'eager_end:I need a table.', 'resumed:I need a table.', 'eager_end:I need a table.', 'end:I need a table.']);
  });

  it('an unfinished turn gets no eager end and ends at eot_timeout_ms', async () => {
    fake = await startFakeFlux({ transcripts: ["I'd like to, um"] });
    const { turns, events } = await open({ eotTimeoutMs: 600 });
    speak(1000);
    speak(500, false);
    await new Promise((r) => setTimeout(r, 100));
    expect(turns()).toEqual(["start:I'd"]);
    speak(200, false);
    await expect.poll(turns).toEqual(["start:I'd", "end:I'd like to, um"]);
    expect(fake.connections[0]!.sent.find((m) => m.event === 'EndOfTurn')).toMatchObject({ trigger: 'timeout', turn_index: 0 });
    void events;
  });

  it('clamps thresholds to the documented ranges, and a refused handshake is a ProviderError', async () => {
    fake = await startFakeFlux();
    await open({ eagerEotThreshold: 0.1, eotThreshold: 2, eotTimeoutMs: 100 });
    expect(fake.connections[0]!.query).toMatchObject({ eager_eot_threshold: '0.3', eot_threshold: '0.9', eot_timeout_ms: '500' });
    await stt!.close();
    fake.options.refuseStatus = 401;
    stt = new DeepgramFluxStt({ baseUrl: fake.url, apiKey: 'dg-test', format: MULAW_8K, language: 'en-US', reconnectAttempts: 0, connectTimeoutMs: 2000 });
    await expect(stt.connect(new AbortController().signal)).rejects.toMatchObject({ provider: 'deepgram-flux' });
  });
});
