/**
 * The HTTP leg of webhook tools: `safeFetch` (src/net) does the SSRF policy at call time
 * (public addresses only unless ALLOW_PRIVATE_URLS, every redirect re-checked, connection pinned
 * to the checked address, body capped). This adapter turns its refusals into the short, URL-free
 * reasons the tool layer reports to the model.
 */
import { safeFetch } from '../net/index.js';

export interface WebhookRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  timeoutMs: number;
  maxBytes: number;
  allowPrivate: boolean;
}

export interface WebhookResponse {
  status: number;
  contentType: string | null;
  body: Buffer;
}

export type WebhookFetch = (url: string, req: WebhookRequest) => Promise<WebhookResponse>;

/** Why a webhook request failed, in words safe to show the model (never the URL itself). */
export type WebhookFailure = 'refused' | 'too_large' | 'timeout' | 'network';

export class WebhookError extends Error {
  constructor(readonly kind: WebhookFailure, message: string) {
    super(message);
    this.name = 'WebhookError';
  }
}

export const webhookFetch: WebhookFetch = async (url, req) => {
  try {
    const res = await safeFetch(url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
      timeoutMs: req.timeoutMs,
      maxBytes: req.maxBytes,
      allowPrivate: req.allowPrivate,
    });
    return { status: res.status, contentType: res.headers.get('content-type'), body: res.body };
  } catch (err) {
    if (req.signal.aborted) throw err; // the caller's abort or timeout: it knows which
    throw classify(err as Error);
  }
};

/** safeFetch reports every refusal and failure as one error type; its messages tell them apart. */
function classify(err: Error): WebhookError {
  const message = err?.message ?? String(err);
  if (/private address|must use http|must not carry credentials|not a valid URL|redirected more than/.test(message)) {
    return new WebhookError('refused', message);
  }
  if (/exceeds \d+ bytes/.test(message)) return new WebhookError('too_large', message);
  if (/did not answer in time/.test(message)) return new WebhookError('timeout', message);
  return new WebhookError('network', message);
}
