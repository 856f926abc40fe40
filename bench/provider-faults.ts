/**
 * What each provider fault costs a live call (issue 15), on the engines against the fakes
 * behind the fault proxies (test/faults/), with the default limits (LLM_FIRST_TOKEN_TIMEOUT_MS
 * and LLM_CHUNK_TIMEOUT_MS 3000). Per fault: the caller's silence, on a simulated real-time
 * playout of the audio as it reached playback (μ-law, 8 bytes/ms: the caller hears each chunk
 * once everything before it has played), and the words lost or repeated.
 *
 *   node --import tsx bench/provider-faults.ts [--runs 3]
 *
 * Pipeline faults: silence = the longest gap in the caller's audio from the end of their turn to
 * the end of the reply (the first gap included: it is the reply's own start). The fakes answer
 * at fixed speeds (LLM tokens at once, TTS first byte 0 ms, 65 ms of speech per character), so
 * the figures are the fault's cost plus the fakes' (small) own.
 * Realtime drop: from the provider's socket dying to the continuation's first audio, with the
 * cut reply's tail counted as played at once (an upper bound: a real tail hides the reconnect).
 */
import { parseArgs } from 'node:util';
import { startFakeDeepgram } from '../test/fakes/deepgram.js';
import { startFakeOpenAiChat, type ChatScript } from '../test/fakes/openai-chat.js';
import { startFakeElevenLabs } from '../test/fakes/elevenlabs.js';
import { startFakeRealtime } from '../test/fakes/openai-realtime.js';
import { bootEngine, makeHost, say } from '../test/engine/pipeline-host.js';
import { makeHost as makeRealtimeHost } from '../test/engine/realtime-host.js';
import { say as sayRealtime } from '../test/engine/realtime-caller.js';
import { startHttpFaultProxy, type HttpFault } from '../test/faults/http-fault-proxy.js';
import { startWsFaultProxy, type WsFaultConnection } from '../test/faults/ws-fault-proxy.js';
import { createRealtimeEngine } from '../src/engine/realtime.js';
import { summarize } from './lib/stats.js';
import { writeResults } from './lib/results.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);
const MS_PER_CHAR = 65; // ~15 characters per second of speech (pipeline-utterance.ts estimate)

interface Run {
  silenceMs: number;
  wordsLost: number;
  wordsRepeated: number;
}

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('bench scenario timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

/** One pipeline call: a caller turn, an answer through the faults; the caller's longest silence. */
async function pipelineRun(opts: { script: ChatScript; http?: (i: number) => HttpFault; ttsCut?: (c: WsFaultConnection) => void; expected: string }): Promise<Run> {
  const [dg, chat, el] = await Promise.all([startFakeDeepgram({ transcripts: ['when are you open'] }), startFakeOpenAiChat(), startFakeElevenLabs({ msPerChar: MS_PER_CHAR })]);
  chat.respond(() => opts.script);
  const http = await startHttpFaultProxy(chat.url);
  if (opts.http) http.fault(opts.http);
  const ws = await startWsFaultProxy(el.url);
  let audioMessages = 0;
  if (opts.ttsCut) {
    ws.onServerMessage = (conn, data) => {
      if (conn !== ws.connections[0] || !String(data).includes('"audio":"')) return;
      if (++audioMessages > 6) {
        opts.ttsCut!(conn);
        return false;
      }
    };
  }
  const h = makeHost(
    { DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_URL: dg.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: http.url, ELEVENLABS_API_KEY: 'el-test', ELEVENLABS_BASE_URL: ws.httpUrl },
    { firstMessage: null, pronunciations: {} },
  );
  // Real-time playout of what reaches playback.
  const arrivals: Array<[number, number]> = [];
  const enqueue = h.playback.enqueue.bind(h.playback);
  h.playback.enqueue = (id, audio) => {
    arrivals.push([Date.now(), audio.length / 8]);
    enqueue(id, audio);
  };
  const engine = await bootEngine(h);
  try {
    await say(engine, 400, 500);
    await until(() => h.transcripts.some((t) => t.role === 'user'));
    const turnEnd = Date.now();
    await until(() => h.playback.finished.size === 1);
    h.playback.play();
    await until(() => h.transcripts.some((t) => t.role === 'agent') || h.ended.length > 0);
    let playEnd = turnEnd;
    let silence = 0;
    for (const [at, ms] of arrivals) {
      if (at > playEnd) {
        silence = Math.max(silence, at - playEnd);
        playEnd = at;
      }
      playEnd += ms;
    }
    const said = h.transcripts.filter((t) => t.role === 'agent').map((t) => t.text).join(' ');
    const expected = words(opts.expected);
    const got = words(said);
    const lost = expected.filter((w) => !got.includes(w)).length;
    // Said twice: what the first socket had voiced (the fake voices 4 characters per audio
    // message), plus all the next socket got, beyond the reply's own words.
    let repeated = 0;
    if (opts.ttsCut && el.ws.length > 1) {
      const voicedFirst = words(el.ws[0]!.text.slice(0, 6 * 4)).length;
      repeated = Math.max(0, voicedFirst + words(el.ws.slice(1).map((c) => c.text).join(' ')).length - got.length);
    }
    return { silenceMs: silence, wordsLost: lost, wordsRepeated: repeated };
  } finally {
    await engine.close();
    await Promise.all([dg.close(), chat.close(), el.close(), http.close(), ws.close()]);
  }
}

async function realtimeRun(): Promise<Run> {
  const answer = 'We are open from nine to five on weekdays and from ten to two on Saturdays.';
  // The second session says the rest of the answer after what it was told the caller heard: a
  // model that follows the note. Words lost then measure the plumbing, not the model.
  const fake = await startFakeRealtime({
    responder: (ctx) => {
      if (ctx.connection === fake.connections[0]) return { transcript: answer };
      const note = ctx.connection.eventsOf('conversation.item.create').map((e) => String(e.item.content[0].text)).find((t) => t.includes('only up to: "'));
      const heard = note ? /only up to: "([^"]*)"/.exec(note)![1]! : '';
      return { transcript: answer.slice(heard.length).trim() };
    },
  });
  const proxy = await startWsFaultProxy(fake.url);
  let droppedAt = 0;
  let deltas = 0;
  proxy.onServerMessage = (conn, data) => {
    if (conn !== proxy.connections[0] || !String(data).includes('response.output_audio.delta')) return;
    if (++deltas > 10) {
      droppedAt = Date.now();
      conn.closeClient(1012, 'service restart');
      return false;
    }
  };
  const host = makeRealtimeHost({ realtimeUrl: proxy.wsUrl, apiKey: fake.apiKey, agent: { firstMessage: null } });
  let firstAfter = 0;
  const enqueue = host.playback.enqueue.bind(host.playback);
  host.playback.enqueue = (id, audio) => {
    if (droppedAt && !firstAfter && host.playback.utterances.size >= 1 && !host.playback.utterances.has(id)) firstAfter = Date.now();
    enqueue(id, audio);
  };
  const engine = createRealtimeEngine(host);
  try {
    await engine.prepare();
    await engine.start();
    fake.userTranscripts.push('When are you open?');
    sayRealtime(engine, host.inputFormat, 400, 600);
    await until(() => host.transcripts.filter((t) => t.role === 'agent').length === 2);
    const said = host.transcripts.filter((t) => t.role === 'agent').map((t) => t.text);
    const got = words(said.join(' '));
    const lost = words(answer).filter((w) => !got.includes(w)).length;
    return { silenceMs: firstAfter - droppedAt, wordsLost: lost, wordsRepeated: Math.max(0, got.length - words(answer).length) };
  } finally {
    await engine.close();
    await Promise.all([fake.close(), proxy.close()]);
  }
}

