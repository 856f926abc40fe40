/**
 * Issue 15, provider faults: the realtime session drops mid-response (the provider closes with
 * 1012, or the TCP connection is cut) behind the WebSocket fault proxy, in front of the realtime
 * fake. The new session gets the conversation including the part of the reply the caller heard
 * (playback marks), is told where the reply stopped, and carries on; the call record says so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRealtimeEngine } from '../../src/engine/realtime.js';
import type { Engine } from '../../src/engine/types.js';
import { startFakeRealtime, waitFor, type FakeRealtimeServer } from '../fakes/openai-realtime.js';
import { makeHost, type TestHost } from '../engine/realtime-host.js';
import { say } from '../engine/realtime-caller.js';
import { startWsFaultProxy, type WsFaultConnection, type WsFaultProxy } from './ws-fault-proxy.js';

const WAIT_MS = 10_000;
const ANSWER = 'We are open from nine to five on weekdays and from ten to two on Saturdays.';
const REST = 'and from ten to two on Saturdays.';

let fake: FakeRealtimeServer;
let proxy: WsFaultProxy;
let engine: Engine | null = null;
let host: TestHost;

beforeEach(async () => {
  fake = await startFakeRealtime({
    // The first session answers the caller at length; the second one carries on.
    responder: (ctx) => {
      if (ctx.instructions) return { transcript: /"([^"]+)"/.exec(ctx.instructions)![1]! };
      return { transcript: ctx.connection === fake.connections[0] ? ANSWER : REST };
    },
  });
  proxy = await startWsFaultProxy(fake.url);
});
afterEach(async () => {
  await engine?.close();
  engine = null;
  await Promise.all([fake.close(), proxy.close()]);
});

/** Cuts the first session after `deltas` audio deltas of the answer (its second response when there is a greeting). */
function cutAnswerAfter(deltas: number, cut: (c: WsFaultConnection) => void, greeting = true): void {
  let seen = 0;
  proxy.onServerMessage = (conn, data) => {
    if (conn !== proxy.connections[0]) return;
    const e = JSON.parse(String(data)) as { type: string; response_id?: string };
    if (e.type !== 'response.output_audio.delta' || (greeting && e.response_id === firstResponseId(conn))) return;
    if (++seen > deltas) {
      cut(conn);
      return false;
    }
  };
}
const firstResponseId = (_c: WsFaultConnection): string | undefined =>
  (fake.connections[0]?.sent.find((e) => e['type'] === 'response.created')?.['response'] as { id?: string } | undefined)?.id;

describe('realtime session lost mid-response', () => {
  for (const [name, cut] of [
    ['closed with 1012', (c: WsFaultConnection) => c.closeClient(1012, 'service restart')],
    ['dropped without a close frame', (c: WsFaultConnection) => c.drop()],
  ] as const) {
    it(`${name}: reopened with what the caller heard, told where it stopped, and it carries on`, async () => {
      cutAnswerAfter(10, cut);
      host = makeHost({ realtimeUrl: proxy.wsUrl, apiKey: fake.apiKey, variables: { name: 'Sam' } });
      engine = createRealtimeEngine(host, { reconnectBackoffMs: [0, 50, 100] });
      await engine.prepare();
      await engine.start();
      await waitFor(() => host.transcripts.length === 1, WAIT_MS, 'greeting');
      fake.userTranscripts.push('When are you open?');
      say(engine, host.inputFormat, 400, 600);

      await waitFor(() => fake.connections.length === 2 && fake.connections[1]!.eventsOf('response.create').length === 1, WAIT_MS, 'a response asked of the new session');
      const second = fake.connections[1]!;
      const items = second.eventsOf('conversation.item.create').map((e) => [e.item.role, e.item.content[0].text as string]);
      const agentSaid = items.filter(([role]) => role === 'assistant').map(([, text]) => text);
      expect(agentSaid[0]).toBe('Hello Sam!');
      const partial = agentSaid[1]!;
      // What the caller heard of the cut answer: a real part of it, not all of it.
      expect(partial.length).toBeGreaterThan(0);
      expect(ANSWER.startsWith(partial)).toBe(true);
      expect(partial.length).toBeLessThan(ANSWER.length);
      expect(items.at(-1)).toEqual(['system', expect.stringContaining(`heard your last reply only up to: "${partial}"`)]);
      // The create comes after the conversation is restored.
      const order = second.received.map((e) => e['type']).filter((t) => t === 'conversation.item.create' || t === 'response.create');
      expect(order.at(-1)).toBe('response.create');

      await waitFor(() => host.transcripts.filter((t) => t.role === 'agent').length === 3, WAIT_MS, 'the continuation');
      expect(host.transcripts.filter((t) => t.role === 'agent').map((t) => t.text)).toEqual(['Hello Sam!', partial, REST]);
      expect(host.notes.some((n) => /dropped mid-response; resumed on the new session after the \d+ words the caller heard/.test(n))).toBe(true);
      expect(host.ended).toEqual([]);
    });
  }

  it('marks say the caller heard less than had arrived: only that part is replayed', async () => {
    cutAnswerAfter(20, (c) => c.drop(), false);
    host = makeHost({ realtimeUrl: proxy.wsUrl, apiKey: fake.apiKey, agent: { firstMessage: null } });
    host.playback.autoPlay = false; // marks are the test's: the final one of the cut answer never comes
    engine = createRealtimeEngine(host, { reconnectBackoffMs: [0, 50, 100] });
    await engine.prepare();
    await engine.start();
    fake.userTranscripts.push('When are you open?');
    say(engine, host.inputFormat, 400, 600);
    const answer = await waitFor(() => [...host.playback.utterances.values()].find((u) => u.finished), WAIT_MS, 'the cut answer handed to playback');
    // 2 s had arrived (20 deltas of 100 ms); the caller's marks reached 900 ms.
    host.playback.hear(answer.id, 900);
    await waitFor(() => fake.connections[1]?.eventsOf('response.create').length === 1, WAIT_MS, 'the resume');
    const said = fake.connections[1]!.eventsOf('conversation.item.create').filter((e) => e.item.role === 'assistant').map((e) => e.item.content[0].text as string);
    // 900 of 2000 ms of a 15-word answer whose transcript arrives with its audio: the first 3 words.
    expect(said).toEqual(['We are open']);
    expect(host.transcripts.find((t) => t.role === 'agent')?.text).toBe('We are open');
  });

  it('a drop before any audio of the answer: the new session answers afresh', async () => {
    host = makeHost({ realtimeUrl: proxy.wsUrl, apiKey: fake.apiKey, agent: { firstMessage: null } });
    proxy.onServerMessage = (conn, data) => {
      if (conn !== proxy.connections[0]) return;
      // The server's VAD has started the answer (`response.created` went through); nothing of it is out yet.
      if ((JSON.parse(String(data)) as { type: string }).type === 'response.output_audio_transcript.delta') {
        conn.closeClient(1012, 'service restart');
        return false;
      }
    };
    engine = createRealtimeEngine(host, { reconnectBackoffMs: [0, 50, 100] });
    await engine.prepare();
    await engine.start();
    fake.userTranscripts.push('When are you open?');
    say(engine, host.inputFormat, 400, 600);
    await waitFor(() => host.transcripts.find((t) => t.role === 'agent'), WAIT_MS, 'an answer from the new session');
    expect(fake.connections).toHaveLength(2);
    expect(fake.connections[1]!.eventsOf('response.create')).toHaveLength(1);
    expect(host.notes.some((n) => n.includes('before the caller heard any of it'))).toBe(true);
    expect(host.ended).toEqual([]);
  });
});
