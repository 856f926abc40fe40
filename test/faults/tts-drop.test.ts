/**
 * Issue 15, provider faults: ElevenLabs stream-input closing mid-reply (1012 "service restart",
 * or a TCP drop) behind the WebSocket fault proxy, on a pipeline call. The unspoken rest of the
 * reply is voiced on a fresh socket from the word the cut fell in; the transcript keeps the whole
 * reply; the call goes on.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../fakes/elevenlabs.js';
import { bootEngine, makeHost, say, type TestHost } from '../engine/pipeline-host.js';
import { startWsFaultProxy, type WsFaultProxy } from './ws-fault-proxy.js';
import { AUDIO_STALL_MS } from '../../src/providers/tts/fallback.js';

const poll = <T>(fn: () => T) => expect.poll(fn, { timeout: 10_000, interval: 20 });
const ANSWER = 'One two three four five six. Seven eight ten eleven.';

let dg: FakeDeepgram;
let chat: FakeOpenAiChat;
let el: FakeElevenLabs;
let proxy: WsFaultProxy;
let engine: Engine | undefined;

beforeEach(async () => {
  [dg, chat, el] = await Promise.all([startFakeDeepgram({ transcripts: ['count for me', 'thanks'] }), startFakeOpenAiChat(), startFakeElevenLabs({ msPerChar: 5 })]);
  chat.respond(() => ({ tokens: ['One two three four five six. ', 'Seven eight ten eleven.'] }));
  proxy = await startWsFaultProxy(el.url);
});
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await Promise.all([dg.close(), chat.close(), el.close(), proxy.close()]);
});

function host(): TestHost {
  return makeHost(
    { DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_URL: dg.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: chat.url, ELEVENLABS_API_KEY: 'el-test', ELEVENLABS_BASE_URL: proxy.httpUrl },
    { firstMessage: null, pronunciations: {} },
  );
}

/** Cuts the first stream-input socket after `audioMessages` audio messages (4 characters each in the fake). */
function cutFirstSocketAfter(audioMessages: number, cut: (c: WsFaultProxy['connections'][number]) => void): void {
  proxy.onServerMessage = (conn, data) => {
    if (conn !== proxy.connections[0]) return;
    if (!String(data).includes('"audio":"')) return;
    if (conn.serverMessages >= audioMessages) {
      cut(conn);
      return false;
    }
  };
}

describe('ElevenLabs stream-input lost mid-reply', () => {
  for (const [name, cut] of [
    ['closed with 1012', (c: WsFaultProxy['connections'][number]) => c.closeClient(1012, 'service restart')],
    ['dropped without a close frame', (c: WsFaultProxy['connections'][number]) => c.drop()],
  ] as const) {
    it(`${name}: the rest is spoken on a new socket, the transcript has the whole reply, the call goes on`, async () => {
      // 3 messages × 4 characters = "One two thre": the cut falls inside "three".
      cutFirstSocketAfter(3, cut);
      const h = host();
      engine = await bootEngine(h);
      await say(engine, 400, 500);
      await poll(() => h.playback.finished.size).toBe(1);
      expect(proxy.connections.length).toBeGreaterThanOrEqual(2);
      expect(proxy.connections[0]!.faulted).not.toBeNull();
      // The half-voiced word is said again, whole; nothing before it is repeated.
      expect(el.ws[1]!.text.startsWith('three four five six.')).toBe(true);
      expect(el.ws[1]!.text).toContain('Seven eight ten eleven.');
      h.playback.play();
      await poll(() => h.transcripts.filter((t) => t.role === 'agent').map((t) => t.text)).toEqual([ANSWER]);
      expect(h.notes.some((n) => /elevenlabs: .*mid-reply; the unspoken \d+ characters went to a new stream/.test(n))).toBe(true);
      expect((await h.metrics.providerReconnects.get()).values[0]?.value).toBe(1);
      expect(h.ended).toEqual([]);
      // The next turn is answered as usual.
      await say(engine, 400, 500);
      await poll(() => chat.requests.length).toBe(2);
      expect(h.ended).toEqual([]);
    });
  }

  it('a provider that keeps dropping fails the reply after two resumes: the call ends, what the caller heard stays in the transcript', async () => {
    let failing = false;
    let firstAudio = 0;
    proxy.onServerMessage = (conn, data) => {
      const audio = String(data).includes('"audio":"');
      // The first socket: 3 audio messages (12 characters) out, then it stalls.
      if (conn === proxy.connections[0]) {
        if (audio && ++firstAudio > 3) conn.stall();
        return;
      }
      if (!audio) return;
      // Every fresh socket voices one message and dies.
      if (failing && conn.serverMessages >= 1) {
        conn.drop();
        return false;
      }
    };
    const h = host();
    engine = await bootEngine(h);
    await say(engine, 400, 500);
    await poll(() => (h.playback.audio.get('u1') ?? 0) >= 12 * 5 * 8).toBe(true);
    h.playback.play(40); // "One two " heard (8 of the 12 characters' 60 ms)
    failing = true;
    proxy.connections[0]!.drop();
    await poll(() => h.ended).toEqual(['error:elevenlabs']);
    expect(proxy.connections).toHaveLength(3); // the first socket and two resumes
    expect(h.transcripts.filter((t) => t.role === 'agent').map((t) => t.text)).toEqual(['One two']);
  });

  it('a socket that goes quiet mid-reply (open, no audio) is treated as a drop after AUDIO_STALL_MS: the rest is spoken on a new one', async () => {
    let audio = 0;
    proxy.onServerMessage = (conn, data) => {
      if (conn === proxy.connections[0] && String(data).includes('"audio":"') && ++audio > 3) conn.stall();
    };
    const h = host();
    engine = await bootEngine(h);
    await say(engine, 400, 500);
    await poll(() => h.playback.finished.size).toBe(1);
    expect(el.ws[1]!.text.startsWith('three four five six.')).toBe(true);
    h.playback.play();
    await poll(() => h.transcripts.filter((t) => t.role === 'agent').map((t) => t.text)).toEqual([ANSWER]);
    expect(h.notes.some((n) => n.includes(`no audio for ${AUDIO_STALL_MS} ms mid-reply`))).toBe(true);
    expect(h.ended).toEqual([]);
  });
});

