/**
 * A fake Calendly API v2 on 127.0.0.1 for the Calendly tool preset: the three endpoints the
 * preset uses, with Calendly's auth, limits, error bodies and rate-limit headers. Every request
 * is recorded.
 *
 * Sources:
 * - Error bodies `{title, message, details?: [{parameter, message}]}` and list pagination
 *   `{count, next_page, previous_page, next_page_token, previous_page_token}`: Calendly's
 *   OpenAPI as published in api-evangelist/calendly (collections/calendly-scheduling-api).
 * - `GET /event_type_available_times?event_type&start_time&end_time` → `{collection: [{status:
 *   "available", invitees_remaining, start_time, scheduling_url}]}`; all three parameters
 *   required, start_time not in the past, end_time after start_time, range at most 7 days, and
 *   no keyset pagination (developer.calendly.com "Event Type Availability"; withone.ai's
 *   Calendly "List an Event Type's Available Times"). So the fake has no pagination there.
 * - `POST /invitees` (Scheduling API, "Create Event Invitee"): body `{event_type, start_time,
 *   invitee: {email, timezone, name | first_name, last_name?, text_reminder_number?}, location?,
 *   questions_and_answers?, tracking?}` → 201 `{resource: {uri, email, name, status, timezone,
 *   event, text_reminder_number, cancel_url, reschedule_url, created_at, updated_at}}`; paid plans
 *   only (free plans get 403); a start_time that is not an open slot is refused with a 400
 *   (calendly-preview.mintlify.app create-event-invitee; developer.calendly.com "Schedule events
 *   with AI agents"). The refusal's wording is not documented; `takenStatus` can make it a 409.
 * - Rate limits: `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` on every
 *   response; 429 when exceeded; Create Event Invitee is limited to 10 a minute per user
 *   (Calendly "API Rate Limits").
 * - `GET /event_types/:uuid` → `{resource: {uri, name, duration, scheduling_url, locations:
 *   [{kind, …}]}}`; 404 `Resource Not Found` for an unknown one.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeCalendlyOptions {
  token?: string;
  /** Open slots (ISO UTC start times) per event type uuid. */
  slots?: Record<string, string[]>;
  /** Location kinds per event type uuid (default: none configured). */
  locations?: Record<string, string[]>;
  /** Create Event Invitee requests allowed per minute (Calendly: 10). */
  bookingsPerMinute?: number;
  /** `false`: a free plan, which the Scheduling API refuses (403). */
  paidPlan?: boolean;
  now?: () => number;
}

export interface RecordedCalendlyRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  json: any;
}

export interface FakeCalendly {
  url: string;
  token: string;
  requests: RecordedCalendlyRequest[];
  /** Bookings made, by start time. */
  bookings: Array<{ eventType: string; startTime: string; invitee: Record<string, unknown>; location: unknown }>;
  slots: Record<string, string[]>;
  locations: Record<string, string[]>;
  /** Status for a booking of a slot that is not open (Calendly: 400). */
  takenStatus: 400 | 409;
  paidPlan: boolean;
  bookingsPerMinute: number;
  /** The next request (any endpoint) is answered with this status and a Calendly error body. */
  failNext(status: number): void;
  close(): Promise<void>;
}

const ERRORS: Record<number, { title: string; message: string }> = {
  401: { title: 'Unauthenticated', message: 'The access token is invalid' },
  403: { title: 'Permission Denied', message: 'You do not have permission to access this resource.' },
  404: { title: 'Resource Not Found', message: 'The server could not find the requested resource.' },
  429: { title: 'Too Many Requests', message: 'You have exceeded the rate limit. Please try again later.' },
  500: { title: 'Internal Server Error', message: 'The server encountered an unexpected condition.' },
};
const WEEK_MS = 7 * 24 * 3600 * 1000;

