import { describe, expect, it } from 'vitest';
import { SentenceChunker } from '../../src/engine/sentence-chunker.js';
import { UtteranceText } from '../../src/engine/pipeline-utterance.js';

/** Streams `text` as LLM-like tokens (words with their space, digits and punctuation apart). */
function stream(c: SentenceChunker, text: string): string[] {
  const out: string[] = [];
  for (const t of text.match(/\s?[A-Za-z']+|\s?\d{1,3}|\s?[^\sA-Za-z\d]|\s+/g)!) out.push(...c.push(t));
  const rest = c.flush();
  if (rest) out.push(rest);
  return out;
}

describe('sentence chunker', () => {
  it('cuts at sentence ends once the next token starts, keeping decimals together', () => {
    const c = new SentenceChunker();
    const out: string[] = [];
    for (const t of ['It costs 3', '.5 dollars', '.', ' Anything', ' else?', ' Bye']) out.push(...c.push(t));
    expect(out).toEqual(['It costs 3.5 dollars.', 'Anything else?']);
    expect(c.flush()).toBe('Bye');
  });

  it('starts at the first clause of a few words, never at a short fragment', () => {
    const c = new SentenceChunker();
    expect(c.push('Well, ')).toEqual([]);
    expect(c.push('your booking is on Tuesday, ')).toEqual(['Well, your booking is on Tuesday,']);
    // Later chunks: a clause break cuts only once MIN_CLAUSE_CHARS (24) gathered.
    expect(c.push('at ten, ')).toEqual([]);
    expect(c.push('in the main dining room, ')).toEqual(['at ten, in the main dining room,']);
    expect(c.reasons).toEqual(['clause', 'clause']);
  });

  it('cuts before a conjunction once the clause has four words', () => {
    const c = new SentenceChunker();
    const out = stream(c, 'I can move your appointment to Friday but the morning slots are gone.');
    expect(out).toEqual(['I can move your appointment to Friday', 'but the morning slots are gone.']);
    expect(c.reasons).toEqual(['conjunction', 'end']);
    expect(stream(new SentenceChunker(), 'Salt and pepper are on the table.')).toEqual(['Salt and pepper are on the table.']);
  });

  it('caps a long first sentence after ten words before a phrase start, never after a number or an article', () => {
    const c = new SentenceChunker();
    const out = stream(c, 'Your internet speed should be up to 500 megabits per second on the Fiber 500 plan.');
    expect(out).toEqual(['Your internet speed should be up to 500 megabits per second', 'on the Fiber 500 plan.']);
    expect(c.reasons).toEqual(['cap', 'end']);
    // No phrase start by word 16: the hard cap.
    const h = stream(new SentenceChunker(), 'Please bring your blue passport photo driving licence birth certificate utility bill bank statement council tax letter tomorrow.');
    expect(h[0]!.split(' ')).toHaveLength(16);
    const d = new SentenceChunker();
    const o2 = stream(d, 'The next available appointment we have for you is at 10:30 am on Monday.');
    // Word 10 is "at" (cannot end a phrase), then "10:30" (a number): the cut waits for "am".
    expect(o2[0]).toBe('The next available appointment we have for you is at 10:30 am');
  });

  it('keeps numbers, prices, times and abbreviations whole whatever the tokens', () => {
    const cases = [
      'That comes to $1,200, including tax.',
      'It is 3.5 miles from the station, e.g. about ten minutes by car.',
      'Dr. Patel sees patients from 9 a.m. until noon, Monday to Friday.',
      'Here is how: 1. Open the app. 2. Tap settings.',
      'We open at 9 a.m. Parking is free after 6 p.m. on weekdays.',
      "We can't ship to P.O. boxes, sorry.",
    ];
    const got = cases.map((t) => stream(new SentenceChunker(), t));
    expect(got).toEqual([
      ['That comes to $1,200,', 'including tax.'],
      ['It is 3.5 miles from the station,', 'e.g. about ten minutes by car.'],
      ['Dr. Patel sees patients from 9 a.m. until noon,', 'Monday to Friday.'],
      ['Here is how: 1. Open the app.', '2. Tap settings.'],
      ['We open at 9 a.m.', 'Parking is free after 6 p.m. on weekdays.'],
      ["We can't ship to P.O. boxes,", 'sorry.'],
    ]);
  });
});

describe('heard text of an interrupted utterance', () => {
  it('maps heard audio to whole words through alignment, across pronunciation changes', () => {
    const u = new UtteranceText();
    u.addClause('Call me at nine.', 'Call me at nyne.');
    // 17 TTS characters (with the separating space), 10 ms each, aligned 4 per chunk.
    for (let i = 0; i < 17; i += 4) u.addAudio(Math.min(4, 17 - i) * 10, Math.min(4, 17 - i));
    expect(u.heardText(75)).toBe('Call me');
    expect(u.heardText(1000)).toBe('Call me at nine.');
    expect(u.heardText(0)).toBe('');
  });

  it('falls back to proportional characters without alignment', () => {
    const u = new UtteranceText();
    u.addClause('one two three four', 'one two three four');
    u.addAudio(190);
    u.complete = true;
    expect(u.heardText(95)).toBe('one two');
  });
});
