import { afterEach, describe, expect, it } from 'vitest';
import { DeepgramStt, type DeepgramSttOptions } from '../../src/providers/stt/deepgram.js';
import { SttThread, ThreadedDeepgramStt } from '../../src/providers/stt/deepgram-threaded.js';
import type { SttEvent, SttStream } from '../../src/providers/stt/types.js';
import { MULAW_8K } from '../../src/transport/types.js';
import { ulawEncodeSample } from '../../src/media/index.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';

let fake: FakeDeepgram | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** 20 ms of μ-law: a 440 Hz tone (speech for the fake's energy detector) or silence. */
function frame(tone: boolean, n: number): Buffer {
  const b = Buffer.alloc(160, 0xff);
  if (tone) for (let i = 0; i < 160; i++) b[i] = ulawEncodeSample(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (n * 160 + i)) / 8000)));
  return b;
}

/**
 * Both ways of running the stream: on the calling thread, and with its socket in the STT worker
 * thread (what calls use). They must be indistinguishable to the engine and on the wire.
 */
const variants: Array<[string, (o: DeepgramSttOptions) => SttStream]> = [
  ['on the calling thread', (o) => new DeepgramStt(o)],
  ['in the STT worker thread', (o) => new ThreadedDeepgramStt(o)],
];

describe.each(variants)('Deepgram live STT against the fake, %s', (_name, make) => {
function open(opts: Partial<DeepgramSttOptions> = {}) {
  const stt = make({ baseUrl: fake!.url, apiKey: 'dg-test', format: MULAW_8K, language: 'en-US', endpointingMs: 200, ...opts });
  const events: SttEvent[] = [];
  stt.onEvent((e) => events.push(e));
  return { stt, events };
}

  it('connects with the phone query and token auth, and passes μ-law through', async () => {
    fake = await startFakeDeepgram({ transcripts: ['i need to reschedule'] });
    const { stt, events } = open();
    await stt.connect(new AbortController().signal);
    const c = fake.connections[0]!;
    expect(c.headers.authorization).toBe('Token dg-test');
    expect(c.query).toMatchObject({ encoding: 'mulaw', sample_rate: '8000', channels: '1', interim_results: 'true', endpointing: '200', utterance_end_ms: '1000', vad_events: 'true', model: 'nova-3' });
    let n = 0;
    for (let i = 0; i < 40; i++) stt.write(frame(true, n++));
    for (let i = 0; i < 20; i++) stt.write(frame(false, n++));
    await expect.poll(() => events.find((e) => e.type === 'final')).toEqual({ type: 'final', text: 'i need to reschedule', speechFinal: true, fromFinalize: false });
    expect(events.some((e) => e.type === 'speech_started')).toBe(true);
    expect(events.some((e) => e.type === 'partial')).toBe(true);
    expect(c.audioBytes).toBe(60 * 160);
    await stt.close();
    expect(c.controls).toContain('CloseStream');
    await expect.poll(() => events.at(-1)?.type).toBe('closed');
  });

  it('sends Finalize when asked and gets a from_finalize final', async () => {
    fake = await startFakeDeepgram({ transcripts: ['yes please'] });
    const { stt, events } = open({ endpointingMs: 5000 });
    await stt.connect(new AbortController().signal);
    for (let i = 0; i < 30; i++) stt.write(frame(true, i));
    stt.finalize();
    await expect.poll(() => events.find((e) => e.type === 'final')).toMatchObject({ text: 'yes please', fromFinalize: true });
    expect(fake.connections[0]!.controls).toEqual(['Finalize']);
    await stt.close();
  });

  it('holds silence that can wait (up to 100 ms) and sends it, in order, before speech and before Finalize', async () => {
    fake = await startFakeDeepgram({ transcripts: ['hello'] });
    const { stt } = open({ endpointingMs: 5000 });
    await stt.connect(new AbortController().signal);
    const sent: Buffer[] = [];
    const write = (f: Buffer, canWait: boolean) => {
      sent.push(Buffer.from(f));
      stt.write(f, canWait);
    };
    let n = 0;
    for (let i = 0; i < 7; i++) write(frame(false, n++), true); // five as one message, two held
    for (let i = 0; i < 3; i++) write(frame(true, n++), false); // the first takes the two along
    write(frame(false, n++), true);
    stt.finalize(); // the held frame goes first
    const c = fake.connections[0]!;
    await expect.poll(() => c.received.length).toBe(6);
    expect(c.received).toEqual([800, 480, 160, 160, 160, 'Finalize']);
    expect(c.audioBytes).toBe(Buffer.concat(sent).length);
    await stt.close();
  });

  it('sends KeepAlive while no audio flows, so the idle timeout never fires', async () => {
    fake = await startFakeDeepgram({ idleTimeoutMs: 300 });
    const { stt } = open({ keepAliveMs: 50 });
    await stt.connect(new AbortController().signal);
    await expect.poll(() => fake!.connections[0]!.controls.filter((c) => c === 'KeepAlive').length, { timeout: 3000 }).toBeGreaterThanOrEqual(8);
    expect(fake.connections[0]!.closed).toBe(false);
    await stt.close();
  });

  it('the fake closes a socket that gets neither audio nor KeepAlive (NET-0001)', async () => {
    fake = await startFakeDeepgram({ idleTimeoutMs: 100 });
    const { stt, events } = open({ keepAliveMs: 60_000, reconnectAttempts: 0 });
    await stt.connect(new AbortController().signal);
    await expect.poll(() => fake!.connections[0]!.closeCode).toBe(1011);
    await expect.poll(() => events.some((e) => e.type === 'error')).toBe(true);
    await stt.close();
  });

  it('rejects with a ProviderError when the key is missing (not retryable) or the handshake is refused', async () => {
    fake = await startFakeDeepgram({ refuseStatus: 503 });
    const a = open({ apiKey: undefined });
    await expect(a.stt.connect(new AbortController().signal)).rejects.toMatchObject({ provider: 'deepgram', retryable: false });
    const b = open({ reconnectAttempts: 0, connectTimeoutMs: 2000 });
    await expect(b.stt.connect(new AbortController().signal)).rejects.toMatchObject({ provider: 'deepgram' });
    await b.stt.close();
  });

  it('reconnects after the provider drops the socket', async () => {
    fake = await startFakeDeepgram();
    const { stt, events } = open();
    await stt.connect(new AbortController().signal);
    fake.dropAll();
    await expect.poll(() => events.some((e) => e.type === 'reconnected'), { timeout: 5000 }).toBe(true);
    expect(fake.connections.length).toBe(2);
    await stt.close();
  });

  it('rejects connect with the abort reason when the call goes away during the handshake', async () => {
    fake = await startFakeDeepgram();
    const { stt } = open();
    const ac = new AbortController();
    const p = stt.connect(ac.signal);
    ac.abort(new Error('call ended'));
    await expect(p).rejects.toThrow('call ended');
    await stt.close();
  });

  it('closes a stream that never connected at once, with a closed event', async () => {
    fake = await startFakeDeepgram();
    const { stt, events } = open();
    await stt.close();
    expect(events.at(-1)).toEqual({ type: 'closed', reason: 'never opened' });
    expect(fake.connections.length).toBe(0);
  });
});

