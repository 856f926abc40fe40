/**
 * Naturalness risk of clause-level speech start (issue 20): runs the TTS chunker over 200 typical
 * agent replies (bench/corpus/agent-replies.txt), streamed as LLM-like tokens, and writes every
 * reply's chunks to bench/results/clause-chunks.txt for a person to read, with summary figures:
 * first-chunk words and tokens (what speech waits for), chunks per reply, why each first chunk
 * was cut, and the cuts a listener might hear (word-cap cuts). It also runs the previous rule
 * (sentence end, or a clause break after 24 characters) on the same tokens, for comparison.
 *
 *   node --import tsx bench/clause-chunks.ts [--ms-per-token 12]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SentenceChunker, type CutReason } from '../src/engine/sentence-chunker.js';
import { RESULTS_DIR, writeResults } from './lib/results.js';
import { summarize } from './lib/stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { 'ms-per-token': { type: 'string', default: '12' } } });
/** 12 ms per token: the media-load bench's fake LLM; real models stream 50–100 tokens/s (10–20 ms). */
const msPerToken = Number(values['ms-per-token']);

const replies = readFileSync(path.join(here, 'corpus', 'agent-replies.txt'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'));

/**
 * LLM-like tokens: a word with its leading space, digits in runs of up to three (as GPT-4-class
 * tokenizers split numbers), each punctuation mark alone. Cuts must survive any such split.
 */
function tokens(text: string): string[] {
  return text.match(/\s?[A-Za-z']+|\s?\d{1,3}|\s?[^\sA-Za-z\d]|\s+/g) ?? [];
}

interface Run {
  chunks: string[];
  reasons: CutReason[];
  /** Tokens streamed before the first chunk was ready. */
  firstTokens: number;
}

function runNew(text: string): Run {
  const c = new SentenceChunker();
  const chunks: string[] = [];
  let firstTokens = -1;
  const toks = tokens(text);
  toks.forEach((t, i) => {
    const out = c.push(t);
    if (out.length && firstTokens < 0) firstTokens = i + 1;
    chunks.push(...out);
  });
  const rest = c.flush();
  if (rest) chunks.push(rest);
  if (firstTokens < 0) firstTokens = toks.length;
  return { chunks, reasons: c.reasons, firstTokens };
}

/** The rule before issue 20: a sentence end, or `,;:—` after 24 characters. */
function runOld(text: string): Run {
  let buf = '';
  const chunks: string[] = [];
  let firstTokens = -1;
  const toks = tokens(text);
  toks.forEach((t, i) => {
    buf += t;
    for (;;) {
      const s = /[.!?…]["')\]]*\s/.exec(buf);
      let cut = s ? s.index + s[0].length : -1;
      if (cut < 0 && buf.length >= 24) {
        const re = /[,;:—–]\s/g;
        let m: RegExpExecArray | null;
        while ((m = re.exec(buf))) if (m.index + m[0].length >= 24) {
          cut = m.index + m[0].length;
          break;
        }
      }
      if (cut < 0) break;
      const chunk = buf.slice(0, cut).trim();
      buf = buf.slice(cut);
      if (chunk) {
        chunks.push(chunk);
        if (firstTokens < 0) firstTokens = i + 1;
      }
    }
  });
  if (buf.trim()) chunks.push(buf.trim());
  if (firstTokens < 0) firstTokens = toks.length;
  return { chunks, reasons: [], firstTokens };
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
/** A cut a listener could hear as wrong: inside a number, or right after an abbreviation. */
function badCut(a: string, b: string): string | null {
  if (/\d$/.test(a) && /^[\d.,:%]/.test(b)) return 'inside a number';
  if (/\b(e\.g|i\.e|Dr|Mr|Mrs|Ms|St|P\.O)\.$/.test(a)) return 'after an abbreviation';
  // "a.m."/"p.m." may end a sentence; mid-sentence only a cut before a conjunction is fine.
  if (/\b[ap]\.m\.$/.test(a) && /^\p{Ll}/u.test(b) && !/^(and|but|or|so|because|which|while)\b/.test(b)) return 'after an abbreviation';
  return null;
}

const lines: string[] = [];
const firstWordsNew: number[] = [];
const firstWordsOld: number[] = [];
const firstTokNew: number[] = [];
const firstTokOld: number[] = [];
const chunksNew: number[] = [];
const chunksOld: number[] = [];
const firstReason = new Map<CutReason, number>();
const allReasons = new Map<CutReason, number>();
const bad: string[] = [];
const capCuts: string[] = [];

replies.forEach((reply, i) => {
  const n = runNew(reply);
  const o = runOld(reply);
  firstWordsNew.push(words(n.chunks[0] ?? ''));
  firstWordsOld.push(words(o.chunks[0] ?? ''));
  firstTokNew.push(n.firstTokens);
  firstTokOld.push(o.firstTokens);
  chunksNew.push(n.chunks.length);
  chunksOld.push(o.chunks.length);
  const r0 = n.reasons[0] ?? 'end';
  firstReason.set(r0, (firstReason.get(r0) ?? 0) + 1);
  for (const r of n.reasons) allReasons.set(r, (allReasons.get(r) ?? 0) + 1);
  for (let k = 0; k + 1 < n.chunks.length; k++) {
    const why = badCut(n.chunks[k]!, n.chunks[k + 1]!);
    if (why) bad.push(`#${i + 1} ${why}: ${n.chunks[k]} | ${n.chunks[k + 1]}`);
    if (n.reasons[k] === 'cap') capCuts.push(`#${i + 1}: ${n.chunks[k]} | ${n.chunks[k + 1]}`);
  }
  lines.push(`#${String(i + 1).padStart(3)} ${n.chunks.map((c, k) => `[${n.reasons[k]}] ${c}`).join('  ‖  ')}`);
  lines.push(`     before: ${o.chunks.join('  ‖  ')}`);
});

const s = (xs: number[]) => {
  const z = summarize(xs);
  return `p50 ${z.p50}, p95 ${z.p95}, max ${z.max}, mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)}`;
};
const count = (m: Map<CutReason, number>) => [...m].map(([k, v]) => `${k} ${v}`).join(', ');
const summary = [
  `Clause chunks of ${replies.length} agent replies (bench/corpus/agent-replies.txt), streamed as LLM-like tokens.`,
  `Each line: the chunks sent to TTS, with why each was cut ([sentence] [clause] [conjunction] [cap] [end]); "before:" the previous rule.`,
  '',
  `first chunk, words:   now ${s(firstWordsNew)} | before ${s(firstWordsOld)}`,
  `first chunk, tokens:  now ${s(firstTokNew)} | before ${s(firstTokOld)}`,
  `  = wait for the first chunk at ${msPerToken} ms/token: now p50 ${summarize(firstTokNew.map((t) => (t - 1) * msPerToken)).p50} ms, before p50 ${summarize(firstTokOld.map((t) => (t - 1) * msPerToken)).p50} ms (after the first token)`,
  `chunks per reply:     now ${s(chunksNew)} | before ${s(chunksOld)}`,
  `first chunk cut by:   ${count(firstReason)}`,
  `all cuts:             ${count(allReasons)}`,
  `cuts inside a number or after an abbreviation: ${bad.length}${bad.length ? '\n  ' + bad.join('\n  ') : ''}`,
  `word-cap cuts (the ones a listener may hear as a mid-phrase break): ${capCuts.length}`,
  ...capCuts.map((c) => `  ${c}`),
  '',
];
const txt = path.join(RESULTS_DIR, 'clause-chunks.txt');
writeFileSync(txt, summary.join('\n') + '\n' + lines.join('\n') + '\n');
console.log(summary.join('\n'));
writeResults(
  'clause-chunks',
  {
    replies: replies.length,
    msPerToken,
    firstChunkWords: { now: summarize(firstWordsNew), before: summarize(firstWordsOld) },
    firstChunkTokens: { now: summarize(firstTokNew), before: summarize(firstTokOld) },
    chunksPerReply: { now: summarize(chunksNew), before: summarize(chunksOld) },
    firstCutReasons: Object.fromEntries(firstReason),
    cutReasons: Object.fromEntries(allReasons),
    badCuts: bad.length,
    capCuts: capCuts.length,
  },
  [{ replies: replies.length, 'first words p50 now/before': `${summarize(firstWordsNew).p50}/${summarize(firstWordsOld).p50}`, 'bad cuts': bad.length, 'cap cuts': capCuts.length }],
);
console.log(`wrote ${txt}`);
