/**
 * A fake of Twilio's REST API as the official `twilio` SDK calls it (PROTOCOLS.md §2.5), plus
 * the Twilio side of webhooks (§2.1, §2.4) with real `X-Twilio-Signature`s (§2.3) computed here
 * independently of the SDK, so the gateway's signature check is exercised for real.
 *
 * - `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` (form-encoded, HTTP Basic
 *   AccountSid:AuthToken) → 201 with Twilio's call resource (snake_case, status `queued`).
 * - `POST …/Calls/{CallSid}.json` → update: `Status=completed|canceled` (canceled leaves an
 *   answered call alone; an unanswered call ends `canceled`), `Twiml`, `Url`.
 * - `GET …/Calls/{CallSid}.json` → fetch.
 * - Errors: `{code, message, more_info, status}` with Twilio's codes.
 *
 * Driving a call: `ring`/`answer`/`complete` post signed status callbacks to the call's
 * `StatusCallback`, only for the events it asked for (`completed` when none), with an
 * increasing `SequenceNumber`. `inboundCall` posts a signed voice webhook and returns the TwiML.
 * Shared with bench/: keep it free of test-runner imports.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeCallStatus = 'queued' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled';
type Params = Record<string, string | string[]>;

export interface RecordedRequest {
  method: string;
  path: string;
  /** Basic-auth user and password as sent. */
  username: string | null;
  password: string | null;
  contentType: string | undefined;
  params: Params;
}

export interface FakeCall {
  sid: string;
  direction: 'outbound-api' | 'inbound';
  to: string;
  from: string;
  status: FakeCallStatus;
  /** Every TwiML document the call ran, latest last (create, then updates). */
  twiml: string[];
  statusCallback: string | null;
  statusCallbackEvents: string[];
  sequence: number;
  createdAt: Date;
  answeredAt: Date | null;
}

export interface CallbackDelivery {
  callSid: string;
  url: string;
  params: Record<string, string>;
  signature: string;
  responseStatus: number;
  responseBody: string;
}

export interface TwilioError {
  status: number;
  code: number;
  message: string;
}

export interface StreamInfo {
  url: string;
  parameters: Record<string, string>;
}

export interface FakeTwilioRestOptions {
  accountSid?: string;
  authToken?: string;
  /** Keep every request and callback for inspection (default). Benchmarks turn it off. */
  keepHistory?: boolean;
}

const E164 = /^\+[1-9]\d{1,14}$/;
/** Twilio's documented limit on inline `Twiml` (PROTOCOLS.md §2.5). */
const TWIML_MAX_CHARS = 4000;

export class FakeTwilioRest {
  readonly accountSid: string;
  readonly authToken: string;
  readonly requests: RecordedRequest[] = [];
  readonly calls = new Map<string, FakeCall>();
  readonly callbacks: CallbackDelivery[] = [];
  /** `To` numbers whose create fails with this error (default: 400 code 21211). */
  readonly failTo = new Map<string, TwilioError>();
  /** Errors returned, one per request, before anything else is checked. */
  readonly failNext: TwilioError[] = [];
  private readonly keepHistory: boolean;
  private server: Server | null = null;
  private pending = new Set<Promise<unknown>>();
  baseUrl = '';

