/**
 * The Calendly tool preset (API.md, "Calendly preset"): two tools over Calendly API v2, with
 * the agent's personal access token from the env var `tokenEnv` sent as `Authorization: Bearer`.
 *
 * - `calendly_availability {startDate, endDate}` → `GET /event_type_available_times`.
 *   Calendly refuses a start in the past and a range over 7 days, and does not paginate this
 *   endpoint (developer.calendly.com "Event Type Availability"): the start is moved to now, the
 *   range clipped to 7 days, and the model is told so.
 * - `calendly_book {startTime, name, email, phone?}` → Scheduling API `POST /invitees` with
 *   `{event_type, start_time, invitee: {name, email, timezone, text_reminder_number?},
 *   location?}` (Calendly "Create Event Invitee"). An event type whose location is an
 *   `outbound_call` (the host calls the invitee) needs the number as `location`.
 *
 * Whatever Calendly answers, the model gets a ToolResult in words it can relay (expired token,
 * unknown event type, no open times, the slot just taken, rate limit): the call goes on.
 *
 * Storage: a preset is two ordinary tool rows, read back by `calendlyPresetOf`: `url` is the
 * event type URI, `headers.authorization` the token reference (`Bearer {{env.NAME}}`), and
 * `x-voxgate-preset` / `x-voxgate-timezone` mark the preset and its zone (never sent anywhere).
 */
import type { ToolSpec } from '../providers/llm/types.js';
import type { Logger } from '../logger.js';
import type { AgentTool } from '../store/types.js';
import { isAbortError } from '../errors.js';
import type { ToolResult } from './types.js';
import { scrubSecrets } from './env-template.js';
import { formatDay, formatLocal, nextDay, parseInstant, startOfDay, toCalendlyTime } from './calendly-time.js';

export const CALENDLY_PRESET = 'calendly';
export const CALENDLY_AVAILABILITY = 'calendly_availability';
export const CALENDLY_BOOK = 'calendly_book';
export const CALENDLY_TOOL_NAMES: readonly string[] = [CALENDLY_AVAILABILITY, CALENDLY_BOOK];
/** API.md, Configuration: CALENDLY_BASE_URL. */
export const DEFAULT_CALENDLY_BASE_URL = 'https://api.calendly.com';
/** Zone for local times when the preset names none. */
export const DEFAULT_CALENDLY_TIMEZONE = 'UTC';
/** Headers that hold the preset's own settings in the tool row (reserved: never a webhook's). */
export const PRESET_HEADER = 'x-voxgate-preset';
export const TIMEZONE_HEADER = 'x-voxgate-timezone';
/** Per Calendly request; its API answers in well under a second, a booking can take a few. */
const CALENDLY_TIMEOUT_MS = 8000;
/** developer.calendly.com: "cannot be a range greater than 7 days". */
const MAX_RANGE_MS = 7 * 24 * 3600 * 1000;
/** A start "now" must still be in the future when it reaches Calendly. */
const START_MARGIN_MS = 60_000;
/** Slots listed to the model: a phone caller can take in a handful, not a week of half hours. */
const MAX_SLOTS = 24;
/** Largest Calendly response read; theirs are a few KiB. */
const MAX_RESPONSE_CHARS = 256 * 1024;
/** Characters of Calendly's own error message passed on ("start_time is not available"). */
const MESSAGE_CHARS = 200;

export interface CalendlyPreset {
  eventTypeUri: string;
  tokenEnv: string;
  timezone: string;
}

/** `https://api.calendly.com/event_types/<uuid>` → the uuid (the only part ever requested). */
export function eventTypeUuid(uri: string): string | null {
  try {
    const u = new URL(uri);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
    return /^\/event_types\/([A-Za-z0-9_-]{1,100})\/?$/.exec(u.pathname)?.[1] ?? null;
  } catch {
    return null;
  }
}

