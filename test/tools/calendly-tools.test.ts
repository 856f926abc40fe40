/**
 * The Calendly preset's two tools through the shared tool runner, against the fake Calendly:
 * what Calendly is sent (auth, event type, UTC range, invitee body, location), how Calendly's
 * limits are respected (past start moved, 7-day range clipped), and every failure reaching the
 * model as a tool error in words it can relay — never a throw, never the token.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToolRunner } from '../../src/tools/index.js';
import { calendlyToolRows, type CalendlyPreset } from '../../src/tools/calendly.js';
import { startFakeCalendly, type FakeCalendly } from '../fakes/calendly.js';
import { makeToolDeps } from './tool-fixtures.js';

const TOKEN = 'cal-pat-secret-123';
const TZ = 'America/New_York';
const DAY = 24 * 3600 * 1000;
const signal = new AbortController().signal;

/** A whole UTC hour `days` from now at `hourUtc`. */
function at(days: number, hourUtc: number): string {
  const d = new Date(Date.now() + days * DAY);
  d.setUTCHours(hourUtc, 0, 0, 0);
  return d.toISOString();
}
/** YYYY-MM-DD of the New York day `days` from now. */
function nyDay(days: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + days * DAY));
}

let cal: FakeCalendly;
let preset: CalendlyPreset;
beforeEach(async () => {
  cal = await startFakeCalendly({ token: TOKEN, slots: { ET1: [at(2, 15), at(2, 16), at(3, 15), at(10, 15)], EMPTY: [] }, locations: { ET1: [] } });
  preset = { eventTypeUri: `${cal.url}/event_types/ET1`, tokenEnv: 'CALENDLY_TOKEN', timezone: TZ };
});
afterEach(() => cal.close());

async function runner(p: CalendlyPreset = preset, env: Record<string, string> = { CALENDLY_TOKEN: TOKEN }) {
  const { deps, log } = makeToolDeps({ tools: calendlyToolRows('agt_test', p, '2026-01-01T00:00:00.000Z'), env });
  deps.calendlyBaseUrl = cal.url;
  return { tools: await createToolRunner(deps), log };
}

