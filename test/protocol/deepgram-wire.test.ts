/**
 * Deepgram live STT on the wire (PROTOCOLS.md §3; docs/protocols-audit.md): an idle socket is
 * closed the way Deepgram closes it (1011 with the NET-0001 reason in the close frame, no JSON
 * message first), and the client's control messages are JSON text frames.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DeepgramStt } from '../../src/providers/stt/deepgram.js';
import type { SttEvent } from '../../src/providers/stt/types.js';
import { MULAW_8K } from '../../src/transport/types.js';
import { NET_0001_REASON, startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';

let fake: FakeDeepgram | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('Deepgram wire protocol', () => {
  it('the fake times out an idle socket like Deepgram: close 1011 + NET-0001 reason, nothing before it', async () => {
    fake = await startFakeDeepgram({ idleTimeoutMs: 50 });
    const ws = new WebSocket(`${fake.url}/v1/listen?encoding=mulaw&sample_rate=8000`, { headers: { authorization: 'Token dg-test' } });
    const messages: string[] = [];
    ws.on('message', (m) => messages.push(m.toString()));
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    expect(closed).toEqual({ code: 1011, reason: NET_0001_REASON });
    expect(messages).toEqual([]);
  });

  it('refuses an API key sent as Bearer (Bearer is for JWTs) and takes Token', async () => {
    fake = await startFakeDeepgram();
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${fake!.url}/v1/listen`, { headers: { authorization: 'Bearer dg-test' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
  });

  it('the client sends KeepAlive / Finalize / CloseStream as JSON text frames, never binary', async () => {
    fake = await startFakeDeepgram();
    const stt = new DeepgramStt({ baseUrl: fake.url, apiKey: 'dg-test', format: MULAW_8K, language: 'en-US', keepAliveMs: 50 });
    const events: SttEvent[] = [];
    stt.onEvent((e) => events.push(e));
    await stt.connect(new AbortController().signal);
    const raw: Array<{ text: string; binary: boolean }> = [];
    fake.connections[0]!.socket.on('message', (d, binary) => raw.push({ text: binary ? '' : d.toString(), binary }));
    await expect.poll(() => raw.length).toBeGreaterThanOrEqual(2);
    stt.finalize();
    await stt.close();
    expect(raw.every((m) => !m.binary)).toBe(true);
    expect(raw.map((m) => JSON.parse(m.text).type)).toEqual(expect.arrayContaining(['KeepAlive', 'Finalize', 'CloseStream']));
    // CloseStream: Deepgram flushes, sends Metadata, then closes normally.
    await expect.poll(() => fake!.connections[0]!.closeCode).toBe(1000);
  });
});
