/**
 * One catalogue of coded errors. Every error the control API renders comes from here, so the
 * codes stay snake_case, stable and documented (`docs/errors.md`; a test checks the two agree
 * with each other and with `docs/API.md`).
 */

export const ERROR_CODES = {
  invalid_json: 400,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  self_approval_forbidden: 403,
  twilio_signature_invalid: 403,
  not_found: 404,
  recording_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  last_admin_key: 409,
  payload_too_large: 413,
  too_many_contacts: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  idempotency_key_reused: 422,
  range_not_satisfiable: 416,
  rate_limited: 429,
  internal_error: 500,
  provider_error: 502,
  provider_not_configured: 503,
  unavailable: 503,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetail {
  /** JSON pointer or field name the detail is about, when there is one. */
  field?: string;
  message: string;
  [extra: string]: unknown;
}

export class VoxgateError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** Whether repeating the same request may succeed (provider hiccups, rate limits). */
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'VoxgateError';
    this.status = ERROR_CODES[code];
  }

  toBody(): { error: { code: ErrorCode; message: string; details: ErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const notFound = (what: string, id?: string): VoxgateError =>
  new VoxgateError('not_found', id ? `${what} ${id} not found` : `${what} not found`);

export const validationFailed = (message: string, details: ErrorDetail[] = []): VoxgateError =>
  new VoxgateError('validation_failed', message, details);

/**
 * An upstream provider (Twilio, Deepgram, OpenAI, ElevenLabs) failed. `retryable` follows the
 * HTTP status: 4xx are the request's fault and will fail again, except timeouts and throttling.
 */
export class ProviderError extends Error {
  constructor(
    readonly provider: string,
    message: string,
    readonly status?: number,
    readonly retryable = false,
  ) {
    super(`${provider}: ${message}`);
    this.name = 'ProviderError';
  }

  static fromStatus(provider: string, status: number, message: string): ProviderError {
    const retryable = status >= 500 || status === 408 || status === 429 || status === 499;
    return new ProviderError(provider, message, status, retryable);
  }
}

/** True for the rejection an AbortController produces: an outcome, not an error to log. */
export function isAbortError(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR' || err.name === 'APIUserAbortError')
  );
}
