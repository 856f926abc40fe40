/**
 * Dates and times for the Calendly preset: the model speaks in the caller's local days and
 * times, Calendly in UTC instants. IANA zones through `Intl` (Node ships full ICU), no library.
 */

const DAY_MS = 24 * 3600 * 1000;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A date-time without an offset ("2026-12-02T14:30"), read in the preset's zone. */
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** ms to add to a UTC instant to get the wall-clock time in `tz` at that instant. */
function offsetMs(utcMs: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const n = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return wall - Math.floor(utcMs / 1000) * 1000;
}

/** The UTC instant of a wall-clock time in `tz` (two passes settle a DST change). */
function zonedToUtc(y: number, mo: number, d: number, h: number, mi: number, s: number, tz: string): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  let utc = wall - offsetMs(wall, tz);
  utc = wall - offsetMs(utc, tz);
  return utc;
}

/** The start of a day ("YYYY-MM-DD") in `tz`, or of the day an ISO instant falls on there. */
export function startOfDay(text: string, tz: string): number | null {
  const m = DATE_ONLY.exec(text.trim());
  if (m) return zonedToUtc(Number(m[1]), Number(m[2]), Number(m[3]), 0, 0, 0, tz);
  const t = parseInstant(text, tz);
  if (t === null) return null;
  const local = new Date(t + offsetMs(t, tz));
  return zonedToUtc(local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate(), 0, 0, 0, tz);
}

/** The day after `dayStart` in `tz` (23 or 25 hours across a DST change). */
export function nextDay(dayStart: number, tz: string): number {
  const local = new Date(dayStart + offsetMs(dayStart, tz) + DAY_MS);
  return zonedToUtc(local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate(), 0, 0, 0, tz);
}

/** An ISO instant with an offset or `Z`; without one, a wall-clock time in `tz`. */
export function parseInstant(text: string, tz: string): number | null {
  const s = text.trim();
  const local = LOCAL_DATE_TIME.exec(s);
  if (local) {
    const [, y, mo, d, h, mi, sec] = local;
    return zonedToUtc(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(sec ?? 0), tz);
  }
  if (!/[T ]\d{2}:\d{2}/.test(s) || !/(Z|[+-]\d{2}:?\d{2})$/i.test(s)) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** "Wed, Dec 2, 2:30 PM" in `tz`: words the model can say. */
export function formatLocal(utcMs: number, tz: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' }).format(new Date(utcMs));
}

/** "Wed, Dec 2" in `tz`. */
export function formatDay(utcMs: number, tz: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', month: 'short', day: 'numeric' }).format(new Date(utcMs));
}

/** Calendly's timestamps: ISO UTC with microseconds is accepted, milliseconds are enough. */
export function toCalendlyTime(utcMs: number): string {
  return new Date(utcMs).toISOString();
}