  constructor(opts: FakeTwilioRestOptions = {}) {
    this.accountSid = opts.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
    this.authToken = opts.authToken ?? randomBytes(16).toString('hex');
    this.keepHistory = opts.keepHistory ?? true;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((err: Error) => {
        send(res, 500, { code: 20500, message: err.message, more_info: moreInfo(20500), status: 500 });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    await this.idle();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  /** Env for the gateway so the SDK aims here with matching credentials. */
  env(): Record<string, string> {
    return { TWILIO_ACCOUNT_SID: this.accountSid, TWILIO_AUTH_TOKEN: this.authToken, TWILIO_API_BASE_URL: this.baseUrl };
  }

  /** Scripts a create failure for `to`: Twilio's 21211 (invalid To) unless told otherwise. */
  failNumber(to: string, error: TwilioError = { status: 400, code: 21211, message: `The 'To' number ${to} is not a valid phone number.` }): void {
    this.failTo.set(to, error);
  }

  /** Resolves once every callback/webhook this fake started has been answered. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** The TwiML `<Stream>` of the call's latest TwiML (url + `<Parameter>`s), if any. */
  streamOf(callSid: string): StreamInfo | null {
    const call = this.calls.get(callSid);
    return call ? parseStream(call.twiml[call.twiml.length - 1] ?? '') : null;
  }

  // --- driving calls (what Twilio does on its own) ---

  ring(callSid: string): Promise<CallbackDelivery | null> {
    return this.progress(callSid, 'ringing', 'ringing');
  }

  answer(callSid: string): Promise<CallbackDelivery | null> {
    const call = this.mustGet(callSid);
    call.answeredAt = new Date();
    return this.progress(callSid, 'in-progress', 'answered');
  }

  /** Ends the call with a final status (completed, busy, no-answer, failed, canceled). */
  complete(callSid: string, status: Exclude<FakeCallStatus, 'queued' | 'ringing' | 'in-progress'> = 'completed', opts: { durationSeconds?: number } = {}): Promise<CallbackDelivery | null> {
    const call = this.mustGet(callSid);
    const duration = opts.durationSeconds ?? (call.answeredAt ? Math.round((Date.now() - call.answeredAt.getTime()) / 1000) : 0);
    const extra: Record<string, string> = { CallDuration: String(duration), Duration: String(Math.ceil(duration / 60)) };
    if (status === 'busy') extra.SipResponseCode = '486';
    if (status === 'no-answer') extra.SipResponseCode = '487';
    if (status === 'failed') extra.SipResponseCode = '404';
    return this.progress(callSid, status, 'completed', extra);
  }

  /** Sends a status callback with any `CallStatus` (e.g. to replay or reorder), signed. */
  async sendStatusCallback(callSid: string, callStatus: string, extra: Record<string, string> = {}): Promise<CallbackDelivery> {
    const call = this.mustGet(callSid);
    if (!call.statusCallback) throw new Error(`call ${callSid} has no StatusCallback`);
    const params: Record<string, string> = {
      ...this.baseParams(call),
      CallStatus: callStatus,
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(call.sequence++),
      Timestamp: new Date().toUTCString().replace('GMT', '+0000'),
      ...extra,
    };
    return this.track(this.postSigned(callSid, call.statusCallback, params));
  }

  /**
   * An inbound call: creates the call and posts the voice webhook to `voiceUrl` like Twilio
   * (CallStatus=ringing, Direction=inbound). Returns the delivery (status + TwiML body).
   */
  async inboundCall(voiceUrl: string, p: { from: string; to: string; callSid?: string; statusCallback?: string }): Promise<CallbackDelivery & { call: FakeCall }> {
    const call: FakeCall = {
      sid: p.callSid ?? newSid('CA'),
      direction: 'inbound',
      to: p.to,
      from: p.from,
      status: 'ringing',
      twiml: [],
      statusCallback: p.statusCallback ?? null,
      statusCallbackEvents: ['completed'],
      sequence: 0,
      createdAt: new Date(),
      answeredAt: null,
    };
    if (!this.calls.has(call.sid)) this.calls.set(call.sid, call);
    const stored = this.calls.get(call.sid)!;
    const params = { ...this.baseParams(stored), CallStatus: 'ringing' };
    const delivery = await this.track(this.postSigned(stored.sid, voiceUrl, params));
    if (delivery.responseStatus === 200) stored.twiml.push(delivery.responseBody);
    return { ...delivery, call: stored };
  }

  /** Signs like Twilio (PROTOCOLS.md §2.3): url + sorted name/value pairs, HMAC-SHA1, base64. */
  sign(url: string, params: Record<string, string | string[]>): string {
    let data = url;
    for (const name of Object.keys(params).sort()) {
      const v = params[name]!;
      for (const value of Array.isArray(v) ? [...new Set(v)].sort() : [v]) data += name + value;
    }
    return createHmac('sha1', this.authToken).update(Buffer.from(data, 'utf-8')).digest('base64');
  }

  // --- internals ---

  private async progress(callSid: string, status: FakeCallStatus, event: string, extra: Record<string, string> = {}): Promise<CallbackDelivery | null> {
    const call = this.mustGet(callSid);
    call.status = status;
    if (!call.statusCallback || !call.statusCallbackEvents.includes(event)) return null;
    return this.sendStatusCallback(callSid, status, extra);
  }

  private baseParams(call: FakeCall): Record<string, string> {
    return {
      AccountSid: this.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: call.sid,
      Direction: call.direction,
      From: call.from,
      To: call.to,
      CallStatus: call.status,
    };
  }

  private async postSigned(callSid: string, url: string, params: Record<string, string>): Promise<CallbackDelivery> {
    const signature = this.sign(url, params);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature, 'user-agent': 'TwilioProxy/1.1' },
      body: new URLSearchParams(params).toString(),
    });
    const delivery: CallbackDelivery = { callSid, url, params, signature, responseStatus: res.status, responseBody: await res.text() };
    if (this.keepHistory) this.callbacks.push(delivery);
    return delivery;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p)).catch(() => undefined);
    return p;
  }

  private mustGet(callSid: string): FakeCall {
    const call = this.calls.get(callSid);
    if (!call) throw new Error(`fake twilio: unknown call ${callSid}`);
    return call;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = await readBody(req);
    const params = parseForm(url.search.slice(1), body);
    const [username, password] = basicAuth(req.headers.authorization);
    if (this.keepHistory) this.requests.push({ method: req.method ?? 'GET', path: url.pathname, username, password, contentType: req.headers['content-type'], params });

    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls(?:\/([^/]+))?\.json$/.exec(url.pathname);
    if (!m) return twilioError(res, { status: 404, code: 20404, message: `The requested resource ${url.pathname} was not found` });
    if (username !== this.accountSid || password !== this.authToken || m[1] !== this.accountSid) {
      return twilioError(res, { status: 401, code: 20003, message: 'Authenticate' });
    }
    const scripted = this.failNext.shift();
    if (scripted) return twilioError(res, scripted);

    const callSid = m[2];
    if (!callSid && req.method === 'POST') return this.createCall(res, params);
    if (callSid && req.method === 'POST') return this.updateCall(res, callSid, params);
    if (callSid && req.method === 'GET') {
      const call = this.calls.get(callSid);
      return call ? send(res, 200, this.resource(call)) : this.notFound(res, url.pathname);
    }
    return twilioError(res, { status: 405, code: 20004, message: 'Method not allowed' });
  }

  private createCall(res: ServerResponse, params: Params): void {
    const to = one(params.To);
    const from = one(params.From);
    const twiml = one(params.Twiml);
    const callUrl = one(params.Url);
    if (!to) return twilioError(res, { status: 400, code: 21201, message: "No 'To' number is specified" });
    if (!from) return twilioError(res, { status: 400, code: 21213, message: "A 'From' phone number is required." });
    if (!twiml && !callUrl && !one(params.ApplicationSid)) {
      // The exact code Twilio uses here is not in the stored docs; 21200 is the Calls catch-all.
      return twilioError(res, { status: 400, code: 21200, message: "Either a 'Url', 'Twiml' or 'ApplicationSid' parameter is required." });
    }
    if (twiml && twiml.length > TWIML_MAX_CHARS) {
      return twilioError(res, { status: 400, code: 21200, message: `Twiml is longer than ${TWIML_MAX_CHARS} characters` });
    }
    const failure = this.failTo.get(to);
    if (failure) return twilioError(res, failure);
    if (!E164.test(to)) return twilioError(res, { status: 400, code: 21211, message: `The 'To' number ${to} is not a valid phone number.` });
    if (!E164.test(from)) return twilioError(res, { status: 400, code: 21212, message: `The 'From' number ${from} is not a valid phone number.` });
    const events = many(params.StatusCallbackEvent).flatMap((e) => e.split(' ')).filter(Boolean);
    const call: FakeCall = {
      sid: newSid('CA'),
      direction: 'outbound-api',
      to,
      from,
      status: 'queued',
      twiml: twiml ? [twiml] : [],
      statusCallback: one(params.StatusCallback) ?? null,
      statusCallbackEvents: events.length > 0 ? events : ['completed'],
      sequence: 0,
      createdAt: new Date(),
      answeredAt: null,
    };
    this.calls.set(call.sid, call);
    send(res, 201, this.resource(call));
  }

  private updateCall(res: ServerResponse, callSid: string, params: Params): void {
    const call = this.calls.get(callSid);
    if (!call) return this.notFound(res, `/2010-04-01/Accounts/${this.accountSid}/Calls/${callSid}.json`);
    const status = one(params.Status);
    const twiml = one(params.Twiml) ?? null;
    const ended = ['completed', 'busy', 'failed', 'no-answer', 'canceled'].includes(call.status);
    if (status) {
      if (status !== 'completed' && status !== 'canceled') {
        return twilioError(res, { status: 400, code: 20001, message: `Invalid Status: ${status}` });
      }
      // Twilio's Call resource docs: `canceled` hangs up a queued or ringing call but does not
      // affect one in progress; `completed` hangs up a call in any state. A call that ends before
      // it was answered is `canceled` ("canceled via the REST API while ringing"), and one
      // canceled while still `queued` fires no status callbacks. Hanging up an ended call is
      // harmless: the resource comes back unchanged.
      const answered = call.status === 'in-progress';
      if (!ended && !(status === 'canceled' && answered)) {
        const wasQueued = call.status === 'queued';
        call.status = answered ? 'completed' : 'canceled';
        if (!wasQueued) {
          const duration = call.answeredAt ? Math.round((Date.now() - call.answeredAt.getTime()) / 1000) : 0;
          void this.track(this.progress(call.sid, call.status, 'completed', { CallDuration: String(duration) }).catch(() => null));
        }
      }
    } else if (twiml || one(params.Url)) {
      if (call.status !== 'in-progress') {
        return twilioError(res, { status: 400, code: 21220, message: 'Call is not in-progress. Cannot redirect.' });
      }
      if (twiml) call.twiml.push(twiml);
    }
    send(res, 200, this.resource(call));
  }

  private notFound(res: ServerResponse, path: string): void {
    twilioError(res, { status: 404, code: 20404, message: `The requested resource ${path} was not found` });
  }

  /** Twilio's call resource (snake_case, RFC 2822 dates, `duration` a string). */
  private resource(call: FakeCall): Record<string, unknown> {
    const uri = `/2010-04-01/Accounts/${this.accountSid}/Calls/${call.sid}.json`;
    return {
      sid: call.sid,
      account_sid: this.accountSid,
      parent_call_sid: null,
      to: call.to,
      to_formatted: call.to,
      from: call.from,
      from_formatted: call.from,
      phone_number_sid: null,
      status: call.status,
      start_time: call.answeredAt ? rfc2822(call.answeredAt) : null,
      end_time: null,
      duration: null,
      price: null,
      price_unit: 'USD',
      direction: call.direction,
      answered_by: null,
      api_version: '2010-04-01',
      forwarded_from: null,
      group_sid: null,
      caller_name: null,
      queue_time: '0',
      trunk_sid: null,
      date_created: rfc2822(call.createdAt),
      date_updated: rfc2822(new Date()),
      uri,
      subresource_uris: { recordings: uri.replace('.json', '/Recordings.json') },
    };
  }
}

