/**
 * `GET /web/media` over a real socket: admission by token (reuse, expiry, forgery and absence
 * close at once with 1008 and a reason, counted), caller audio and controls reaching the
 * session, barge-in `clear` as JSON, call events relayed in the SSE shapes, and every way the
 * call ends closing the socket with 1000 after `call.ended`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWebToken } from '../../src/transport/web/index.js';
import { waitFor } from '../api/calls-fixtures.js';
import { WebClient, createWebCall, malformedCount, startWebGateway, webAgent, type WebGateway } from './web-fixtures.js';

let g: WebGateway;
const clients: WebClient[] = [];
beforeEach(async () => {
  g = await startWebGateway();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await g.close();
});

async function open(url: string): Promise<WebClient> {
  const c = await WebClient.open(url);
  clients.push(c);
  return c;
}

async function liveCall() {
  const agent = await webAgent(g.t);
  const created = await createWebCall(g.t, agent.id);
  const client = await open(created.websocketUrl);
  await waitFor(() => g.t.ctx.calls.get(created.callId)?.live === true, 'session attached');
  return { created, client, engine: g.engines.get(created.callId)! };
}

const frame = (ms: number, value = 1000) => {
  const b = Buffer.alloc(ms * 32);
  for (let i = 0; i < b.length; i += 2) b.writeInt16LE(value, i);
  return b;
};

describe('web media socket: admission', () => {
  it('admits the token once: the call goes in-progress and the page gets call.status', async () => {
    const { created, client } = await liveCall();
    await waitFor(() => client.events('call.status').length > 0, 'call.status relayed');
    expect(client.events('call.status')[0]).toMatchObject({ type: 'call.status', seq: expect.any(Number), data: { status: 'in-progress', previousStatus: 'queued' } });
    await waitFor(async () => (await g.t.ctx.store.getCall(created.callId))!.status === 'in-progress', 'in-progress');
  });

  it('refuses a second connection with the same token (1008 token_reused), leaving the first alone', async () => {
    const { created, client } = await liveCall();
    const before = await malformedCount(g.t, 'token_reused');
    const second = await open(created.websocketUrl);
    const closed = await second.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^token_reused: /);
    expect(await malformedCount(g.t, 'token_reused')).toBe(before + 1);
    expect(g.t.ctx.calls.get(created.callId)?.live).toBe(true);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it('refuses expired, forged, foreign-shaped and missing tokens with 1008 and a reason, counted', async () => {
    const agent = await webAgent(g.t);
    const created = await createWebCall(g.t, agent.id);
    const key = g.t.ctx.secrets.tokenKey;
    const base = `${g.t.wsUrl}/web/media`;
    const expired = createWebToken(key, { callId: created.callId, expiresAt: new Date(Date.now() - 1000) });
    const sig = created.token.slice(-43);
    const forged = created.token.slice(0, -43) + (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    const otherKey = createWebToken(Buffer.alloc(32, 7), { callId: created.callId, expiresAt: new Date(Date.now() + 60_000) });
    const cases: Array<[string, string, RegExp]> = [
      [`${base}?token=${encodeURIComponent(expired)}`, 'token_expired', /^token_expired: .*expired/],
      [`${base}?token=${encodeURIComponent(forged)}`, 'token_invalid', /^token_invalid: token bad signature/],
      [`${base}?token=${encodeURIComponent(otherKey)}`, 'token_invalid', /^token_invalid: token bad signature/],
      [`${base}?token=v1.${created.callId}.9999999999.${'a'.repeat(43)}`, 'token_invalid', /^token_invalid: token malformed/],
      [base, 'token_missing', /^token_missing: /],
    ];
    for (const [url, reason, message] of cases) {
      const before = await malformedCount(g.t, reason);
      const c = await open(url);
      const closed = await c.closed;
      expect(closed.code, url).toBe(1008);
      expect(closed.reason, url).toMatch(message);
      expect(await malformedCount(g.t, reason)).toBe(before + 1);
    }
    // None of them touched the call: the real token still works.
    await open(created.websocketUrl);
    await waitFor(() => g.t.ctx.calls.get(created.callId)?.live === true, 'attached with the real token');
  });

  it('refuses with 1013 while draining', async () => {
    const agent = await webAgent(g.t);
    const created = await createWebCall(g.t, agent.id);
    g.t.ctx.draining = true;
    const c = await open(created.websocketUrl);
    expect(await c.closed).toEqual({ code: 1013, reason: 'gateway draining' });
    g.t.ctx.draining = false;
  });
});

describe('web media socket: in the call', () => {
  it('cuts caller audio into 20 ms frames; odd-length and unknown messages are counted and dropped, the call goes on', async () => {
    const { created, client, engine } = await liveCall();
    const oddBefore = await malformedCount(g.t, 'bad_payload');
    const unknownBefore = await malformedCount(g.t, 'unknown_event');
    const jsonBefore = await malformedCount(g.t, 'invalid_json');
    client.send(frame(20));
    client.send(frame(40));
    client.send(Buffer.alloc(641));
    client.send(JSON.stringify({ type: 'hello' }));
    client.send('not json');
    client.send(JSON.stringify({ type: 'dtmf', digit: '7' }));
    await waitFor(() => engine.digits.length === 1, 'dtmf');
    expect(engine.digits).toEqual(['7']);
    expect(engine.audioFrames.map((f) => f.length)).toEqual([640, 640, 640]);
    expect(await malformedCount(g.t, 'bad_payload')).toBe(oddBefore + 1);
    expect(await malformedCount(g.t, 'unknown_event')).toBe(unknownBefore + 1);
    expect(await malformedCount(g.t, 'invalid_json')).toBe(jsonBefore + 1);
    expect(g.t.ctx.calls.get(created.callId)?.live).toBe(true);
  });

  it('plays agent audio as binary PCM16 and sends {"type":"clear"} on barge-in', async () => {
    const { engine, client } = await liveCall();
    const playback = engine.host.playback;
    playback.enqueue('u1', frame(1000, 500));
    await waitFor(() => client.binary.length >= 2, 'agent audio');
    // Whole 20 ms frames (640 bytes), up to 100 ms per message.
    expect(client.binary.every((b) => b.length % 640 === 0 && b.length <= 3200)).toBe(true);
    playback.clear();
    await waitFor(() => client.events('clear').length === 1, 'clear');
    const sent = client.binary.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(client.binary.length).toBe(sent); // nothing after the clear
  });

  it('{"type":"end"} ends the call as caller_hangup; call.ended reaches the page before the 1000 close', async () => {
    const { created, client, engine } = await liveCall();
    client.send(frame(200));
    client.send(JSON.stringify({ type: 'end' }));
    const closed = await client.closed;
    expect(closed).toEqual({ code: 1000, reason: 'caller_hangup' });
    expect(client.events('call.ended')).toEqual([expect.objectContaining({ data: expect.objectContaining({ reason: 'caller_hangup', status: 'completed' }) })]);
    const call = (await g.t.ctx.store.getCall(created.callId))!;
    expect(call).toMatchObject({ status: 'completed', endReason: 'caller_hangup', recordingAvailable: true });
    expect(engine.closed).toBe(true);
    // Frame counters are flushed on close: 200 ms of caller audio is ten 20 ms frames.
    const framesIn = (await g.t.ctx.metrics.framesIn.get()).values.find((v) => v.labels['transport'] === 'web');
    expect(framesIn?.value).toBe(10);
  });

  it('POST /v1/calls/:id/end closes the socket, and the page hears call.ended with api_end', async () => {
    const { created, client } = await liveCall();
    const res = await g.t.api('POST', `/v1/calls/${created.callId}/end`);
    expect(res.body).toMatchObject({ status: 'completed', endReason: 'api_end' });
    const closed = await client.closed;
    expect(closed.code).toBe(1000);
    await waitFor(() => client.events('call.ended').length === 1, 'call.ended');
    expect(client.events('call.ended')[0]).toMatchObject({ data: { reason: 'api_end', status: 'completed' } });
  });

  it('relays transcript events in the SSE shapes, once each, in seq order', async () => {
    const { created, client, engine } = await liveCall();
    engine.host.partial('user', 'I need');
    await engine.host.transcript({ role: 'user', text: 'I need a table', startMs: 0, endMs: 900 });
    await engine.host.transcript({ role: 'agent', text: 'For how', startMs: 1000, endMs: 1400, interrupted: true });
    await waitFor(() => client.events('agent.interrupted').length === 1, 'agent.interrupted');
    expect(client.events('transcript.partial')[0]).toMatchObject({ data: { role: 'user', text: 'I need' } });
    expect(client.events('transcript.final').map((e) => e['data'])).toEqual([
      { role: 'user', text: 'I need a table', startMs: 0, endMs: 900 },
      { role: 'agent', text: 'For how', startMs: 1000, endMs: 1400, interrupted: true },
    ]);
    const stored = await g.t.ctx.store.listCallEvents(created.callId, 0);
    const seqs = client.json.filter((m) => m['type'] !== 'transcript.partial').map((m) => m['seq']);
    expect(seqs).toEqual(stored.map((e) => e.seq));
  });

  it('a browser that goes away ends the call as caller_hangup', async () => {
    const { created, client } = await liveCall();
    client.ws.terminate();
    await waitFor(async () => (await g.t.ctx.store.getCall(created.callId))!.status === 'completed', 'completed');
    expect((await g.t.ctx.store.getCall(created.callId))!.endReason).toBe('caller_hangup');
  });
});
