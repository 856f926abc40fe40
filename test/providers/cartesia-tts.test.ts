import { afterEach, describe, expect, it } from 'vitest';
import { CartesiaTts, DEFAULT_CARTESIA_MODEL, type CartesiaTtsOptions } from '../../src/providers/tts/cartesia.js';
import { WordAlignment } from '../../src/providers/tts/cartesia-alignment.js';
import type { TtsStream } from '../../src/providers/tts/types.js';
import { ProviderError } from '../../src/errors.js';
import { MULAW_8K, PCM16_16K } from '../../src/transport/types.js';
import { UtteranceText } from '../../src/engine/pipeline-utterance.js';
import { startFakeCartesia, type FakeCartesia } from '../fakes/cartesia.js';

let fake: FakeCartesia | undefined;
const providers: CartesiaTts[] = [];
afterEach(async () => {
  for (const p of providers.splice(0)) p.close();
  await fake?.close();
  fake = undefined;
});

const VOICE = 'a0e99841-438c-4a64-b679-ae501e7d6091';
const never = new AbortController().signal;

function make(f: FakeCartesia, over: Partial<CartesiaTtsOptions> = {}): CartesiaTts {
  const p = new CartesiaTts({ baseUrl: f.url, apiKey: 'sk_car_test', voiceId: VOICE, format: MULAW_8K, language: 'en', ...over });
  providers.push(p);
  return p;
}

async function drain(s: TtsStream): Promise<{ bytes: number; chars: number; chunks: number; undefinedChars: number }> {
  let bytes = 0;
  let chars = 0;
  let chunks = 0;
  let undefinedChars = 0;
  for await (const c of s) {
    bytes += c.audio.length;
    chunks++;
    if (c.chars === undefined) undefinedChars++;
    chars += c.chars ?? 0;
  }
  return { bytes, chars, chunks, undefinedChars };
}