const AVAILABILITY_SPEC: ToolSpec = {
  name: CALENDLY_AVAILABILITY,
  description:
    'List the open appointment times between two dates (at most 7 days apart). Use it before booking, then offer the caller two or three of the times.',
  parameters: {
    type: 'object',
    properties: {
      startDate: { type: 'string', description: 'First day to look at, YYYY-MM-DD (or an ISO date-time).' },
      endDate: { type: 'string', description: 'Last day to look at, YYYY-MM-DD (inclusive).' },
    },
    required: ['startDate', 'endDate'],
    additionalProperties: false,
  },
};

const BOOK_SPEC: ToolSpec = {
  name: CALENDLY_BOOK,
  description:
    'Book one of the open times from calendly_availability for the caller. Confirm the time, their name and email with them first. Calendly emails them the invitation.',
  parameters: {
    type: 'object',
    properties: {
      startTime: { type: 'string', description: 'The startTime of an open slot exactly as calendly_availability returned it.' },
      name: { type: 'string', minLength: 1, maxLength: 200, description: "The caller's full name." },
      email: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', description: "The caller's email address." },
      phone: { type: 'string', pattern: '^\\+[1-9][0-9]{6,14}$', description: 'Optional: their phone number in E.164 (+14155550100), for text reminders.' },
    },
    required: ['startTime', 'name', 'email'],
    additionalProperties: false,
  },
};

/** The two tool rows of a preset. */
export function calendlyToolRows(agentId: string, preset: CalendlyPreset, createdAt: string): AgentTool[] {
  const headers = { authorization: `Bearer {{env.${preset.tokenEnv}}}`, [PRESET_HEADER]: CALENDLY_PRESET, [TIMEZONE_HEADER]: preset.timezone };
  const row = (spec: ToolSpec, method: 'GET' | 'POST'): AgentTool => ({
    agentId,
    name: spec.name,
    description: spec.description,
    parameters: spec.parameters,
    url: preset.eventTypeUri,
    method,
    headers: { ...headers },
    timeoutMs: CALENDLY_TIMEOUT_MS,
    createdAt,
  });
  return [row(AVAILABILITY_SPEC, 'GET'), row(BOOK_SPEC, 'POST')];
}

/** The preset a stored tool belongs to, or null for an ordinary webhook tool. */
export function calendlyPresetOf(tool: AgentTool): CalendlyPreset | null {
  const h = tool.headers ?? {};
  if (h[PRESET_HEADER] !== CALENDLY_PRESET || !CALENDLY_TOOL_NAMES.includes(tool.name)) return null;
  const tokenEnv = /^Bearer \{\{env\.([A-Za-z_][A-Za-z0-9_]*)\}\}$/.exec(h['authorization'] ?? '')?.[1];
  if (!tokenEnv) return null;
  return { eventTypeUri: tool.url, tokenEnv, timezone: h[TIMEZONE_HEADER] || DEFAULT_CALENDLY_TIMEZONE };
}

export interface CalendlyCall {
  tool: string;
  preset: CalendlyPreset;
  args: Record<string, unknown>;
  env: Record<string, string>;
  baseUrl: string;
  signal: AbortSignal;
  log: Logger;
  now?: () => number;
}

type Outcome = { ok: true; body: any } | { ok: false; output: string };

export async function runCalendly(c: CalendlyCall): Promise<ToolResult> {
  const token = c.env[c.preset.tokenEnv];
  const fail = (why: string): ToolResult => ({ ok: false, output: scrubSecrets(`${c.tool} failed: ${why}`, token ? [token] : []) });
  if (!token) {
    c.log.warn({ tool: c.tool, envVar: c.preset.tokenEnv }, 'Calendly token env var is not set');
    return fail('the calendar is not connected (its access token is not configured). Tell the caller you cannot book right now and offer another way.');
  }
  const uuid = eventTypeUuid(c.preset.eventTypeUri);
  if (!uuid) return fail('the calendar is misconfigured (the event type is not a Calendly event type URI).');
  const api = new CalendlyApi(c.baseUrl, token, c.signal, c.log);
  const now = (c.now ?? Date.now)();
  const result = c.tool === CALENDLY_BOOK ? await book(api, c, uuid, now) : await availability(api, c, now);
  return result.ok ? result : { ok: false, output: scrubSecrets(result.output, [token]) };
}

