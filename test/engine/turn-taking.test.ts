/**
 * End of turn (src/engine/turn-taking.ts): a complete-sounding turn commits after the short
 * pause, with its speculative reply started on the text heard so far; an unfinished one waits
 * the agent's silenceMs on the VAD clock; speech resuming cancels the wait and the speculation.
 * Driven event by event with a manual timer: no wall clock.
 */
import { describe, expect, it } from 'vitest';
import { FINAL_WAIT_MS, TurnTaking } from '../../src/engine/turn-taking.js';
import { isCompleteTurn } from '../../src/engine/turn-completeness.js';

function setup(silenceMs = 500) {
  const log: string[] = [];
  const timers: Array<{ fn: () => void; ms: number; live: boolean }> = [];
  const t = new TurnTaking(
    {
      early: (x) => log.push(`early:${x}`),
      cancelEarly: () => log.push('cancelEarly'),
      commit: (x) => log.push(`commit:${x}`),
      empty: () => log.push('empty'),
      finalize: () => log.push('finalize'),
    },
    {
      set: (fn, ms) => {
        const e = { fn, ms, live: true };
        timers.push(e);
        return () => (e.live = false);
      },
    },
    { silenceMs },
  );
  const fire = () => {
    for (const e of timers.splice(0)) if (e.live) e.fn();
  };
  /** Decided VAD windows of 64 ms from `fromMs` to `toMs`. */
  const windows = (fromMs: number, toMs: number) => {
    for (let at = fromMs; at <= toMs; at += 64) t.vadWindow(at);
  };
  return { t, log, timers, fire, windows };
}

describe('turn completeness', () => {
  it('punctuated questions and statements are complete; fillers, conjunctions and trailing off are not', () => {
    for (const s of ['What are your opening hours on Saturday?', 'I want to cancel my order.', 'Yes!', 'It is 10:30.', 'He said "no."']) expect(isCompleteTurn(s), s).toBe(true);
    for (const s of ['', "I'd like to, um", 'I need a table for', 'so', 'I was thinking and', 'Because.', 'I want the', 'Well...', 'Maybe…', 'tell me', 'Book it, but.', 'I want to, like.'])
      expect(isCompleteTurn(s), s).toBe(false);
  });
});

describe('turn taking', () => {
  it('a complete interim at the short pause: finalize now, speculate on it, commit when the final confirms it', () => {
    const { t, log, windows } = setup();
    t.vadStart();
    t.sttPartial('What are your opening hours?');
    t.vadEnd(1000);
    expect(log).toEqual(['early:What are your opening hours?', 'finalize']);
    windows(1064, 1200); // well short of silenceMs: nothing more happens
    t.sttFinal('What are your opening hours?', true);
    expect(log.at(-1)).toBe('commit:What are your opening hours?');
  });

  it('a complete final already in (speech_final started the speculation): commits at the short pause', () => {
    const { t, log } = setup();
    t.vadStart();
    t.sttFinal('When do you open?', true);
    expect(log).toEqual(['early:When do you open?']);
    t.vadEnd(1000);
    expect(log).toEqual(['early:When do you open?', 'commit:When do you open?']);
  });

  it('an unfinished turn waits the full silenceMs on the VAD clock, then finalizes and commits', () => {
    const { t, log, windows } = setup(500);
    t.vadStart();
    t.sttPartial("I'd like to, um");
    t.vadEnd(1000);
    expect(log).toEqual([]);
    windows(1064, 1448);
    expect(log).toEqual([]);
    windows(1512, 1512);
    expect(log).toEqual(['finalize']);
    t.sttFinal("I'd like to, um", false);
    expect(log).toEqual(['finalize', "commit:I'd like to, um"]);
  });

  it('speech resuming during the wait cancels it and the speculation; the turn goes on', () => {
    const { t, log, windows } = setup(500);
    t.vadStart();
    t.sttFinal('I want to book a table', true);
    t.vadEnd(1000);
    expect(log).toEqual(['early:I want to book a table']);
    windows(1064, 1300);
    t.vadStart();
    expect(log.at(-1)).toBe('cancelEarly');
    t.sttFinal('for four people.', true);
    expect(log.at(-1)).toBe('early:I want to book a table for four people.');
    t.vadEnd(2000);
    expect(log.at(-1)).toBe('commit:I want to book a table for four people.');
  });

  it('a final that is less complete than the interim holds until silenceMs', () => {
    const { t, log, windows } = setup(500);
    t.vadStart();
    t.sttPartial('Send it to my.'); // an odd interim
    t.vadEnd(1000);
    expect(log).toEqual([]); // "my" cannot end a turn
    t.sttPartial('Send it today.');
    windows(1064, 1600);
    expect(log).toEqual(['finalize']);
    t.sttFinal('Send it today.', true);
    expect(log.at(-1)).toBe('commit:Send it today.');
  });

  it('speech with no words: after silenceMs and the final wait, the turn is empty', () => {
    const { t, log, windows, timers, fire } = setup(500);
    t.vadStart();
    t.vadEnd(1000);
    windows(1064, 1600);
    expect(log).toEqual(['finalize']);
    expect(timers.at(-1)!.ms).toBe(FINAL_WAIT_MS);
    fire();
    expect(log).toEqual(['finalize', 'empty']);
  });

  it('when the final never comes, the interim is used once the wait is over', () => {
    const { t, log, fire } = setup(500);
    t.vadStart();
    t.sttPartial('Is it open on Sunday?');
    t.vadEnd(1000);
    expect(log).toEqual(['early:Is it open on Sunday?', 'finalize']);
    fire();
    expect(log.at(-1)).toBe('commit:Is it open on Sunday?');
  });

  it('silenceMs below the short pause: the short pause is silenceMs', () => {
    const { t } = setup(100);
    expect(t.shortSilenceMs).toBe(100);
  });
});