export async function startFakeCalendly(options: FakeCalendlyOptions = {}): Promise<FakeCalendly> {
  const now = options.now ?? Date.now;
  let forced: number | null = null;
  const bookingTimes: number[] = [];
  const fake: FakeCalendly = {
    url: '',
    token: options.token ?? 'cal-pat-test',
    requests: [],
    bookings: [],
    slots: options.slots ?? {},
    locations: options.locations ?? {},
    takenStatus: 400,
    paidPlan: options.paidPlan ?? true,
    bookingsPerMinute: options.bookingsPerMinute ?? 10,
    failNext(status) {
      forced = status;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => handle(req, res, raw));
  });

  function send(res: ServerResponse, status: number, body: unknown, remaining = 99): void {
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': String(Math.max(0, remaining)),
      'x-ratelimit-reset': '60',
    });
    res.end(JSON.stringify(body));
  }
  function error(res: ServerResponse, status: number, details?: Array<{ parameter: string; message: string }>, message?: string): void {
    const base = ERRORS[status] ?? { title: 'Invalid Argument', message: 'The supplied parameters are invalid.' };
    send(res, status, { ...base, ...(message ? { message } : {}), ...(details ? { details } : {}) }, status === 429 ? 0 : 99);
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let json: any = null;
    try {
      json = raw ? JSON.parse(raw) : null;
    } catch {
      json = undefined;
    }
    fake.requests.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, json });
    if (req.headers['authorization'] !== `Bearer ${fake.token}`) return error(res, 401);
    if (forced !== null) {
      const status = forced;
      forced = null;
      return error(res, status);
    }
    const eventType = /^\/event_types\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    if (req.method === 'GET' && eventType) return getEventType(res, eventType[1]!);
    if (req.method === 'GET' && url.pathname === '/event_type_available_times') return availableTimes(res, url.searchParams);
    if (req.method === 'POST' && url.pathname === '/invitees') {
      if (json === undefined) return error(res, 400, undefined, 'The request body is not valid JSON.');
      return createInvitee(res, json ?? {});
    }
    return error(res, 404);
  }

  /** The uuid of an event type URI that names one of ours, or null. */
  function uuidOf(uri: unknown): string | null {
    if (typeof uri !== 'string') return null;
    const m = /\/event_types\/([A-Za-z0-9_-]+)$/.exec(uri);
    return m && m[1]! in fake.slots ? m[1]! : null;
  }

  function getEventType(res: ServerResponse, uuid: string): void {
    if (!(uuid in fake.slots)) return error(res, 404);
    send(res, 200, {
      resource: {
        uri: `${fake.url}/event_types/${uuid}`,
        name: `Event ${uuid}`,
        active: true,
        duration: 30,
        scheduling_url: `https://calendly.com/fake/${uuid}`,
        locations: (fake.locations[uuid] ?? []).map((kind) => ({ kind })),
      },
    });
  }

  function availableTimes(res: ServerResponse, q: URLSearchParams): void {
    const missing = ['event_type', 'start_time', 'end_time'].filter((p) => !q.get(p));
    if (missing.length) return error(res, 400, missing.map((parameter) => ({ parameter, message: 'is required' })));
    const start = Date.parse(q.get('start_time')!);
    const end = Date.parse(q.get('end_time')!);
    if (Number.isNaN(start) || Number.isNaN(end)) return error(res, 400, [{ parameter: 'start_time', message: 'must be a valid date-time' }]);
    if (start < now()) return error(res, 400, [{ parameter: 'start_time', message: 'must be in the future' }]);
    if (end <= start) return error(res, 400, [{ parameter: 'end_time', message: 'must be after start_time' }]);
    if (end - start > WEEK_MS) return error(res, 400, [{ parameter: 'end_time', message: 'date range can be no greater than 1 week (7 days)' }]);
    const uuid = uuidOf(q.get('event_type'));
    if (!uuid) return error(res, 404);
    const collection = fake.slots[uuid]!.filter((s) => Date.parse(s) >= start && Date.parse(s) < end && !isBooked(uuid, s))
      .sort()
      .map((s) => ({ status: 'available', invitees_remaining: 1, start_time: s, scheduling_url: `https://calendly.com/fake/${uuid}/${s}` }));
    send(res, 200, { collection });
  }

  function isBooked(uuid: string, startTime: string): boolean {
    return fake.bookings.some((b) => uuidOf(b.eventType) === uuid && Date.parse(b.startTime) === Date.parse(startTime));
  }

  function createInvitee(res: ServerResponse, b: Record<string, any>): void {
    const t = now();
    while (bookingTimes.length && bookingTimes[0]! <= t - 60_000) bookingTimes.shift();
    if (bookingTimes.length >= fake.bookingsPerMinute) return error(res, 429);
    bookingTimes.push(t);
    if (!fake.paidPlan) return error(res, 403, undefined, 'The Scheduling API requires a paid Calendly plan.');
    const details: Array<{ parameter: string; message: string }> = [];
    if (typeof b['event_type'] !== 'string') details.push({ parameter: 'event_type', message: 'is required' });
    if (typeof b['start_time'] !== 'string' || Number.isNaN(Date.parse(b['start_time']))) details.push({ parameter: 'start_time', message: 'is required' });
    const inv = b['invitee'];
    if (typeof inv !== 'object' || inv === null) details.push({ parameter: 'invitee', message: 'is required' });
    else {
      if (typeof inv.email !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(inv.email)) details.push({ parameter: 'invitee.email', message: 'is invalid' });
      if (typeof inv.timezone !== 'string') details.push({ parameter: 'invitee.timezone', message: 'is required' });
      if (typeof inv.name !== 'string' && typeof inv.first_name !== 'string') details.push({ parameter: 'invitee.name', message: 'name or first_name is required' });
      if (inv.text_reminder_number !== undefined && !/^\+[1-9][0-9]{6,14}$/.test(String(inv.text_reminder_number))) details.push({ parameter: 'invitee.text_reminder_number', message: 'is invalid' });
    }
    if (details.length) return error(res, 400, details);
    const uuid = uuidOf(b['event_type']);
    if (!uuid) return error(res, 404);
    const locations = fake.locations[uuid] ?? [];
    if (locations.includes('outbound_call') && (b['location']?.kind !== 'outbound_call' || typeof b['location']?.location !== 'string')) {
      return error(res, 400, [{ parameter: 'location', message: 'is required for this event type' }]);
    }
    const open = fake.slots[uuid]!.some((s) => Date.parse(s) === Date.parse(b['start_time']));
    if (!open || isBooked(uuid, b['start_time']) || Date.parse(b['start_time']) < t) {
      return error(res, fake.takenStatus, [{ parameter: 'start_time', message: 'The selected time is no longer available.' }]);
    }
    fake.bookings.push({ eventType: b['event_type'], startTime: b['start_time'], invitee: inv, location: b['location'] ?? null });
    const id = `INV${fake.bookings.length}`;
    const iso = new Date(t).toISOString();
    send(res, 201, {
      resource: {
        uri: `${fake.url}/scheduled_events/EV${fake.bookings.length}/invitees/${id}`,
        email: inv.email,
        name: inv.name ?? inv.first_name,
        status: 'active',
        timezone: inv.timezone,
        event: `${fake.url}/scheduled_events/EV${fake.bookings.length}`,
        text_reminder_number: inv.text_reminder_number ?? null,
        cancel_url: `https://calendly.com/cancellations/${id}`,
        reschedule_url: `https://calendly.com/reschedulings/${id}`,
        created_at: iso,
        updated_at: iso,
      },
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
