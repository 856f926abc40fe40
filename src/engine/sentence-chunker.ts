/**
 * Cuts streamed LLM tokens into clauses for TTS. TTS starts on the first complete clause, never
 * on the whole reply (DESIGN.md, latency rules), yet very short fragments sound choppy: a clause
 * break (`,;:—`) only cuts once enough text has gathered; a sentence end always cuts.
 */

/**
 * A clause shorter than this waits for more text. 24 characters is ~1.5 s of speech (~15
 * characters per second): long enough for natural prosody, short enough not to delay the start.
 */
export const MIN_CLAUSE_CHARS = 24;

// Sentence end: . ! ? (and …) followed by whitespace. Requiring the whitespace keeps "3.5" and
// "e.g.x" together; the cut happens when the next token starts with a space.
const SENTENCE_END = /[.!?…]["')\]]*\s/g;
const CLAUSE_END = /[,;:—–]\s/g;

export class SentenceChunker {
  private buffer = '';

  constructor(private readonly minClauseChars = MIN_CLAUSE_CHARS) {}

  /** Adds a token; returns the clauses it completed (possibly none). */
  push(token: string): string[] {
    this.buffer += token;
    const out: string[] = [];
    for (;;) {
      const cut = this.findCut();
      if (cut < 0) break;
      const clause = this.buffer.slice(0, cut).trim();
      this.buffer = this.buffer.slice(cut);
      if (clause) out.push(clause);
    }
    return out;
  }

  /** The rest of the reply (end of stream). */
  flush(): string | null {
    const rest = this.buffer.trim();
    this.buffer = '';
    return rest || null;
  }

  private findCut(): number {
    SENTENCE_END.lastIndex = 0;
    const s = SENTENCE_END.exec(this.buffer);
    if (s) return s.index + s[0].length;
    if (this.buffer.length >= this.minClauseChars) {
      CLAUSE_END.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = CLAUSE_END.exec(this.buffer))) {
        const end = m.index + m[0].length;
        if (end >= this.minClauseChars) return end;
      }
    }
    return -1;
  }
}
