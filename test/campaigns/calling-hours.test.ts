import { describe, expect, it } from 'vitest';
import { insideCallingHours, isValidTimezone, localTime, mayDialAt, parseHhmm } from '../../src/campaigns/schedule.js';

const NY = 'America/New_York';
const weekdays9to17 = { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] };

describe('calling hours in the campaign timezone', () => {
  it('knows IANA zones and refuses made-up ones', () => {
    expect(isValidTimezone('America/New_York')).toBe(true);
    expect(isValidTimezone('Europe/Berlin')).toBe(true);
    expect(isValidTimezone('UTC')).toBe(true);
    expect(isValidTimezone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimezone('')).toBe(false);
  });

  it('parses HH:MM and refuses anything else', () => {
    expect(parseHhmm('09:30')).toBe(570);
    expect(parseHhmm('23:59')).toBe(1439);
    expect(parseHhmm('24:00')).toBeNull();
    expect(parseHhmm('9:30')).toBeNull();
    expect(parseHhmm('9am')).toBeNull();
  });

  it('computes the local weekday with 1 = Monday', () => {
    // 2026-03-09 is a Monday; 03:00Z is still Sunday evening in New York.
    expect(localTime(new Date('2026-03-09T03:00:00Z'), NY).weekday).toBe(7);
    expect(localTime(new Date('2026-03-09T15:00:00Z'), NY).weekday).toBe(1);
  });

  it('follows the spring-forward switch: 09:00 local is 14:00Z before it and 13:00Z after', () => {
    // DST starts in the US on Sunday 2026-03-08. Friday 03-06 is EST (UTC-5); Monday 03-09 is EDT (UTC-4).
    expect(insideCallingHours(new Date('2026-03-06T13:30:00Z'), NY, weekdays9to17)).toBe(false); // 08:30 EST
    expect(insideCallingHours(new Date('2026-03-06T14:00:00Z'), NY, weekdays9to17)).toBe(true); // 09:00 EST
    expect(insideCallingHours(new Date('2026-03-06T21:59:00Z'), NY, weekdays9to17)).toBe(true); // 16:59 EST
    expect(insideCallingHours(new Date('2026-03-06T22:00:00Z'), NY, weekdays9to17)).toBe(false); // 17:00 EST

    expect(insideCallingHours(new Date('2026-03-09T12:59:00Z'), NY, weekdays9to17)).toBe(false); // 08:59 EDT
    expect(insideCallingHours(new Date('2026-03-09T13:00:00Z'), NY, weekdays9to17)).toBe(true); // 09:00 EDT
    expect(insideCallingHours(new Date('2026-03-09T20:59:00Z'), NY, weekdays9to17)).toBe(true); // 16:59 EDT
    expect(insideCallingHours(new Date('2026-03-09T21:00:00Z'), NY, weekdays9to17)).toBe(false); // 17:00 EDT
  });

  it('follows the fall-back switch', () => {
    // DST ends on Sunday 2026-11-01. Friday 10-30 is EDT; Monday 11-02 is EST.
    expect(insideCallingHours(new Date('2026-10-30T13:00:00Z'), NY, weekdays9to17)).toBe(true); // 09:00 EDT
    expect(insideCallingHours(new Date('2026-11-02T13:00:00Z'), NY, weekdays9to17)).toBe(false); // 08:00 EST
    expect(insideCallingHours(new Date('2026-11-02T14:00:00Z'), NY, weekdays9to17)).toBe(true); // 09:00 EST
  });

  it('skips days not listed', () => {
    // Saturday 2026-03-07 at 10:00 EST.
    expect(insideCallingHours(new Date('2026-03-07T15:00:00Z'), NY, weekdays9to17)).toBe(false);
    expect(insideCallingHours(new Date('2026-03-07T15:00:00Z'), NY, { ...weekdays9to17, days: [6] })).toBe(true);
  });

  it('respects startAt and endAt, and dials any time without calling hours', () => {
    const schedule = { timezone: 'UTC', startAt: '2026-03-01T00:00:00.000Z', endAt: '2026-03-02T00:00:00.000Z' };
    expect(mayDialAt(new Date('2026-02-28T23:59:59Z'), schedule)).toBe(false);
    expect(mayDialAt(new Date('2026-03-01T03:00:00Z'), schedule)).toBe(true);
    expect(mayDialAt(new Date('2026-03-02T00:00:00Z'), schedule)).toBe(false);
    expect(mayDialAt(new Date('2026-03-01T03:00:00Z'), { timezone: 'UTC' })).toBe(true);
  });
});
