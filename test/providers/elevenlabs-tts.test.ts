import { afterEach, describe, expect, it } from 'vitest';
import { ElevenLabsWsTts } from '../../src/providers/tts/elevenlabs-ws.js';
import { ElevenLabsHttpTts } from '../../src/providers/tts/elevenlabs-http.js';
import { FallbackTts } from '../../src/providers/tts/fallback.js';
import type { TtsStream } from '../../src/providers/tts/types.js';
import { MULAW_8K, PCM16_16K } from '../../src/transport/types.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';

let fake: FakeElevenLabs | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function drain(s: TtsStream): Promise<{ bytes: number; chars: number }> {
  let bytes = 0;
  let chars = 0;
  for await (const c of s) {
    bytes += c.audio.length;
    chars += c.chars ?? 0;
  }
  return { bytes, chars };
}

const opts = (f: FakeElevenLabs) => ({ baseUrl: f.url, apiKey: 'el-test', voiceId: 'voice1', format: MULAW_8K });

describe('ElevenLabs stream-input WebSocket against the fake', () => {
  it('sends BOS, space-terminated text, flush and EOS, and gets ulaw_8000 audio with alignment', async () => {
    fake = await startFakeElevenLabs({ msPerChar: 10 });
    const tts = new ElevenLabsWsTts({ ...opts(fake), model: 'eleven_flash_v2_5' });
    await tts.prepare(new AbortController().signal);
    const s = tts.stream(new AbortController().signal);
    s.push('Hello there.');
    s.push('How can I help?');
    s.end();
    const { bytes, chars } = await drain(s);
    const c = fake.ws[0]!;
    expect(c.headers['xi-api-key']).toBe('el-test');
    expect(c.query).toMatchObject({ output_format: 'ulaw_8000', model_id: 'eleven_flash_v2_5' });
    expect(c.messages[0]).toMatchObject({ text: ' ', voice_settings: expect.any(Object) });
    expect(c.messages.slice(1)).toEqual([
      { text: 'Hello there. ', try_trigger_generation: true },
      { text: 'How can I help? ', try_trigger_generation: false },
      { text: ' ', flush: true },
      { text: '' },
    ]);
    // 29 characters (with the trailing spaces) × 10 ms × 8 bytes/ms.
    expect(chars).toBe('Hello there. How can I help? '.length);
    expect(bytes).toBe(chars * 10 * 8);
    expect(fake.ws.length).toBe(1);
    tts.close();
  });

  it('flush() voices the text so far mid-utterance (a reply pausing for a tool), and end() does not flush twice', async () => {
    fake = await startFakeElevenLabs({ msPerChar: 10 });
    const tts = new ElevenLabsWsTts({ ...opts(fake), model: 'eleven_flash_v2_5' });
    await tts.prepare(new AbortController().signal);
    const s = tts.stream(new AbortController().signal);
    s.push('Sure.');
    s.push('Let me put you through.');
    s.flush!();
    let heard = 0;
    const it = s[Symbol.asyncIterator]();
    // Without the flush the fake, like ElevenLabs, holds this text back for its chunk schedule.
    while (heard < 'Sure. Let me put you through. '.length) heard += (await it.next()).value.chars ?? 0;
    expect(heard).toBe('Sure. Let me put you through. '.length);
    s.end();
    while (!(await it.next()).done);
    expect(fake.ws[0]!.messages.slice(1)).toEqual([
      { text: 'Sure. ', try_trigger_generation: true },
      { text: 'Let me put you through. ', try_trigger_generation: false },
      { text: ' ', flush: true },
      { text: '' },
    ]);
    tts.close();
  });

  it('waits the first-byte delay once per socket, not before every generation of the utterance', async () => {
    fake = await startFakeElevenLabs({ msPerChar: 1, firstChunkDelayMs: 5 });
    const tts = new ElevenLabsWsTts({ ...opts(fake), model: 'eleven_flash_v2_5' });
    await tts.prepare(new AbortController().signal);
    const s = tts.stream(new AbortController().signal);
    s.push('First clause, triggered at once.');
    s.push('Second clause, generated on the flush.');
    s.end();
    const { chars } = await drain(s);
    expect(chars).toBe('First clause, triggered at once. Second clause, generated on the flush. '.length);
    const c = fake.ws[0]!;
    expect(c.generations).toBe(2);
    expect(c.firstByteWaits).toBe(1);
    tts.close();
  });

  it('asks for pcm_16000 on web calls', async () => {
    fake = await startFakeElevenLabs({ msPerChar: 5 });
    const tts = new ElevenLabsWsTts({ ...opts(fake), format: PCM16_16K });
    const s = tts.stream(new AbortController().signal);
    s.push('Hi.');
    s.end();
    const { bytes } = await drain(s);
    expect(fake.ws[0]!.query.output_format).toBe('pcm_16000');
    expect(bytes).toBe(4 * 5 * 32);
  });

  it('abort closes the socket and ends iteration quietly', async () => {
    fake = await startFakeElevenLabs({ msPerChar: 10, chunkDelayMs: 20 });
    const tts = new ElevenLabsWsTts(opts(fake));
    const ac = new AbortController();
    const s = tts.stream(ac.signal);
    s.push('A long sentence that takes a while to say.');
    let n = 0;
    for await (const _ of s) {
      if (++n === 2) ac.abort();
    }
    expect(n).toBe(2);
    await expect.poll(() => fake!.ws[0]!.closed).toBe(true);
    expect(fake.ws[0]!.abortedByClient).toBe(true);
  });
});

describe('ElevenLabs HTTP streaming and the fallback', () => {
  it('streams one request per clause through the SDK', async () => {
    fake = await startFakeElevenLabs({ msPerChar: 10 });
    const tts = new ElevenLabsHttpTts(opts(fake));
    const s = tts.stream(new AbortController().signal);
    s.push('Hello.');
    s.push('Bye.');
    s.end();
    const { bytes } = await drain(s);
    expect(fake.http.map((r) => r.body.text)).toEqual(['Hello.', 'Bye.']);
    expect(fake.http[0]!.query.output_format).toBe('ulaw_8000');
    expect(bytes).toBe(10 * 10 * 8);
  });

  it('falls back to HTTP when the WebSocket is refused, replaying the text', async () => {
    fake = await startFakeElevenLabs({ msPerChar: 10, refuseWsStatus: 503 });
    const reasons: string[] = [];
    const tts = new FallbackTts(new ElevenLabsWsTts(opts(fake)), new ElevenLabsHttpTts(opts(fake)), (r) => reasons.push(r));
    const s = tts.stream(new AbortController().signal);
    s.push('Hello.');
    s.end();
    const { bytes } = await drain(s);
    expect(bytes).toBe(6 * 10 * 8);
    expect(fake.http.map((r) => r.body.text)).toEqual(['Hello.']);
    expect(reasons).toHaveLength(1);
    // Later utterances go straight to HTTP.
    const s2 = tts.stream(new AbortController().signal);
    s2.push('Again.');
    s2.end();
    await drain(s2);
    expect(fake.http).toHaveLength(2);
  });
});
