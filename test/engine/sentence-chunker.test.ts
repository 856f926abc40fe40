import { describe, expect, it } from 'vitest';
import { SentenceChunker } from '../../src/engine/sentence-chunker.js';
import { UtteranceText } from '../../src/engine/pipeline-utterance.js';

describe('sentence chunker', () => {
  it('cuts at sentence ends once the next token starts, keeping decimals together', () => {
    const c = new SentenceChunker();
    const out: string[] = [];
    for (const t of ['It costs 3', '.5 dollars', '.', ' Anything', ' else?', ' Bye']) out.push(...c.push(t));
    expect(out).toEqual(['It costs 3.5 dollars.', 'Anything else?']);
    expect(c.flush()).toBe('Bye');
  });

  it('cuts long text at a clause break but never a short fragment', () => {
    const c = new SentenceChunker(24);
    expect(c.push('Well, ')).toEqual([]);
    expect(c.push('your booking is on Tuesday, ')).toEqual(['Well, your booking is on Tuesday,']);
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
