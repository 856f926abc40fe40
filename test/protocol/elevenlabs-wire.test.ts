/**
 * ElevenLabs stream-input on the wire (PROTOCOLS.md §4.2; docs/protocols-audit.md): the
 * gateway's URL, header and generation settings are inside the ranges the real API takes, and
 * the fake refuses values outside them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ElevenLabsWsTts } from '../../src/providers/tts/elevenlabs-ws.js';
import { MULAW_8K } from '../../src/transport/types.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';

let fake: FakeElevenLabs | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('ElevenLabs stream-input wire protocol', () => {
  it('the gateway opens with xi-api-key, ulaw_8000, an inactivity_timeout ≤ 180 and a chunk schedule in [50, 500]', async () => {
    fake = await startFakeElevenLabs({ msPerChar: 5 });
    const tts = new ElevenLabsWsTts({ baseUrl: fake.url, apiKey: 'el-test', voiceId: 'v1', format: MULAW_8K });
    const s = tts.stream(new AbortController().signal);
    s.push('Hello there.');
    s.end();
    let bytes = 0;
    for await (const c of s) bytes += c.audio.length;
    expect(bytes).toBeGreaterThan(0);
    const c = fake.ws[0]!;
    expect(c.headers['xi-api-key']).toBe('el-test');
    expect(c.query).toMatchObject({ model_id: 'eleven_flash_v2_5', output_format: 'ulaw_8000' });
    expect(Number(c.query.inactivity_timeout)).toBeLessThanOrEqual(180);
    expect(c.messages[0]).toMatchObject({ text: ' ' });
    expect(c.messages.at(-1)).toEqual({ text: '' });
    expect(c.messages.slice(1, -1).every((m) => typeof m.text === 'string' && /\s$/.test(m.text as string))).toBe(true);
    expect(c.abortedByClient).toBe(false);
  });

  it('the fake refuses a chunk schedule outside [50, 500] and an inactivity_timeout over 180', async () => {
    fake = await startFakeElevenLabs();
    const base = fake.url.replace('http', 'ws');
    const closed = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base}/v1/text-to-speech/v1/stream-input?output_format=ulaw_8000`, { headers: { 'xi-api-key': 'el-test' } });
      ws.on('open', () => ws.send(JSON.stringify({ text: ' ', generation_config: { chunk_length_schedule: [20] } })));
      ws.on('close', (code) => resolve(code));
    });
    expect(closed).toBe(1008);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base}/v1/text-to-speech/v1/stream-input?inactivity_timeout=600`, { headers: { 'xi-api-key': 'el-test' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(422);
  });
});
