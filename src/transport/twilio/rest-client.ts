/**
 * The few Twilio REST operations voxgate needs, over the official `twilio` SDK.
 *
 * The SDK has no base-URL option (SDK-NOTES.md): requests go through a `RequestClient`
 * subclass that moves each request URI onto `TWILIO_API_BASE_URL`, so the same code talks to
 * api.twilio.com, a regional proxy, or the fake in `test/fakes/twilio-rest.ts`.
 * Twilio JSON never leaves this folder: callers see `{sid, status}` and `TwilioRestError`.
 */
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { Config } from '../../config.js';
import { ProviderError } from '../../errors.js';

export interface CreateCallParams {
  to: string;
  from: string;
  twiml: string;
  statusCallback: string;
}

export interface TwilioRest {
  /** Places a call running `twiml`; resolves with Twilio's call SID. Rejects with TwilioRestError. */
  createCall(p: CreateCallParams): Promise<{ sid: string; status: string }>;
  /**
   * Hangs up with `Status=completed`, whatever state the call is in. Twilio's Call resource
   * docs: `canceled` "will attempt to hang up calls that are queued or ringing; however, it will
   * not affect calls already in progress", while `completed` "will attempt to hang up a call even
   * if it's already in progress" — so `completed` also ends a queued/ringing call (Twilio then
   * reports it `canceled`), and choosing `canceled` from our own record would silently fail to
   * end a call that was answered a moment before the request landed.
   */
  endCall(sid: string): Promise<void>;
  /** Replaces the live call's TwiML (used by `transfer_call`: `<Dial>`). */
  updateCallTwiml(sid: string, twiml: string): Promise<void>;
}

/**
 * A Twilio REST failure: `status` is the HTTP status (absent for network failures), `code`
 * Twilio's numeric error code (21211 invalid To, 20003 auth, …) when the body had one.
 */
export class TwilioRestError extends ProviderError {
  constructor(
    message: string,
    status: number | undefined,
    retryable: boolean,
    readonly code: number | undefined,
    readonly moreInfo: string | undefined,
  ) {
    super('twilio', message, status, retryable);
    this.name = 'TwilioRestError';
  }

  /** The short form stored as a call's `endReason`: `error:twilio:<code or status>`. */
  get reasonTag(): string {
    return `error:twilio:${this.code ?? this.status ?? 'network'}`;
  }
}

/**
 * Events we ask status callbacks for (PROTOCOLS.md §2.4). `completed` alone would be the
 * default; the others let the call record show ringing/answered times.
 */
export const STATUS_CALLBACK_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;

/**
 * 10 s per REST request: Twilio answers call creation in well under a second; a hung request
 * must fail the API call (and free the dialer slot) instead of holding it for the SDK's 30 s.
 */
const REQUEST_TIMEOUT_MS = 10_000;

/** A RequestClient that sends every request to `baseUrl` instead of api.twilio.com. */
class RebasedRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(baseUrl: string) {
    super({ timeout: REQUEST_TIMEOUT_MS, keepAlive: true });
    this.base = new URL(baseUrl);
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: rebase(opts.uri, this.base) });
  }
}

/** `https://api.twilio.com/2010-04-01/…` → `<base>/2010-04-01/…` (a base path prefix is kept). */
export function rebase(uri: string, base: URL): string {
  const u = new URL(uri);
  const prefix = base.pathname.replace(/\/$/, '');
  return `${base.protocol}//${base.host}${prefix}${u.pathname}${u.search}`;
}

/** null when Twilio credentials are not configured. */
export function createTwilioRest(config: Config): TwilioRest | null {
  const { accountSid, authToken, apiBaseUrl } = config.twilio;
  if (!accountSid || !authToken) return null;
  const client = twilio(accountSid, authToken, { httpClient: new RebasedRequestClient(apiBaseUrl) });

  return {
    async createCall(p) {
      try {
        const call = await client.calls.create({
          to: p.to,
          from: p.from,
          twiml: p.twiml,
          statusCallback: p.statusCallback,
          statusCallbackMethod: 'POST',
          statusCallbackEvent: [...STATUS_CALLBACK_EVENTS],
        });
        return { sid: call.sid, status: call.status };
      } catch (err) {
        throw toTwilioError(err);
      }
    },
    async endCall(sid) {
      try {
        await client.calls(sid).update({ status: 'completed' });
      } catch (err) {
        throw toTwilioError(err);
      }
    },
    async updateCallTwiml(sid, twiml) {
      try {
        await client.calls(sid).update({ twiml });
      } catch (err) {
        throw toTwilioError(err);
      }
    },
  };
}

/**
 * The SDK rejects with `RestException` ({status, code, message, moreInfo}) for Twilio error
 * bodies and with axios errors for network failures; both become TwilioRestError, whose
 * `retryable` follows the status (ProviderError.fromStatus) and is true for network errors.
 */
export function toTwilioError(err: unknown): TwilioRestError {
  if (err instanceof TwilioRestError) return err;
  const e = err as { status?: unknown; code?: unknown; message?: unknown; moreInfo?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (typeof e?.status === 'number') {
    const { retryable } = ProviderError.fromStatus('twilio', e.status, message);
    return new TwilioRestError(
      message,
      e.status,
      retryable,
      typeof e.code === 'number' ? e.code : undefined,
      typeof e.moreInfo === 'string' ? e.moreInfo : undefined,
    );
  }
  // No HTTP status: connection refused, timeout, DNS. Worth another try later.
  return new TwilioRestError(message, undefined, true, undefined, undefined);
}
