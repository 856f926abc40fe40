/**
 * The token that admits one browser to one web call (`POST /v1/web-calls` → `GET /web/media`).
 *
 * Format: `w1.<callId>.<expiresAtUnixSeconds>.<nonce>.<base64url HMAC-SHA256>`. It is signed
 * with the same `tokenKey` as the Twilio stream token but under its own version tag and shape,
 * so neither kind of token verifies as the other. Browsers can send it in the query string
 * (they cannot set headers on a WebSocket upgrade); it is short-lived and single-use because
 * URLs end up in logs and histories.
 *
 * Single use: `UsedWebTokens` remembers every admitted token's call id until the token
 * expires (after that the signature check refuses it anyway), so memory is bounded by the
 * calls created in the last 5 minutes. The call's session also refuses a second attach, and
 * the route refuses a call that is no longer `queued`, which holds across nodes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** API.md: "the token admits one browser connection within 5 minutes". */
export const WEB_TOKEN_TTL_MS = 5 * 60 * 1000;

const VERSION = 'w1';
/** 32-byte HMAC-SHA256 in base64url without padding. */
const SIGNATURE_CHARS = 43;
const CALL_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const EXP_RE = /^\d{1,12}$/;
/** 9 random bytes → 12 base64url characters: two tokens of one call never look alike. */
const NONCE_RE = /^[A-Za-z0-9_-]{12}$/;

export type WebTokenCheck =
  | { ok: true; callId: string; expiresAtMs: number }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

export function createWebToken(key: Buffer, claims: { callId: string; expiresAt: Date }): string {
  if (!CALL_ID_RE.test(claims.callId)) throw new Error(`web token: unsupported call id "${claims.callId}"`);
  const exp = Math.floor(claims.expiresAt.getTime() / 1000);
  const body = `${VERSION}.${claims.callId}.${exp}.${randomBytes(9).toString('base64url')}`;
  return `${body}.${sign(key, body)}`;
}

export function verifyWebToken(key: Buffer, token: unknown, now: Date): WebTokenCheck {
  if (typeof token !== 'string' || token.length > 200) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 5) return { ok: false, reason: 'malformed' };
  const [version, callId, exp, nonce, signature] = parts as [string, string, string, string, string];
  if (version !== VERSION || !CALL_ID_RE.test(callId) || !EXP_RE.test(exp) || !NONCE_RE.test(nonce) || signature.length !== SIGNATURE_CHARS) {
    return { ok: false, reason: 'malformed' };
  }
  // Equal-length byte comparison in constant time: a forgery costs what a good token costs.
  const expected = Buffer.from(sign(key, `${version}.${callId}.${exp}.${nonce}`), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  // After the signature: only tokens we minted are ever reported as expired.
  const expiresAtMs = Number(exp) * 1000;
  if (expiresAtMs <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, callId, expiresAtMs };
}

/** Tokens already admitted on this node, by call id (one token per web call), until expiry. */
export class UsedWebTokens {
  private readonly used = new Map<string, number>();

  /** Records the call's token as used; false if it already was (a reuse). */
  claim(callId: string, expiresAtMs: number, nowMs: number): boolean {
    this.prune(nowMs);
    if (this.used.has(callId)) return false;
    this.used.set(callId, expiresAtMs);
    return true;
  }

  get size(): number {
    return this.used.size;
  }

  /** Insertion order is close to expiry order (same TTL), so pruning stops at the first live one. */
  private prune(nowMs: number): void {
    for (const [callId, exp] of this.used) {
      if (exp > nowMs) break;
      this.used.delete(callId);
    }
  }
}

function sign(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}