describe('Cartesia TTS over the WebSocket, against the fake', () => {
  it('opens one socket at prepare and speaks each reply as one context of continuations, μ-law 8 kHz', async () => {
    fake = await startFakeCartesia({ msPerChar: 10 });
    const tts = make(fake);
    await tts.prepare(never);
    expect(fake.ws.length).toBe(1);
    const c = fake.ws[0]!;
    expect(c.headers.authorization).toBe('Bearer sk_car_test');
    expect(c.headers['cartesia-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const s = tts.stream(never);
    s.push('Hello there.');
    s.push('How can I help?');
    s.end();
    const { bytes, chars } = await drain(s);
    expect(bytes).toBe('Hello there. How can I help? '.length * 10 * 8);
    // Word timestamps credit every character sent (text, punctuation, spaces).
    expect(chars).toBe('Hello there. How can I help? '.length);

    const [ctx] = [...c.contexts.values()];
    expect(ctx!.inputs.map((m) => [m.transcript, m.continue])).toEqual([
      ['Hello there. ', true],
      ['How can I help? ', true],
      ['', false],
    ]);
    expect(ctx!.inputs[0]).toMatchObject({
      model_id: DEFAULT_CARTESIA_MODEL,
      voice: { mode: 'id', id: VOICE },
      output_format: { container: 'raw', encoding: 'pcm_mulaw', sample_rate: 8000 },
      language: 'en',
      add_timestamps: true,
      max_buffer_delay_ms: 0,
    });
    expect(ctx!.done).toBe(true);

    // The next reply: same socket, a new context.
    const s2 = tts.stream(never);
    s2.push('Goodbye.');
    s2.end();
    await drain(s2);
    expect(fake.ws.length).toBe(1);
    expect(c.contexts.size).toBe(2);
  });

  it('asks for pcm_s16le 16 kHz for web calls and honours ttsModel', async () => {
    fake = await startFakeCartesia({ msPerChar: 10 });
    const tts = make(fake, { format: PCM16_16K, model: 'sonic-3' });
    const s = tts.stream(never);
    s.push('Hi.');
    s.end();
    const { bytes } = await drain(s);
    expect(bytes).toBe('Hi. '.length * 10 * 32);
    const [ctx] = [...fake.ws[0]!.contexts.values()];
    expect(ctx!.inputs[0]).toMatchObject({ model_id: 'sonic-3', output_format: { encoding: 'pcm_s16le', sample_rate: 16000 } });
  });

  it('flush() voices the text so far and keeps the context open', async () => {
    fake = await startFakeCartesia({ msPerChar: 5 });
    const tts = make(fake);
    const s = tts.stream(never);
    s.push('Let me check');
    s.flush!();
    const it = s[Symbol.asyncIterator]();
    let heard = 0;
    while (heard < 'Let me check '.length) heard += (await it.next()).value.chars ?? 0;
    s.push('that for you.');
    s.end();
    while (!(await it.next()).done);
    const [ctx] = [...fake.ws[0]!.contexts.values()];
    expect(ctx!.inputs.map((m) => [m.transcript, m.continue, m.flush ?? false])).toEqual([
      ['Let me check ', true, false],
      ['', true, true],
      ['that for you. ', true, false],
      ['', false, false],
    ]);
    expect(ctx!.flushes).toBe(1);
  });

  it('barge-in cancels the context and drops the audio still streaming for it', async () => {
    fake = await startFakeCartesia({ msPerChar: 20, chunkDelayMs: 10 });
    const tts = make(fake);
    await tts.prepare(never);
    const turn = new AbortController();
    const s = tts.stream(turn.signal);
    s.push('This is a long answer that the caller will interrupt.');
    s.push('And this clause never starts.');
    const it = s[Symbol.asyncIterator]();
    await it.next();
    turn.abort();
    expect((await it.next()).done).toBe(true);
    await waitFor(() => fake!.ws[0]!.messages.some((m) => m.cancel === true));
    const c = fake.ws[0]!;
    const [ctx] = [...c.contexts.values()];
    expect(c.messages.at(-1)).toEqual({ context_id: ctx!.id, cancel: true });
    expect(ctx!.cancelled).toBe(true);
    // The socket stays for the next reply.
    const s2 = tts.stream(never);
    s2.push('Yes?');
    s2.end();
    expect((await drain(s2)).bytes).toBeGreaterThan(0);
    expect(fake.ws.length).toBe(1);
  });

  it('reports a server error for the context as a ProviderError (unknown voice)', async () => {
    fake = await startFakeCartesia();
    const tts = make(fake, { voiceId: 'no-such-voice' });
    const s = tts.stream(never);
    s.push('Hello.');
    s.end();
    const err = await drain(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).message).toMatch(/Voice not found/);
    expect((err as ProviderError).status).toBe(404);
    expect((err as ProviderError).retryable).toBe(false);
  });

  it('a refused key fails prepare and the stream with a non-retryable 401', async () => {
    fake = await startFakeCartesia();
    const tts = make(fake, { apiKey: 'wrong' });
    const err = await tts.prepare(never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).status).toBe(401);
    expect((err as ProviderError).retryable).toBe(false);
    const s = tts.stream(never);
    s.push('Hello.');
    s.end();
    await expect(drain(s)).rejects.toMatchObject({ status: 401 });
  });

  it('replays a reply on a new socket when the socket drops before any audio', async () => {
    // The first socket dies on the reply's first input, before any audio.
    fake = await startFakeCartesia({ msPerChar: 5, dropAfterMessages: 1 });
    const notes: string[] = [];
    const tts = make(fake, { onReconnect: (r) => notes.push(r) });
    await tts.prepare(never);
    const s = tts.stream(never);
    s.push('First clause.');
    s.push('Second clause.');
    s.end();
    const { chars } = await drain(s);
    expect(chars).toBe('First clause. Second clause. '.length);
    expect(fake.ws.length).toBe(2);
    const [ctx] = [...fake.ws[1]!.contexts.values()];
    expect(ctx!.text).toBe('First clause. Second clause. ');
  });

  it('a reply whose socket drops mid-audio goes on from the first unvoiced word on a new socket', async () => {
    fake = await startFakeCartesia({ msPerChar: 20, chunkDelayMs: 10 });
    const tts = make(fake);
    await tts.prepare(never);
    const SENTENCE = 'A long sentence that is cut off by a network failure. ';
    const s = tts.stream(never);
    s.push(SENTENCE);
    s.end();
    const it = s[Symbol.asyncIterator]();
    let chars = (await it.next()).value.chars ?? 0;
    await waitFor(() => [...fake!.ws[0]!.contexts.values()][0]!.chunks >= 6);
    fake.ws[0]!.drop();
    for (let r = await it.next(); !r.done; r = await it.next()) chars += r.value.chars ?? 0;
    await waitFor(() => fake!.ws.length === 2);
    const resumed = [...fake.ws[1]!.contexts.values()][0]!;
    // The rest of the sentence, from a word boundary; every character is credited once.
    expect(SENTENCE.endsWith(resumed.text)).toBe(true);
    expect(resumed.text.length).toBeLessThan(SENTENCE.length);
    expect(SENTENCE[SENTENCE.length - resumed.text.length - 1]).toBe(' ');
    expect(chars).toBe(SENTENCE.length);
  });

  it('without timestamps a mid-audio drop fails the reply (retryable), and the idle socket is reopened for the next one', async () => {
    fake = await startFakeCartesia({ msPerChar: 20, chunkDelayMs: 10 });
    const notes: string[] = [];
    const tts = make(fake, { wordTimestamps: false, onReconnect: (r) => notes.push(r) });
    await tts.prepare(never);
    const s = tts.stream(never);
    s.push('A long sentence that is cut off by a network failure.');
    s.end();
    const it = s[Symbol.asyncIterator]();
    await it.next();
    fake.ws[0]!.drop();
    const err = await (async () => {
      try {
        while (!(await it.next()).done);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(true);
    // An idle reconnect, without waiting for the next reply.
    await waitFor(() => fake!.ws.length === 2);
    expect(notes.length).toBe(1);
    await tts.prepare(never);
    const s2 = tts.stream(never);
    s2.push('Sorry, I lost you.');
    s2.end();
    expect((await drain(s2)).bytes).toBeGreaterThan(0);
  });

  it('close() (call end) closes the socket, and nothing opens another', async () => {
    fake = await startFakeCartesia();
    const tts = make(fake);
    await tts.prepare(never);
    tts.close();
    await waitFor(() => fake!.ws[0]!.closed);
    await tts.prepare(never);
    const s = tts.stream(never);
    s.push('Too late.');
    s.end();
    await expect(drain(s)).rejects.toThrow(/closed/);
    expect(fake.ws.length).toBe(1);
  });

  it('without timestamps, chunks stop claiming alignment so the engine estimates instead', async () => {
    fake = await startFakeCartesia({ msPerChar: 30, timestamps: false });
    const tts = make(fake);
    const s = tts.stream(never);
    s.push('No timestamps come back for this rather long sentence.');
    s.end();
    const { chars, undefinedChars } = await drain(s);
    expect(chars).toBe(0);
    expect(undefinedChars).toBeGreaterThan(0);
  });

  it('with wordTimestamps off, does not ask for timestamps and reports no alignment', async () => {
    fake = await startFakeCartesia({ msPerChar: 5 });
    const tts = make(fake, { wordTimestamps: false });
    expect(tts.capabilities.alignment).toBe(false);
    const s = tts.stream(never);
    s.push('Hello.');
    s.end();
    const { chunks, undefinedChars } = await drain(s);
    expect(undefinedChars).toBe(chunks);
    expect([...fake.ws[0]!.contexts.values()][0]!.inputs[0]!.add_timestamps).toBe(false);
  });
});

describe('WordAlignment (word timestamps → characters per chunk)', () => {
  it('credits words to the chunk whose audio covers their end, and late words to the next chunk', () => {
    const a = new WordAlignment();
    a.addText('Hello there. ');
    a.addText('How are you? ');
    expect(a.addAudio(100)).toBe(0); // timestamps not here yet
    a.addWords({ words: ['Hello', 'there'], start: [0, 0.3], end: [0.3, 0.45] });
    expect(a.addAudio(400)).toBe('Hello there. '.length); // 500 ms covers both words
    a.addWords({ words: ['How', 'are', 'you'], start: [0.7, 0.85, 1.1], end: [0.85, 0.98, 1.3] });
    expect(a.addAudio(500)).toBe('How are '.length); // 1000 ms: "you" ends at 1300
    expect(a.addAudio(400)).toBe('you? '.length);
  });

  it('credits the last chunk with the rest of the text (its words\' timestamps may trail it)', () => {
    const a = new WordAlignment();
    a.addText('Bye now. ');
    a.addWords({ words: ['Bye'], start: [0], end: [0.2] });
    expect(a.addAudio(250)).toBe('Bye '.length);
    expect(a.addAudio(250, true)).toBe('now. '.length);
  });

  it('drives the engine\'s heard-text cut', () => {
    const a = new WordAlignment();
    const u = new UtteranceText();
    u.addClause('Your table is booked.', 'Your table is booked.');
    u.addClause('See you Friday.', 'See you Friday.');
    a.addText('Your table is booked. ');
    a.addText('See you Friday. ');
    a.addWords({ words: ['Your', 'table', 'is', 'booked'], start: [0, 0.3, 0.6, 0.8], end: [0.3, 0.6, 0.8, 1.2] });
    for (let ms = 0; ms < 1200; ms += 200) u.addAudio(200, a.addAudio(200));
    expect(u.heardText(700)).toBe('Your table');
    expect(u.heardText(1200)).toBe('Your table is booked.');
  });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
