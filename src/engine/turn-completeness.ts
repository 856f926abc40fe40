/**
 * Does the caller's transcript sound finished? The end-of-turn rule (turn-taking.ts) waits only
 * a short silence after a complete-sounding turn, and the agent's full `silenceMs` otherwise.
 * Text only, no model: a turn is complete when it ends in sentence punctuation (Deepgram
 * punctuates finals and interims with `punctuate=true`/`smart_format=true`) and its last word is
 * not one a speaker says before going on ("so", "and", "um"...). A wrong "complete" costs one
 * early reply that the caller's next words cancel; a wrong "incomplete" costs the old wait.
 */

/**
 * Words that end a phrase the speaker has not finished: fillers, conjunctions, and the
 * prepositions/articles that cannot end an English sentence. Lower case, no punctuation.
 */
const TRAILING_WORDS = new Set([
  // fillers
  'um', 'uh', 'er', 'erm', 'hmm', 'like', 'so', 'well', 'actually', 'basically',
  // conjunctions
  'and', 'but', 'or', 'nor', 'because', 'cause', "'cause", 'since', 'although', 'though', 'if', 'unless', 'while', 'whereas', 'then', 'plus',
  // words that cannot end a sentence
  'the', 'a', 'an', 'my', 'your', 'our', 'their', 'his', 'her', 'its', 'to', 'of', 'for', 'with', 'at', 'in', 'on', 'from', 'by', 'about', 'into',
]);

/** Sentence punctuation at the end, optionally followed by closing quotes or brackets. */
const ENDS_SENTENCE = /[.?!]["'”’)\]]*$/;
/** "..." or "…": the speaker trailed off. */
const TRAILS_OFF = /(\.\.\.|…)["'”’)\]]*$/;

export function isCompleteTurn(text: string): boolean {
  const t = text.trim();
  if (!t || !ENDS_SENTENCE.test(t) || TRAILS_OFF.test(t)) return false;
  const words = t.toLowerCase().split(/\s+/);
  const last = (words.at(-1) ?? '').replace(/^[^\p{L}\p{N}']+|[^\p{L}\p{N}']+$/gu, '');
  return last !== '' && !TRAILING_WORDS.has(last);
}