async function availability(api: CalendlyApi, c: CalendlyCall, now: number): Promise<ToolResult> {
  const tz = c.preset.timezone;
  const fail = (why: string): ToolResult => ({ ok: false, output: `${c.tool} failed: ${why}` });
  const from = startOfDay(String(c.args['startDate']), tz);
  const lastDay = startOfDay(String(c.args['endDate']), tz);
  if (from === null || lastDay === null) return fail('startDate and endDate must be dates like 2026-12-02.');
  let start = from;
  let end = nextDay(lastDay, tz);
  const notes: string[] = [];
  if (end <= now) return fail(`those dates are in the past (today is ${formatDay(now, tz)}). Ask about dates from today on.`);
  if (end <= start) return fail('endDate is before startDate.');
  if (start < now + START_MARGIN_MS) start = now + START_MARGIN_MS;
  if (end - start > MAX_RANGE_MS) {
    end = start + MAX_RANGE_MS;
    notes.push(`Calendly shows at most 7 days at a time: these are the times up to ${formatLocal(end, tz)}; ask again for later dates.`);
  }
  const q = new URLSearchParams({ event_type: c.preset.eventTypeUri, start_time: toCalendlyTime(start), end_time: toCalendlyTime(end) });
  const res = await api.request('GET', `/event_type_available_times?${q}`, null, 'availability');
  if (!res.ok) return { ok: false, output: `${c.tool} failed: ${res.output}` };
  const open = (Array.isArray(res.body?.collection) ? res.body.collection : [])
    .filter((s: any) => s?.status === 'available' && typeof s.start_time === 'string' && !Number.isNaN(Date.parse(s.start_time)))
    .map((s: any) => s.start_time as string);
  const span = `${formatLocal(start, tz)} and ${formatLocal(end, tz)} (${tz})`;
  if (open.length === 0) return fail(`there are no open times between ${span}. Offer the caller other dates.`);
  const slots = open.slice(0, MAX_SLOTS).map((s: string) => ({ startTime: new Date(Date.parse(s)).toISOString(), local: formatLocal(Date.parse(s), tz) }));
  if (open.length > MAX_SLOTS) notes.push(`${open.length - MAX_SLOTS} more open times after these; ask about a narrower range for them.`);
  return { ok: true, output: JSON.stringify({ timezone: tz, slots, ...(notes.length ? { note: notes.join(' ') } : {}) }) };
}

async function book(api: CalendlyApi, c: CalendlyCall, uuid: string, now: number): Promise<ToolResult> {
  const tz = c.preset.timezone;
  const fail = (why: string): ToolResult => ({ ok: false, output: `${c.tool} failed: ${why}` });
  const startMs = parseInstant(String(c.args['startTime']), tz);
  if (startMs === null) return fail('startTime must be one of the startTime values calendly_availability returned.');
  if (startMs <= now) return fail(`that time (${formatLocal(startMs, tz)}) has already passed. Check availability again.`);
  const phone = typeof c.args['phone'] === 'string' ? c.args['phone'] : undefined;

  // The event type says whether the host calls the invitee (then the number is the location).
  const et = await api.request('GET', `/event_types/${encodeURIComponent(uuid)}`, null, 'event type');
  if (!et.ok) return { ok: false, output: `${c.tool} failed: ${et.output}` };
  const kinds: string[] = (Array.isArray(et.body?.resource?.locations) ? et.body.resource.locations : []).map((l: any) => String(l?.kind));
  let location: Record<string, string> | undefined;
  if (kinds.includes('outbound_call')) {
    if (!phone) return fail("this appointment is a phone call, so it needs the caller's phone number (E.164, e.g. +14155550100). Ask for it and try again.");
    location = { kind: 'outbound_call', location: phone };
  }
  const invitee: Record<string, string> = { name: String(c.args['name']), email: String(c.args['email']), timezone: tz };
  if (phone) invitee['text_reminder_number'] = phone;
  const body = { event_type: c.preset.eventTypeUri, start_time: toCalendlyTime(startMs), invitee, ...(location ? { location } : {}) };
  const res = await api.request('POST', '/invitees', body, 'booking');
  if (!res.ok) return { ok: false, output: `${c.tool} failed: ${res.output}` };
  const r = res.body?.resource ?? {};
  c.log.info({ tool: c.tool, invitee: r.uri ?? null }, 'Calendly booking made');
  return {
    ok: true,
    output: JSON.stringify({
      booked: true,
      startTime: new Date(startMs).toISOString(),
      local: formatLocal(startMs, tz),
      timezone: tz,
      name: invitee['name'],
      email: invitee['email'],
      note: `Booked. Calendly emails the invitation to ${invitee['email']}.`,
      ...(r.cancel_url ? { cancelUrl: r.cancel_url } : {}),
      ...(r.reschedule_url ? { rescheduleUrl: r.reschedule_url } : {}),
    }),
  };
}

