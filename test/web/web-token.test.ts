/** The web-call token: signed, expiring, not interchangeable with the Twilio stream token, single use per node. */
import { describe, expect, it } from 'vitest';
import { UsedWebTokens, createWebToken, verifyWebToken } from '../../src/transport/web/index.js';
import { createStreamToken } from '../../src/transport/twilio/index.js';

const key = Buffer.alloc(32, 1);
const now = new Date('2026-07-01T12:00:00Z');
const inFive = new Date(now.getTime() + 5 * 60_000);

describe('web token', () => {
  it('verifies a token it minted until it expires', () => {
    const token = createWebToken(key, { callId: 'call_ABC', expiresAt: inFive });
    expect(verifyWebToken(key, token, now)).toEqual({ ok: true, callId: 'call_ABC', expiresAtMs: inFive.getTime() });
    expect(verifyWebToken(key, token, new Date(inFive.getTime() - 1))).toMatchObject({ ok: true });
    expect(verifyWebToken(key, token, inFive)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a changed call id, a changed expiry, another key and garbage', () => {
    const token = createWebToken(key, { callId: 'call_ABC', expiresAt: inFive });
    const parts = token.split('.');
    expect(verifyWebToken(key, [parts[0], 'call_XYZ', ...parts.slice(2)].join('.'), now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyWebToken(key, [parts[0], parts[1], String(Number(parts[2]) + 3600), ...parts.slice(3)].join('.'), now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyWebToken(Buffer.alloc(32, 2), token, now)).toEqual({ ok: false, reason: 'bad_signature' });
    for (const junk of [undefined, '', 'a.b.c.d.e', token + '.x', 'x'.repeat(300)]) {
      expect(verifyWebToken(key, junk, now)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('is not interchangeable with a Twilio stream token signed by the same key', () => {
    const stream = createStreamToken(key, { callId: 'call_ABC', expiresAt: inFive });
    expect(verifyWebToken(key, stream, now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('two tokens for one call differ (random nonce)', () => {
    expect(createWebToken(key, { callId: 'call_A', expiresAt: inFive })).not.toBe(createWebToken(key, { callId: 'call_A', expiresAt: inFive }));
  });

  it('UsedWebTokens admits each call once until its expiry, then forgets it', () => {
    const used = new UsedWebTokens();
    const t = now.getTime();
    expect(used.claim('call_A', t + 1000, t)).toBe(true);
    expect(used.claim('call_A', t + 1000, t + 10)).toBe(false);
    expect(used.claim('call_B', t + 2000, t + 10)).toBe(true);
    expect(used.size).toBe(2);
    expect(used.claim('call_C', t + 3000, t + 1500)).toBe(true);
    expect(used.size).toBe(2); // call_A expired and was pruned
  });
});
