/**
 * Cuts streamed LLM tokens into chunks for TTS. Speech starts on the reply's first natural
 * break, never on the whole reply (DESIGN.md, latency rules):
 *   - the first chunk ends at a sentence end, at a clause break (`, ; : — –`, a spaced dash) or
 *     before a conjunction once it has FIRST_MIN_WORDS words, or at the word cap (below);
 *   - later chunks end at a sentence end, or at a clause break once MIN_CLAUSE_CHARS gathered
 *     (the TTS keeps them in one context, so their size only matters to per-request vendors).
 * Cuts happen only after a complete word (the whitespace after it has arrived), so never inside
 * a word or a number ("3.5", "$1,200", "10:30"); a period after an abbreviation ("e.g.",
 * "Dr.") or a list number ("1.") is not a sentence end, nor after dotted letters ("a.m.",
 * "P.O.") unless a capital follows; the word cap cuts before a word that starts a phrase, and
 * never after a number (its unit follows: "10:30 | am") or a word that cannot end a phrase.
 * bench/clause-chunks.ts runs this over bench/corpus/agent-replies.txt for a person to read.
 */

/** Later chunks: a clause break cuts once this many characters gathered (~1.5 s of speech). */
export const MIN_CLAUSE_CHARS = 24;
/**
 * First chunk: words before a clause break may cut. Four words (~1 s of speech) carry a
 * phrase's intonation; "Sure," or "Of course," alone would sound clipped.
 */
export const FIRST_MIN_WORDS = 4;
/**
 * First chunk: with no break, cut after this many words, before a word that starts a phrase
 * ("in", "for", "with"...). 10 words are 12–15 LLM tokens, 120–300 ms at 50–100 tokens/s: the
 * wait for a longer first sentence stops here.
 */
export const FIRST_MAX_WORDS = 10;
/**
 * ...and after this many, at any word a phrase can end on. On the 200-reply corpus
 * (bench/clause-chunks.ts) a cut before a phrase start comes by word 16 in almost every reply.
 */
export const FIRST_HARD_MAX_WORDS = 16;

export type CutReason = 'sentence' | 'clause' | 'conjunction' | 'cap' | 'end';

export interface ChunkerOptions {
  minClauseChars?: number;
  firstMinWords?: number;
  firstMaxWords?: number;
  firstHardMaxWords?: number;
}

