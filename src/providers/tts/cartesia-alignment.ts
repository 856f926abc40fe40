/**
 * Turns Cartesia word timestamps into `TtsChunk.chars` (how many characters of the sent text
 * each audio chunk voices), the form the engine's heard-text truncation reads.
 *
 * Cartesia sends `timestamps` messages (`word_timestamps: {words, start, end}`, seconds from the
 * start of the context's audio) separately from the audio `chunk`s. A chunk is credited with
 * the characters up to the end of the last word that ends within the audio received so far;
 * words whose timestamps arrive after their audio are credited to the next chunk. Total credited
 * characters never exceed the text sent, so the engine's cumulative points stay monotonic; the
 * context's last chunk is credited with whatever is left.
 */

/**
 * Audio after which a context that has sent no timestamps at all is taken not to send them
 * (a model or language without word timestamps): chunks then carry no `chars`, and the engine
 * falls back to its proportional estimate instead of "nothing heard".
 */
export const NO_TIMESTAMPS_AFTER_MS = 600;

export class WordAlignment {
  /** The text sent on the context, verbatim (clauses end with a space). */
  private text = '';
  /** Where the next word is searched for in `text`. */
  private cursor = 0;
  /** (end ms, characters voiced through that word), in word order. */
  private readonly ends: Array<[number, number]> = [];
  private next = 0;
  private audioMs = 0;
  private credited = 0;
  private sawTimestamps = false;
  /** Where the current context's timestamps start in this reply's audio (a resumed context starts at 0 again). */
  private timeBaseMs = 0;

  addText(t: string): void {
    this.text += t;
  }

  addWords(w: { words?: string[]; start?: number[]; end?: number[] }): void {
    const words = w.words ?? [];
    const ends = w.end ?? [];
    this.sawTimestamps = true;
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      const found = word ? this.text.indexOf(word, this.cursor) : -1;
      // A word we cannot find (normalised differently) still moves on by its own length.
      let end = found >= 0 ? found + word.length : Math.min(this.text.length, this.cursor + word.length);
      // Punctuation and the space after the word are voiced with it.
      while (end < this.text.length && !/\s/.test(this.text[end]!)) end++;
      while (end < this.text.length && /\s/.test(this.text[end]!)) end++;
      this.cursor = end;
      this.ends.push([this.timeBaseMs + Math.round((ends[i] ?? 0) * 1000), end]);
    }
  }

  /**
   * The reply continues on a new context (its socket dropped): returns the character offset it
   * should start from — after the last word timestamps report — and times the new context's
   * timestamps from the audio received so far.
   */
  resume(): number {
    const voiced = this.ends.length > 0 ? this.ends[this.ends.length - 1]![1] : 0;
    const from = Math.max(voiced, this.credited);
    this.cursor = from;
    this.next = this.ends.length;
    this.credited = from;
    this.timeBaseMs = this.audioMs;
    return from;
  }

  /**
   * Registers `ms` of audio; returns the characters it voices, or undefined without timestamps.
   * `last`: the final chunk of the context, which is credited with all the text not yet credited.
   */
  addAudio(ms: number, last = false): number | undefined {
    this.audioMs += ms;
    if (last && (this.sawTimestamps || this.audioMs <= NO_TIMESTAMPS_AFTER_MS)) {
      const chars = this.text.length - this.credited;
      this.credited = this.text.length;
      return chars;
    }
    if (!this.sawTimestamps) {
      // Until timestamps show up the chunk is credited nothing (they may trail the audio);
      // past the threshold they are taken to be absent.
      return this.audioMs > NO_TIMESTAMPS_AFTER_MS ? undefined : 0;
    }
    let voiced = this.credited;
    while (this.next < this.ends.length && this.ends[this.next]![0] <= this.audioMs + 1) {
      voiced = Math.max(voiced, this.ends[this.next]![1]);
      this.next++;
    }
    const chars = voiced - this.credited;
    this.credited = voiced;
    return chars;
  }
}