const answer: ChatScript = { tokens: ['We open at nine. ', 'We close ', 'at five.'] };
const full = 'We open at nine. We close at five.';
const scenarios: Array<[string, () => Promise<Run>, string]> = [
  ['none (baseline)', () => pipelineRun({ script: answer, expected: full }), 'the fakes alone'],
  ['LLM stalls after headers, retry answers', () => pipelineRun({ script: answer, http: (i) => (i === 0 ? { kind: 'stall_after_events', events: 1 } : { kind: 'pass' }), expected: full }), 'hold phrase at the limit, then the answer'],
  ['LLM never answers (twice)', () => pipelineRun({ script: answer, http: () => ({ kind: 'no_answer' }), expected: '' }), 'hold phrase at 1 limit, apology at 2'],
  ['LLM stalls mid-reply', () => pipelineRun({ script: answer, http: () => ({ kind: 'stall_after_events', events: 3 }), expected: 'We open at nine. We close' }), 'the said part, then the apology'],
  ['ElevenLabs 1012 mid-reply', () => pipelineRun({ script: answer, ttsCut: (c) => c.closeClient(1012, 'service restart'), expected: full }), 'rest on a new socket'],
  ['ElevenLabs TCP drop mid-reply', () => pipelineRun({ script: answer, ttsCut: (c) => c.drop(), expected: full }), 'rest on a new socket'],
  ['Realtime 1012 mid-response', realtimeRun, 'drop → continuation audio'],
];

const rows: Record<string, unknown>[] = [];
const data: Record<string, unknown> = { runs: RUNS, limitsMs: { firstToken: 3000, chunk: 3000 } };
for (const [name, run, what] of scenarios) {
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run());
  const s = summarize(runs.map((r) => r.silenceMs));
  data[name] = { silenceMs: s, runs };
  rows.push({ fault: name, what, 'silence p50 ms': s.p50, 'silence max ms': s.max, 'words lost': Math.max(...runs.map((r) => r.wordsLost)), 'words repeated': Math.max(...runs.map((r) => r.wordsRepeated)) });
}
const file = writeResults('provider-faults', data, rows);
console.log(`wrote ${file} (shared 2-core machine: figures are noisy; the limits dominate the LLM rows)`);
process.exit(0);
