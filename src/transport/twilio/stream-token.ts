/**
 * The stream token that admits one Twilio Media Stream to one call.
 *
 * Twilio's `<Stream url>` does not support query strings (PROTOCOLS.md §1.6), so the voice
 * webhook / outbound create mints this token and puts it in a `<Parameter name="token">`; it
 * arrives in `start.customParameters.token`, after the socket is already open.
 *
 * Format: `v1.<callId>.<expiresAtUnixSeconds>.<base64url HMAC-SHA256>` — compact (about 90
 * characters, far under Twilio's 500-character name+value cap) and readable in logs without
 * revealing anything secret. The signature covers everything before it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The `<Parameter>` name the token travels under (`start.customParameters[STREAM_TOKEN_PARAM]`). */
export const STREAM_TOKEN_PARAM = 'token';

const VERSION = 'v1';
/** 32-byte HMAC-SHA256 in base64url without padding. */
const SIGNATURE_CHARS = 43;
const CALL_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const EXP_RE = /^\d{1,12}$/;

export type StreamTokenCheck =
  | { ok: true; callId: string }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

export function createStreamToken(key: Buffer, claims: { callId: string; expiresAt: Date }): string {
  if (!CALL_ID_RE.test(claims.callId)) throw new Error(`stream token: unsupported call id "${claims.callId}"`);
  const exp = Math.ceil(claims.expiresAt.getTime() / 1000);
  const body = `${VERSION}.${claims.callId}.${exp}`;
  return `${body}.${sign(key, body)}`;
}

export function verifyStreamToken(key: Buffer, token: unknown, now: Date): StreamTokenCheck {
  if (typeof token !== 'string' || token.length > 200) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 4) return { ok: false, reason: 'malformed' };
  const [version, callId, exp, signature] = parts as [string, string, string, string];
  if (version !== VERSION || !CALL_ID_RE.test(callId) || !EXP_RE.test(exp) || signature.length !== SIGNATURE_CHARS) {
    return { ok: false, reason: 'malformed' };
  }
  // Compare as bytes of equal length; a forged signature costs the same time as a good one.
  const expected = Buffer.from(sign(key, `${version}.${callId}.${exp}`), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad_signature' };
  }
  // Checked after the signature, so an expiry is only ever reported for a token we minted.
  if (Number(exp) * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, callId };
}

function sign(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}