describe('calendly_availability', () => {
  it('asks Calendly for the local days in UTC with the bearer token and lists the open times in words', async () => {
    const { tools } = await runner();
    expect(tools.specs.map((s) => s.name)).toEqual(['end_call', 'transfer_call', 'calendly_availability', 'calendly_book']);
    const res = await tools.run('calendly_availability', JSON.stringify({ startDate: nyDay(1), endDate: nyDay(4) }), signal);
    expect(res.ok).toBe(true);
    const req = cal.requests.at(-1)!;
    expect(req).toMatchObject({ method: 'GET', path: '/event_type_available_times' });
    expect(req.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(req.query['event_type']).toBe(preset.eventTypeUri);
    // The New York day starts at 05:00 or 04:00 UTC.
    expect(req.query['start_time']).toMatch(/T0[45]:00:00\.000Z$/);
    const out = JSON.parse(res.output);
    expect(out.timezone).toBe(TZ);
    expect(out.slots.map((s: { startTime: string }) => s.startTime)).toEqual([at(2, 15), at(2, 16), at(3, 15)]);
    expect(out.slots[0].local).toMatch(/^[A-Z][a-z]{2}, [A-Z][a-z]{2} \d{1,2}, \d{1,2}:00 (AM|PM)$/);
    expect(out.note).toBeUndefined();
  });

  it('moves a start in the past to now and clips a range over 7 days, telling the model', async () => {
    const { tools } = await runner();
    const res = await tools.run('calendly_availability', JSON.stringify({ startDate: nyDay(-3), endDate: nyDay(20) }), signal);
    expect(res.ok).toBe(true);
    const q = cal.requests.at(-1)!.query;
    expect(Date.parse(q['start_time']!)).toBeGreaterThan(Date.now() - 5000);
    expect(Date.parse(q['end_time']!) - Date.parse(q['start_time']!)).toBe(7 * DAY);
    const out = JSON.parse(res.output);
    expect(out.note).toMatch(/at most 7 days/);
    expect(out.slots.map((s: { startTime: string }) => s.startTime)).not.toContain(at(10, 15));
  });

  it('dates wholly in the past, or backwards, are refused without asking Calendly', async () => {
    const { tools } = await runner();
    const past = await tools.run('calendly_availability', JSON.stringify({ startDate: nyDay(-5), endDate: nyDay(-3) }), signal);
    expect(past).toEqual({ ok: false, output: expect.stringMatching(/in the past/) });
    const backwards = await tools.run('calendly_availability', JSON.stringify({ startDate: nyDay(5), endDate: nyDay(3) }), signal);
    expect(backwards.output).toMatch(/endDate is before startDate/);
    const garbage = await tools.run('calendly_availability', JSON.stringify({ startDate: 'next tuesday', endDate: nyDay(3) }), signal);
    expect(garbage.output).toMatch(/must be dates like/);
    expect(cal.requests).toHaveLength(0);
  });

  it('no open times is a tool error the model can relay', async () => {
    const { tools } = await runner({ ...preset, eventTypeUri: `${cal.url}/event_types/EMPTY` });
    const res = await tools.run('calendly_availability', JSON.stringify({ startDate: nyDay(1), endDate: nyDay(2) }), signal);
    expect(res).toEqual({ ok: false, output: expect.stringMatching(/^calendly_availability failed: there are no open times between .* Offer the caller other dates\.$/) });
  });

  it('a rejected token (401), an unknown event type (404) and a rate limit (429) come back in words, without the token', async () => {
    const bad = await runner(preset, { CALENDLY_TOKEN: 'expired-token-xyz' });
    const r401 = await bad.tools.run('calendly_availability', JSON.stringify({ startDate: nyDay(1), endDate: nyDay(2) }), signal);
    expect(r401.ok).toBe(false);
    expect(r401.output).toMatch(/not authorised.*Calendly: The access token is invalid/);
    expect(r401.output).not.toContain('expired-token-xyz');

    const { tools } = await runner({ ...preset, eventTypeUri: `${cal.url}/event_types/NOPE` });
    const r404 = await tools.run('calendly_availability', JSON.stringify({ startDate: nyDay(1), endDate: nyDay(2) }), signal);
    expect(r404.output).toMatch(/appointment type was not found/);

    cal.failNext(429);
    const r429 = await tools.run('calendly_availability', JSON.stringify({ startDate: nyDay(1), endDate: nyDay(2) }), signal);
    expect(r429.output).toMatch(/limiting requests right now; try again in about 60 seconds/);
  });

  it('without the token env var the tool says it is not connected, and Calendly is not called', async () => {
    const { tools, log } = await runner(preset, {});
    const res = await tools.run('calendly_availability', JSON.stringify({ startDate: nyDay(1), endDate: nyDay(2) }), signal);
    expect(res.output).toMatch(/not connected/);
    expect(cal.requests).toHaveLength(0);
    expect(log.lines.join('')).toContain('CALENDLY_TOKEN');
  });

  it('Calendly unreachable is a tool error, not a throw', async () => {
    const { deps } = makeToolDeps({ tools: calendlyToolRows('agt_test', preset, '2026-01-01T00:00:00.000Z'), env: { CALENDLY_TOKEN: TOKEN } });
    deps.calendlyBaseUrl = 'http://127.0.0.1:1';
    const tools = await createToolRunner(deps);
    const res = await tools.run('calendly_availability', JSON.stringify({ startDate: nyDay(1), endDate: nyDay(2) }), signal);
    expect(res).toEqual({ ok: false, output: expect.stringMatching(/cannot be reached/) });
  });
});

describe('calendly_book', () => {
  const booking = (over: Record<string, unknown> = {}) => JSON.stringify({ startTime: at(2, 15), name: 'Ada Lovelace', email: 'ada@example.com', ...over });

  it('creates the invitee with Calendly’s body and confirms in words', async () => {
    const { tools } = await runner();
    const res = await tools.run('calendly_book', booking({ phone: '+14155550100' }), signal);
    expect(res.ok).toBe(true);
    const post = cal.requests.find((r) => r.method === 'POST')!;
    expect(post.path).toBe('/invitees');
    expect(post.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(post.json).toEqual({
      event_type: preset.eventTypeUri,
      start_time: at(2, 15),
      invitee: { name: 'Ada Lovelace', email: 'ada@example.com', timezone: TZ, text_reminder_number: '+14155550100' },
    });
    const out = JSON.parse(res.output);
    expect(out).toMatchObject({ booked: true, startTime: at(2, 15), email: 'ada@example.com', cancelUrl: expect.stringContaining('cancellations') });
    expect(cal.bookings).toHaveLength(1);
  });

  it('a slot taken meanwhile (400, or 409) says so and suggests checking again; the slot is gone from availability', async () => {
    const { tools } = await runner();
    expect((await tools.run('calendly_book', booking(), signal)).ok).toBe(true);
    const again = await tools.run('calendly_book', booking({ email: 'bob@example.com' }), signal);
    expect(again).toEqual({ ok: false, output: expect.stringMatching(/no longer free.*Check availability again/) });
    cal.takenStatus = 409;
    const conflict = await tools.run('calendly_book', booking({ email: 'eve@example.com' }), signal);
    expect(conflict.output).toMatch(/no longer free/);
    const left = JSON.parse((await tools.run('calendly_availability', JSON.stringify({ startDate: nyDay(1), endDate: nyDay(4) }), signal)).output);
    expect(left.slots.map((s: { startTime: string }) => s.startTime)).not.toContain(at(2, 15));
  });

  it('a time without an offset is read in the preset’s zone', async () => {
    const { tools } = await runner();
    const utc = new Date(at(3, 15));
    const local = new Intl.DateTimeFormat('sv-SE', { timeZone: TZ, dateStyle: 'short', timeStyle: 'short' }).format(utc).replace(' ', 'T');
    const res = await tools.run('calendly_book', booking({ startTime: local }), signal);
    expect(res.ok).toBe(true);
    expect(cal.bookings[0]!.startTime).toBe(at(3, 15));
  });

  it('an outbound-call event type needs the phone as its location', async () => {
    cal.locations['ET1'] = ['outbound_call'];
    const { tools } = await runner();
    const without = await tools.run('calendly_book', booking(), signal);
    expect(without.output).toMatch(/needs the caller's phone number/);
    expect(cal.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    const withPhone = await tools.run('calendly_book', booking({ phone: '+14155550100' }), signal);
    expect(withPhone.ok).toBe(true);
    expect(cal.bookings[0]!.location).toEqual({ kind: 'outbound_call', location: '+14155550100' });
  });

  it('a past time, a free plan (403) and the booking rate limit (429) are tool errors', async () => {
    const { tools } = await runner();
    const past = await tools.run('calendly_book', booking({ startTime: at(-1, 15) }), signal);
    expect(past.output).toMatch(/already passed/);
    cal.paidPlan = false;
    expect((await tools.run('calendly_book', booking(), signal)).output).toMatch(/plan or permissions do not allow booking/);
    cal.paidPlan = true;
    cal.bookingsPerMinute = 0;
    expect((await tools.run('calendly_book', booking(), signal)).output).toMatch(/limiting requests/);
  });

  it('bad arguments are refused by the schema before Calendly hears of them', async () => {
    const { tools } = await runner();
    const res = await tools.run('calendly_book', JSON.stringify({ startTime: at(2, 15), name: 'Ada', email: 'not-an-email' }), signal);
    expect(res.ok).toBe(false);
    expect(res.output).toMatch(/email/);
    expect(cal.requests).toHaveLength(0);
  });
});
