/**
 * Calling windows: when a campaign may dial, in the campaign's own IANA timezone.
 *
 * Local wall-clock time comes from `Intl.DateTimeFormat` with `timeZone`, so daylight-saving
 * switches are the platform's tz database's business, not ours: 09:00 in America/New_York is
 * 13:00Z in summer and 14:00Z in winter without a line of offset arithmetic here.
 */
import type { CampaignSchedule, CallingHours } from '../store/types.js';

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** ISO weekday numbers (1 = Monday … 7 = Sunday) by the short English names Intl prints. */
const ISO_WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** True when `timezone` names a zone the platform knows (Intl throws RangeError otherwise). */
export function isValidTimezone(timezone: string): boolean {
  if (!timezone) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** Minutes since local midnight for "HH:MM", or null when malformed. */
export function parseHhmm(value: string): number | null {
  const m = HHMM.exec(value);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

// Formatters are costly to build and the dialer asks every tick: keep one per zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timezone, f);
  }
  return f;
}

export interface LocalTime {
  /** ISO weekday, 1 = Monday. */
  weekday: number;
  /** Minutes since local midnight. */
  minutes: number;
}

export function localTime(at: Date, timezone: string): LocalTime {
  const parts = formatterFor(timezone).formatToParts(at);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return {
    weekday: ISO_WEEKDAY[get('weekday')] ?? 0,
    minutes: Number(get('hour')) * 60 + Number(get('minute')),
  };
}

/** Inside the daily window: the listed weekday and start <= local time < end. */
export function insideCallingHours(at: Date, timezone: string, hours: CallingHours): boolean {
  const start = parseHhmm(hours.start);
  const end = parseHhmm(hours.end);
  if (start === null || end === null) return false;
  const local = localTime(at, timezone);
  return hours.days.includes(local.weekday) && local.minutes >= start && local.minutes < end;
}

/** Whether the dialer may place a call for this schedule at `at`. */
export function mayDialAt(at: Date, schedule: CampaignSchedule): boolean {
  if (schedule.startAt && at.getTime() < Date.parse(schedule.startAt)) return false;
  if (schedule.endAt && at.getTime() >= Date.parse(schedule.endAt)) return false;
  if (schedule.callingHours) return insideCallingHours(at, schedule.timezone, schedule.callingHours);
  return true;
}

/** True once the schedule's `endAt` has passed: no call will ever be placed again. */
export function scheduleEnded(at: Date, schedule: CampaignSchedule): boolean {
  return !!schedule.endAt && at.getTime() >= Date.parse(schedule.endAt);
}