/** One Calendly request: JSON in and out, failures turned into words for the model. */
class CalendlyApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
  ) {}

  async request(method: 'GET' | 'POST', path: string, body: unknown, what: 'availability' | 'event type' | 'booking'): Promise<Outcome> {
    const timeout = AbortSignal.timeout(CALENDLY_TIMEOUT_MS);
    const started = Date.now();
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.baseUrl.replace(/\/+$/, '')}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body !== null ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== null ? JSON.stringify(body) : undefined,
        signal: AbortSignal.any([this.signal, timeout]),
        redirect: 'error',
      });
      text = (await res.text()).slice(0, MAX_RESPONSE_CHARS);
    } catch (err) {
      if (this.signal.aborted) return { ok: false, output: 'cancelled' };
      const timedOut = timeout.aborted || isAbortError(err);
      this.log.warn({ what, timedOut, err: (err as Error).message }, 'Calendly request failed');
      return { ok: false, output: timedOut ? 'Calendly did not answer in time. Tell the caller and offer to try again.' : 'Calendly cannot be reached right now. Tell the caller and offer to try again later.' };
    }
    this.log.info({ what, status: res.status, ms: Date.now() - started }, 'Calendly request');
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (res.status >= 200 && res.status < 300) return { ok: true, body: json };
    return { ok: false, output: failureWords(res.status, json, res.headers.get('x-ratelimit-reset'), what) };
  }
}

/** Calendly's error (`{title, message, details}`) as a sentence the model can act on. */
function failureWords(status: number, body: any, resetSeconds: string | null, what: 'availability' | 'event type' | 'booking'): string {
  const detail = Array.isArray(body?.details) ? body.details.map((d: any) => [d?.parameter, d?.message].filter(Boolean).join(' ')).join('; ') : '';
  const said = [typeof body?.message === 'string' ? body.message : '', detail].filter(Boolean).join(' — ').slice(0, MESSAGE_CHARS);
  const calendly = said ? ` (Calendly: ${said})` : '';
  switch (true) {
    case status === 401:
      return `the calendar connection is not authorised: Calendly rejected the access token${calendly}. Tell the caller you cannot book right now and someone will follow up.`;
    case status === 403:
      return `Calendly refused: this account's plan or permissions do not allow booking through the API${calendly}. Tell the caller you cannot book right now.`;
    case status === 404:
      return `the appointment type was not found in Calendly${calendly}. Tell the caller you cannot book right now.`;
    case status === 429: {
      const wait = Number(resetSeconds);
      const when = Number.isFinite(wait) && wait > 0 ? `about ${Math.ceil(wait)} seconds` : 'a minute';
      return `Calendly is limiting requests right now; try again in ${when}. Ask the caller to hold on or offer to call back.`;
    }
    case what === 'booking' && (status === 409 || (status === 400 && /start_time|available/i.test(said))):
      return `that time could not be booked, most likely because it is no longer free${calendly}. Check availability again and offer the caller another time.`;
    case status === 400:
      return `Calendly refused the ${what === 'booking' ? 'booking' : 'request'}${calendly}. Check the details with the caller and try again.`;
    default:
      return `Calendly had a problem (HTTP ${status})${calendly}. Tell the caller and offer to try again later.`;
  }
}