/** Parses the `<Stream>` of a TwiML document: url and `<Parameter>`s (XML-unescaped). */
export function parseStream(twiml: string): StreamInfo | null {
  // Attribute values may hold a raw `>` (valid XML, and the SDK leaves it unescaped).
  const stream = /<Stream\b((?:[^>"]|"[^"]*")*?)\/>|<Stream\b((?:[^>"]|"[^"]*")*)>([\s\S]*?)<\/Stream>/.exec(twiml);
  if (!stream) return null;
  const attrs = attributes(stream[1] ?? stream[2] ?? '');
  if (!attrs.url) return null;
  const parameters: Record<string, string> = {};
  for (const p of (stream[3] ?? '').matchAll(/<Parameter\b((?:[^>"]|"[^"]*")*)>/g)) {
    const a = attributes(p[1]!);
    if (a.name !== undefined) parameters[a.name] = a.value ?? '';
  }
  return { url: attrs.url, parameters };
}

function attributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([A-Za-z_:][\w:.-]*)="([^"]*)"/g)) out[m[1]!] = unescapeXml(m[2]!);
  return out;
}

function unescapeXml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

function moreInfo(code: number): string {
  return `https://www.twilio.com/docs/errors/${code}`;
}

function twilioError(res: ServerResponse, e: TwilioError): void {
  send(res, e.status, { code: e.code, message: e.message, more_info: moreInfo(e.code), status: e.status });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function rfc2822(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

function basicAuth(header: string | undefined): [string | null, string | null] {
  const m = /^Basic (.+)$/i.exec(header ?? '');
  if (!m) return [null, null];
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? [decoded, null] : [decoded.slice(0, i), decoded.slice(i + 1)];
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Query and form body together; repeated names (StatusCallbackEvent) become arrays. */
function parseForm(query: string, body: string): Params {
  const out: Params = {};
  for (const source of [query, body]) {
    for (const [k, v] of new URLSearchParams(source)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  }
  return out;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function many(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