/** A complete word and the whitespace after it. */
const WORD = /(\S+)\s+/g;
const SENTENCE_END = /[.!?…]["'”’)\]]*$/;
const CLAUSE_END = /[,;:—–]["'”’)\]]*$/;
const DASH = /^[-—–]$/;
/** Words after which a period is no sentence end (lower case, without the final period). */
const ABBREVIATIONS = new Set([
  'e.g', 'i.e', 'mr', 'mrs', 'ms', 'dr', 'st', 'ave', 'blvd', 'rd', 'no', 'nos', 'vs', 'approx', 'appt', 'dept', 'inc', 'ltd', 'co', 'jr', 'sr',
  'min', 'max', 'ft', 'oz', 'lb', 'lbs', 'tel', 'ext', 'fig', 'mt', 'ste', 'apt',
]);
/** Dotted letters ("a.m.", "p.m.", "P.O.", "U.S."): they end a sentence only before a capital. */
const DOTTED = /^(?:\p{L}\.)+\p{L}$/u;
/** Cutting before these keeps the clause before intact: the boundary a speaker breathes at. */
// Not "until"/"since"/"before": as prepositions ("from 9 until noon") they bind to what follows.
const CONJUNCTIONS = new Set(['and', 'but', 'or', 'so', 'because', 'which', 'while', 'although', 'though', 'unless', 'whereas']);
/** Words a cap cut must not end on: the phrase obviously goes on. */
const NO_END = new Set([
  'the', 'a', 'an', 'to', 'of', 'for', 'with', 'at', 'in', 'on', 'from', 'by', 'and', 'or', 'but', 'your', 'my', 'our', 'their', 'his', 'her', 'its',
  'this', 'that', 'these', 'those', 'is', 'are', 'was', 'were', 'be', 'been', 'will', 'would', 'can', 'could', 'should', 'may', 'might', 'must',
  'have', 'has', 'had', 'do', 'does', 'did', 'not', 'per', 'about', 'every', 'each', 'some', 'any', 'all', 'more', 'less', 'than', 'over',
  'under', 'very', 'too', 'so', 'as', 'if', 'up', 'mr.', 'mrs.', 'ms.', 'dr.', 'st.', 'no.',
]);
/** Words that start a phrase: a capped first chunk ends just before one of them. */
const PHRASE_STARTS = new Set([
  'in', 'on', 'at', 'for', 'to', 'with', 'from', 'by', 'about', 'after', 'before', 'during', 'until', 'including', 'through', 'between', 'within',
  'without', 'into', 'near', 'via', 'which', 'that', 'who', 'when', 'where', 'if', 'because', 'so', 'and', 'but', 'or', 'as', 'than', 'unless',
]);

export class SentenceChunker {
  private buffer = '';
  private first = true;
  private readonly minClauseChars: number;
  private readonly firstMinWords: number;
  private readonly firstMaxWords: number;
  private readonly firstHardMaxWords: number;
  /** Why each chunk returned so far was cut (benchmarks, tests). */
  readonly reasons: CutReason[] = [];

  constructor(opts: ChunkerOptions = {}) {
    this.minClauseChars = opts.minClauseChars ?? MIN_CLAUSE_CHARS;
    this.firstMinWords = opts.firstMinWords ?? FIRST_MIN_WORDS;
    this.firstMaxWords = opts.firstMaxWords ?? FIRST_MAX_WORDS;
    this.firstHardMaxWords = opts.firstHardMaxWords ?? FIRST_HARD_MAX_WORDS;
  }

  /** Adds a token; returns the chunks it completed (possibly none). */
  push(token: string): string[] {
    this.buffer += token;
    const out: string[] = [];
    for (;;) {
      const cut = this.findCut();
      if (!cut) break;
      const chunk = this.buffer.slice(0, cut.at).trim();
      this.buffer = this.buffer.slice(cut.at);
      if (chunk) {
        out.push(chunk);
        this.reasons.push(cut.reason);
        this.first = false;
      }
    }
    return out;
  }

  /** The rest of the reply (end of stream, or before a tool call). */
  flush(): string | null {
    const rest = this.buffer.trim();
    this.buffer = '';
    if (!rest) return null;
    this.reasons.push('end');
    this.first = false;
    return rest;
  }

  private findCut(): { at: number; reason: CutReason } | null {
    WORD.lastIndex = 0;
    let words = 0;
    let m: RegExpExecArray | null;
    let prevSpace = '\n'; // the buffer starts a line (a reply, or right after a cut)
    let prevWord = '';
    while ((m = WORD.exec(this.buffer))) {
      const word = m[1]!;
      const end = m.index + m[0].length;
      // Where a list item may start: a new line, or after "Here is how:".
      const lineStart = prevSpace.includes('\n') || /[:;]$/.test(prevWord);
      prevSpace = m[0].slice(word.length);
      prevWord = word;
      if (!DASH.test(word)) words++;
      if (SENTENCE_END.test(word)) {
        const verdict = this.sentenceEnd(word, lineStart, end);
        if (verdict === 'wait') return null; // decided by the next word's first letter
        if (verdict) return { at: end, reason: 'sentence' };
      }
      const clause = CLAUSE_END.test(word) || (DASH.test(word) && m.index > 0);
      if (this.first) {
        if (words < this.firstMinWords) continue;
        if (clause) return { at: end, reason: 'clause' };
        const next = this.peekWord(end);
        if (next !== null && CONJUNCTIONS.has(next.toLowerCase()) && !/\d/.test(word)) return { at: end, reason: 'conjunction' };
        if (next !== null && cappable(word)) {
          if (words >= this.firstHardMaxWords) return { at: end, reason: 'cap' };
          if (words >= this.firstMaxWords && PHRASE_STARTS.has(next.toLowerCase())) return { at: end, reason: 'cap' };
        }
      } else if (clause && end >= this.minClauseChars) {
        return { at: end, reason: 'clause' };
      }
    }
    return null;
  }

  /** The complete word starting at `from`, or null if it has not fully arrived. */
  private peekWord(from: number): string | null {
    const m = /^(\S+)\s/.exec(this.buffer.slice(from));
    return m ? m[1]! : null;
  }

  /** Is `word` (ending in . ! ? …) the end of a sentence? 'wait' until the next word shows. */
  private sentenceEnd(word: string, atLineStart: boolean, end: number): boolean | 'wait' {
    const w = word.replace(/["'”’)\]]+$/, '');
    if (!w.endsWith('.') || w.endsWith('..')) return true;
    const base = w.slice(0, -1);
    if (ABBREVIATIONS.has(base.toLowerCase())) return false;
    if (/^[A-Z]$/.test(base)) return false; // an initial: "J. Smith"
    if (atLineStart && /^\d{1,2}$/.test(base)) return false; // a list number: "1. Open the app"
    if (DOTTED.test(base)) {
      const next = /^\s*(\S)/.exec(this.buffer.slice(end));
      if (!next) return 'wait';
      return /\p{Lu}/u.test(next[1]!);
    }
    return true;
  }
}

function cappable(word: string): boolean {
  if (/\d/.test(word)) return false;
  return !NO_END.has(word.toLowerCase());
}
