/**
 * Heard-text accuracy (issue 20: clause-level speech start must not change it). When the caller
 * cuts in, the transcript keeps what they heard of the agent's reply: the engine maps the
 * playback position (ms of audio heard) back to transcript text, through the TTS's alignment
 * when it reports one, else proportionally. Cutting replies into clauses instead of sentences
 * gives that mapping more, shorter pieces; this bench measures whether it still lands on the
 * same words.
 *
 * Each run is a real pipeline engine (fakes for Deepgram, OpenAI chat and ElevenLabs, as the
 * engine tests use) answering one corpus reply (bench/corpus/agent-replies.txt), streamed as
 * tokens; once its audio is all queued, the caller has heard a seeded-random share of it and
 * barges in. The truth is what the fake voiced in that time: its audio is `MS_PER_CHAR` per
 * character of the text it received, in order, so the heard characters are the first
 * heardMs / MS_PER_CHAR of it, and the heard text is the complete words among them.
 * Modes: sentence-only cutting vs the clause cutting the product uses, each with the fake
 * sending alignment (ElevenLabs does) and without (a TTS that reports none).
 *
 *   node --import tsx bench/heard-text.ts [--replies 30] [--name heard-text]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createPipelineEngine } from '../src/engine/pipeline.js';
import type { ChunkerOptions } from '../src/engine/sentence-chunker.js';
import type { VadOptions } from '../src/vad/index.js';
import { startFakeDeepgram } from '../test/fakes/deepgram.js';
import { startFakeOpenAiChat } from '../test/fakes/openai-chat.js';
import { startFakeElevenLabs, type FakeElevenLabs } from '../test/fakes/elevenlabs.js';
import { LevelVad, makeHost, say } from '../test/engine/pipeline-host.js';
import { round, writeResults } from './lib/results.js';

const { values } = parseArgs({ options: { replies: { type: 'string', default: '30' }, name: { type: 'string', default: 'heard-text' } } });
const here = path.dirname(fileURLToPath(import.meta.url));
const MS_PER_CHAR = 60;
const SENTENCES_ONLY: ChunkerOptions = { firstMinWords: Infinity, firstMaxWords: Infinity, firstHardMaxWords: Infinity, minClauseChars: Infinity };
const MODES: Array<{ name: string; chunker?: ChunkerOptions }> = [{ name: 'sentence' , chunker: SENTENCES_ONLY }, { name: 'clause' }];

const all = readFileSync(path.join(here, 'corpus', 'agent-replies.txt'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
// Replies long enough to be cut somewhere inside (a one-clause reply has nothing to measure).
const replies = all.filter((r) => r.split(/\s+/).length >= 8).slice(0, Number(values.replies));

/** Mulberry32: the same heard fractions on every run and for every mode. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const words = (s: string) => s.split(/\s+/).filter(Boolean);

/** Complete words in the first `n` characters of what the TTS received. */
function truthAt(received: string, n: number): string {
  const prefix = received.slice(0, Math.max(0, Math.floor(n)));
  const complete = /\s$/.test(prefix) || prefix.length === received.length ? prefix : prefix.slice(0, Math.max(0, prefix.lastIndexOf(' ')));
  return words(complete).join(' ');
}

const dg = await startFakeDeepgram({ transcripts: [] });
const chat = await startFakeOpenAiChat();
const tts: Record<'aligned' | 'unaligned', FakeElevenLabs> = {
  aligned: await startFakeElevenLabs({ msPerChar: MS_PER_CHAR }),
  unaligned: await startFakeElevenLabs({ msPerChar: MS_PER_CHAR, alignment: false }),
};

interface Sample {
  reply: number;
  fraction: number;
  heard: string;
  truth: string;
}

async function runOne(reply: string, fraction: number, el: FakeElevenLabs, chunker: ChunkerOptions | undefined): Promise<Sample & { chunks: number }> {
  dg.options.transcripts = ['what are your hours', 'wait'];
  chat.respond(() => ({ tokens: reply.split(/(?<= )/), tokenDelayMs: 8 }));
  const env = { DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_URL: dg.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: chat.url, ELEVENLABS_API_KEY: 'el-test', ELEVENLABS_BASE_URL: el.url };
  const h = makeHost(env, { firstMessage: null, pronunciations: {} });
  const before = el.ws.length;
  const e = createPipelineEngine(h.host, { createVad: async (o: VadOptions) => new LevelVad(o.silenceMs ?? 500), ...(chunker ? { chunker } : {}) });
  try {
    await e.prepare();
    await e.start();
    await say(e, 400, 500);
    await until(() => h.playback.finished.size === 1);
    const id = [...h.playback.finished][0]!;
    const totalMs = h.playback.audio.get(id)! / 8;
    const heardMs = Math.round(fraction * totalMs);
    h.playback.play(heardMs);
    await say(e, 500, 0);
    await until(() => h.transcripts.some((t) => t.role === 'agent'));
    const conn = el.ws.slice(before).find((c) => c.text.trim().length > 0)!;
    const agent = h.transcripts.find((t) => t.role === 'agent')!;
    return { reply: 0, fraction, heard: agent.text, truth: truthAt(conn.text, heardMs / MS_PER_CHAR), chunks: conn.messages.filter((m) => typeof (m as { text?: unknown }).text === 'string' && ((m as { text: string }).text.trim() !== '')).length };
  } finally {
    await e.close();
  }
}

const rows: Record<string, unknown>[] = [];
const data: Record<string, unknown> = { msPerChar: MS_PER_CHAR, replies: replies.length, modes: {} };
for (const [alignName, el] of Object.entries(tts) as Array<['aligned' | 'unaligned', FakeElevenLabs]>) {
  for (const mode of MODES) {
    const r = rng(20);
    const samples: Array<Sample & { chunks: number }> = [];
    for (const [i, reply] of replies.entries()) {
      const fraction = 0.1 + 0.8 * r();
      const s = await runOne(reply, fraction, el, mode.chunker);
      samples.push({ ...s, reply: i });
    }
    const exact = samples.filter((s) => s.heard === s.truth).length;
    const wordErr = samples.map((s) => Math.abs(words(s.heard).length - words(s.truth).length));
    const row = {
      tts: alignName,
      chunking: mode.name,
      runs: samples.length,
      'exact %': round((100 * exact) / samples.length, 1),
      'mean |word diff|': round(wordErr.reduce((a, b) => a + b, 0) / samples.length, 2),
      'max |word diff|': Math.max(...wordErr),
      'chunks/reply': round(samples.reduce((a, s) => a + s.chunks, 0) / samples.length, 2),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
    (data.modes as Record<string, unknown>)[`${alignName}-${mode.name}`] = { ...row, examples: samples.slice(0, 3).map((s) => ({ reply: replies[s.reply], fraction: round(s.fraction, 3), heard: s.heard, truth: s.truth })), misses: samples.filter((s) => s.heard !== s.truth).map((s) => ({ reply: replies[s.reply], fraction: round(s.fraction, 3), heard: s.heard, truth: s.truth })) };
  }
}
console.table(rows);
console.log(`wrote ${writeResults(values.name, data, rows)}`);
await Promise.all([dg.close(), chat.close(), tts.aligned.close(), tts.unaligned.close()]);
process.exit(0);
