/**
 * What an agent utterance said and how much of it the caller heard. Text goes in clause by
 * clause (transcript text and the pronunciation-applied TTS text); audio comes back as chunks,
 * with the characters they voice when the TTS reports alignment. An interruption's `heardMs`
 * (from playback marks) maps back to transcript text: through alignment when there is some,
 * else proportionally to the characters.
 */

/** Speech rate used while the reply's total audio is not known yet: ~15 characters per second. */
export const MS_PER_CHAR_ESTIMATE = 65;

interface Clause {
  text: string;
  /** Characters the TTS receives for this clause (its text plus the separating space). */
  ttsChars: number;
}

export class UtteranceText {
  private readonly clauses: Clause[] = [];
  /** (cumulative audio ms, cumulative aligned characters) after each aligned chunk. */
  private readonly points: Array<[number, number]> = [];
  audioMs = 0;
  private alignedChars = 0;
  private aligned = true;
  /** All audio has arrived (the TTS stream ended). */
  complete = false;

  addClause(text: string, ttsText: string): void {
    this.clauses.push({ text, ttsChars: ttsText.length + 1 });
  }

  addAudio(ms: number, chars?: number): void {
    this.audioMs += ms;
    if (chars === undefined) this.aligned = false;
    else {
      this.alignedChars += chars;
      this.points.push([this.audioMs, this.alignedChars]);
    }
  }

  get text(): string {
    return this.clauses.map((c) => c.text).join(' ');
  }

  /** The transcript text voiced by the first `heardMs` of audio, cut at a word boundary. */
  heardText(heardMs: number): string {
    if (heardMs <= 0 || this.clauses.length === 0) return '';
    const ttsTotal = this.clauses.reduce((n, c) => n + c.ttsChars, 0);
    let ttsHeard: number;
    if (this.aligned && this.points.length > 0) {
      ttsHeard = this.interpolate(heardMs);
    } else if (this.complete && this.audioMs > 0) {
      ttsHeard = (heardMs / this.audioMs) * ttsTotal;
    } else {
      ttsHeard = heardMs / MS_PER_CHAR_ESTIMATE;
    }
    if (ttsHeard >= ttsTotal) return this.text;
    // TTS characters → transcript characters, clause by clause (pronunciations change lengths).
    const parts: string[] = [];
    let left = ttsHeard;
    for (const c of this.clauses) {
      if (left >= c.ttsChars) {
        parts.push(c.text);
        left -= c.ttsChars;
        continue;
      }
      const n = Math.floor((left / c.ttsChars) * c.text.length);
      const cut = wordPrefix(c.text, n);
      if (cut) parts.push(cut);
      break;
    }
    return parts.join(' ');
  }

  private interpolate(ms: number): number {
    let prevMs = 0;
    let prevChars = 0;
    for (const [atMs, chars] of this.points) {
      if (ms <= atMs) return prevChars + ((ms - prevMs) / Math.max(1, atMs - prevMs)) * (chars - prevChars);
      prevMs = atMs;
      prevChars = chars;
    }
    return prevChars;
  }
}

/** The first `n` characters of `text`, without a word cut in half. */
function wordPrefix(text: string, n: number): string {
  if (n <= 0) return '';
  if (n >= text.length) return text;
  if (/\s/.test(text[n] ?? ' ')) return text.slice(0, n).trim();
  const lastSpace = text.lastIndexOf(' ', n);
  return lastSpace <= 0 ? '' : text.slice(0, lastSpace).trim();
}
