/**
 * Cartesia's TTS WebSocket on the wire (Cartesia API reference "TTS WebSocket", "Contexts",
 * "Context flushing", "Buffering"): the fake behaves as documented when spoken to with a raw
 * `ws` client, and the gateway's messages stay inside what the real API takes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CartesiaTts } from '../../src/providers/tts/cartesia.js';
import { MULAW_8K } from '../../src/transport/types.js';
import { startFakeCartesia, type FakeCartesia } from '../fakes/cartesia.js';

let fake: FakeCartesia | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const VOICE = 'a0e99841-438c-4a64-b679-ae501e7d6091';
const base = {
  model_id: 'sonic-3.5',
  voice: { mode: 'id', id: VOICE },
  output_format: { container: 'raw', encoding: 'pcm_mulaw', sample_rate: 8000 },
  language: 'en',
  max_buffer_delay_ms: 0,
};

type Msg = Record<string, unknown> & { type?: string; context_id?: string };

async function open(f: FakeCartesia, query = '?cartesia_version=2026-08-14', headers: Record<string, string> = { authorization: 'Bearer sk_car_test' }) {
  const ws = new WebSocket(`${f.url.replace('http', 'ws')}/tts/websocket${query}`, { headers });
  const got: Msg[] = [];
  ws.on('message', (d) => got.push(JSON.parse(d.toString()) as Msg));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const until = async (pred: (m: Msg) => boolean) => {
    const end = Date.now() + 3000;
    while (!got.some(pred)) {
      if (Date.now() > end) throw new Error(`no such message in ${JSON.stringify(got.map((m) => m.type))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return got.find(pred)!;
  };
  return { ws, got, until, send: (m: Record<string, unknown>) => ws.send(JSON.stringify(m)) };
}

function refusal(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
}

describe('Cartesia TTS WebSocket wire protocol (fake)', () => {
  it('refuses a missing or wrong key (401) and a missing version (400) at the handshake', async () => {
    fake = await startFakeCartesia();
    const url = `${fake.url.replace('http', 'ws')}/tts/websocket`;
    expect(await refusal(`${url}?cartesia_version=2026-08-14`, {})).toBe(401);
    expect(await refusal(`${url}?cartesia_version=2026-08-14`, { authorization: 'Bearer nope' })).toBe(401);
    expect(await refusal(url, { authorization: 'Bearer sk_car_test' })).toBe(400);
    // Browsers: key and version in the query.
    const q = await open(fake, '?cartesia_version=2026-08-14&api_key=sk_car_test', {});
    q.ws.close();
  });

  it('continuations on one context are one stream: chunks (base64, 206), timestamps, then done', async () => {
    fake = await startFakeCartesia({ msPerChar: 5 });
    const c = await open(fake);
    c.send({ ...base, transcript: 'Hello, ', context_id: 'ctx-1', continue: true, add_timestamps: true });
    c.send({ ...base, transcript: 'world.', context_id: 'ctx-1', continue: true, add_timestamps: true });
    c.send({ ...base, transcript: '', context_id: 'ctx-1', continue: false, add_timestamps: true });
    await c.until((m) => m.type === 'done');
    const chunks = c.got.filter((m) => m.type === 'chunk');
    expect(chunks.every((m) => m.status_code === 206 && m.done === false && m.context_id === 'ctx-1')).toBe(true);
    const bytes = chunks.reduce((n, m) => n + Buffer.from(m.data as string, 'base64').length, 0);
    expect(bytes).toBe('Hello, world.'.length * 5 * 8);
    const words = c.got.filter((m) => m.type === 'timestamps').flatMap((m) => (m.word_timestamps as { words: string[] }).words);
    expect(words).toEqual(['Hello', 'world']);
    expect(c.got.at(-1)).toMatchObject({ type: 'done', done: true, context_id: 'ctx-1' });
    c.ws.close();
  });

  it('flush answers flush_done with an incrementing flush_id, and chunks carry it', async () => {
    fake = await startFakeCartesia({ msPerChar: 2 });
    const c = await open(fake);
    // Managed buffering (max_buffer_delay_ms > 0): nothing is voiced until the flush.
    const managed = { ...base, max_buffer_delay_ms: 3000 };
    c.send({ ...managed, transcript: 'One moment', context_id: 'f', continue: true });
    await new Promise((r) => setTimeout(r, 30));
    expect(c.got.filter((m) => m.type === 'chunk')).toHaveLength(0);
    c.send({ ...managed, transcript: '', context_id: 'f', continue: true, flush: true });
    const fd = await c.until((m) => m.type === 'flush_done');
    expect(fd).toMatchObject({ flush_done: true, flush_id: 1, done: false });
    expect(c.got.filter((m) => m.type === 'chunk').every((m) => m.flush_id === 1)).toBe(true);
    c.send({ ...managed, transcript: 'please.', context_id: 'f', continue: false });
    await c.until((m) => m.type === 'done');
    expect(c.got.filter((m) => m.type === 'chunk').at(-1)!.flush_id).toBe(2);
    c.ws.close();
  });

  it('cancel drops inputs not yet started and sends no done; an ended context takes no more input', async () => {
    fake = await startFakeCartesia({ msPerChar: 5, chunkDelayMs: 5 });
    const c = await open(fake);
    c.send({ ...base, transcript: 'A fairly long first clause. ', context_id: 'x', continue: true });
    c.send({ ...base, transcript: 'A second clause never voiced. ', context_id: 'x', continue: true });
    await c.until((m) => m.type === 'chunk');
    c.send({ context_id: 'x', cancel: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(c.got.some((m) => m.type === 'done')).toBe(false);
    const ctx = fake.ws[0]!.contexts.get('x')!;
    expect(ctx.cancelled).toBe(true);
    // The generation in flight finished; the queued second clause never ran.
    expect(ctx.generations).toBe(1);
    c.send({ ...base, transcript: 'More?', context_id: 'x', continue: false });
    expect(await c.until((m) => m.type === 'error')).toMatchObject({ error_code: 'context_closed', context_id: 'x', done: true });
    c.ws.close();
  });

  it('errors name the problem: bad model, changed fields on one context, bad output format', async () => {
    fake = await startFakeCartesia({ msPerChar: 1 });
    const c = await open(fake);
    c.send({ ...base, model_id: 'sonic-9', transcript: 'Hi', context_id: 'm', continue: false });
    expect(await c.until((m) => m.context_id === 'm')).toMatchObject({ type: 'error', error_code: 'model_not_found', status_code: 400 });
    c.send({ ...base, transcript: 'Hi ', context_id: 'k', continue: true });
    c.send({ ...base, language: 'fr', transcript: 'there', context_id: 'k', continue: false });
    expect(await c.until((m) => m.type === 'error' && m.context_id === 'k')).toMatchObject({ error_code: 'invalid_request', message: expect.stringMatching(/same/) });
    c.send({ ...base, output_format: { container: 'raw', encoding: 'pcm_mulaw', sample_rate: 12345 }, transcript: 'Hi', context_id: 'o', continue: false });
    expect(await c.until((m) => m.context_id === 'o')).toMatchObject({ type: 'error', title: 'Invalid output format' });
    c.ws.close();
  });

  it('the gateway: Bearer key and Cartesia-Version on the upgrade, consistent fields per context, space-joined clauses', async () => {
    fake = await startFakeCartesia({ msPerChar: 2 });
    const tts = new CartesiaTts({ baseUrl: fake.url, apiKey: 'sk_car_test', voiceId: VOICE, format: MULAW_8K, language: 'en' });
    const s = tts.stream(new AbortController().signal);
    s.push('Sure');
    s.push('one moment.');
    s.end();
    for await (const _ of s) void _;
    const conn = fake.ws[0]!;
    expect(conn.headers.authorization).toBe('Bearer sk_car_test');
    expect(conn.headers['cartesia-version']).toBeDefined();
    expect(conn.errors).toEqual([]);
    const [ctx] = [...conn.contexts.values()];
    expect(ctx!.text).toBe('Sure one moment. ');
    tts.close();
  });
});