describe('Deepgram STT worker thread', () => {
  it('when the worker dies, its streams error and close, a pending connect rejects, and the next stream gets a new worker', async () => {
    fake = await startFakeDeepgram({ transcripts: ['still here'] });
    const thread = new SttThread();
    const opts = { baseUrl: fake.url, apiKey: 'dg-test', format: MULAW_8K, language: 'en-US', endpointingMs: 200 };
    const a = new ThreadedDeepgramStt(opts, thread);
    const aEvents: SttEvent[] = [];
    a.onEvent((e) => aEvents.push(e));
    await a.connect(new AbortController().signal);
    const b = new ThreadedDeepgramStt(opts, thread);
    const pending = b.connect(new AbortController().signal);
    await thread.stop();
    await expect(pending).rejects.toMatchObject({ provider: 'deepgram', retryable: true });
    expect(aEvents.map((e) => e.type)).toEqual(['error', 'closed']);
    await a.close(); // already over: returns at once

    const c = new ThreadedDeepgramStt(opts, thread);
    const cEvents: SttEvent[] = [];
    c.onEvent((e) => cEvents.push(e));
    await c.connect(new AbortController().signal);
    for (let i = 0; i < 40; i++) c.write(frame(true, i));
    for (let i = 40; i < 60; i++) c.write(frame(false, i));
    await expect.poll(() => cEvents.find((e) => e.type === 'final')).toMatchObject({ text: 'still here' });
    await c.close();
    await thread.stop();
  });
});
