/**
 * `X-Twilio-Signature` checks (PROTOCOLS.md §2.3). Twilio signs the URL it requested plus the
 * sorted form params with HMAC-SHA1 under the auth token. Behind a proxy the URL we see is not
 * the one Twilio used, so it is rebuilt from `PUBLIC_URL` + the request's path and query.
 * The SDK's `validateRequest` does the comparison (it also accepts the port variants Twilio
 * produces, §2.3 item 7).
 */
import twilio from 'twilio';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { VoxgateError } from '../../errors.js';

export const SIGNATURE_HEADER = 'x-twilio-signature';

/** The URL Twilio signed: PUBLIC_URL (which may carry a path prefix) + path + query. */
export function signedUrl(publicUrl: string, requestUrl: string): string {
  return publicUrl.replace(/\/$/, '') + requestUrl;
}

export function isValidTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Record<string, unknown>,
): boolean {
  if (!signature) return false;
  return twilio.validateRequest(authToken, signature, url, params);
}

/**
 * A `preValidation` hook (the form body must be parsed to sign its params). Refuses with
 * 403 `twilio_signature_invalid` when the signature is missing or wrong — and when Twilio is
 * not configured, since then nothing can be verified and nothing should be trusted.
 * It replies itself so the refusal never depends on which error handler is in scope.
 */
export function twilioSignatureHook(twilioConfig: { authToken?: string }, publicUrl: string) {
  return async function checkTwilioSignature(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = req.headers[SIGNATURE_HEADER];
    const signature = Array.isArray(header) ? header[0] : header;
    const params = isPlainObject(req.body) ? req.body : {};
    const token = twilioConfig.authToken;
    const ok = token !== undefined && isValidTwilioSignature(token, signature, signedUrl(publicUrl, req.url), params);
    if (ok) return;
    const err = new VoxgateError(
      'twilio_signature_invalid',
      token === undefined ? 'Twilio is not configured: webhook refused' : 'X-Twilio-Signature is missing or invalid',
    );
    req.log.warn({ url: req.url, hasSignature: Boolean(signature) }, 'twilio webhook refused');
    await reply.code(err.status).send(err.toBody());
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
