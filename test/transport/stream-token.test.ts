import { describe, expect, it } from 'vitest';
import { createStreamToken, verifyStreamToken, STREAM_TOKEN_PARAM } from '../../src/transport/twilio/stream-token.js';

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 8);
const now = new Date('2026-07-01T12:00:00Z');
const callId = 'call_01J0000000000000000000000A';

describe('stream token', () => {
  it('travels as the "token" parameter', () => {
    expect(STREAM_TOKEN_PARAM).toBe('token');
  });

  it('verifies a fresh token and names its call', () => {
    const token = createStreamToken(key, { callId, expiresAt: new Date(now.getTime() + 60_000) });
    expect(token.length).toBeLessThan(500 - STREAM_TOKEN_PARAM.length);
    expect(verifyStreamToken(key, token, now)).toEqual({ ok: true, callId });
  });

  it('rejects an expired token', () => {
    const token = createStreamToken(key, { callId, expiresAt: new Date(now.getTime() - 1000) });
    expect(verifyStreamToken(key, token, now)).toEqual({ ok: false, reason: 'expired' });
  });

  it('rejects a token signed with another key', () => {
    const token = createStreamToken(otherKey, { callId, expiresAt: new Date(now.getTime() + 60_000) });
    expect(verifyStreamToken(key, token, now)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a token whose call id or expiry was changed', () => {
    const token = createStreamToken(key, { callId, expiresAt: new Date(now.getTime() + 60_000) });
    const [v, , exp, sig] = token.split('.');
    const otherCall = [v, 'call_01J0000000000000000000000B', exp, sig].join('.');
    const later = [v, callId, String(Number(exp) + 3600), sig].join('.');
    expect(verifyStreamToken(key, otherCall, now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyStreamToken(key, later, now)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('calls garbage malformed', () => {
    for (const bad of ['', 'abc', 'v1.a.b', 'v2.call_x.123.' + 'a'.repeat(43), 'v1.call x.123.' + 'a'.repeat(43), 42, null, 'x'.repeat(1000)]) {
      expect(verifyStreamToken(key, bad, now)).toEqual({ ok: false, reason: 'malformed' });
    }
  });
});
