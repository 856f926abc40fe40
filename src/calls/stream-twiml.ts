/**
 * The TwiML that connects a phone call's audio to this gateway: `<Connect><Stream>` carrying a
 * stream token minted for that call (PROTOCOLS.md §1.6: `<Stream url>` takes no query string,
 * so the token travels as a `<Parameter>` and is checked on the `start` message).
 */
import type { AppContext } from '../context.js';
import { createStreamToken } from '../transport/twilio/stream-token.js';
import { connectStreamTwiml } from '../transport/twilio/twiml.js';

/**
 * 10 minutes: an outbound call rings for at most 600 s (Twilio's `Timeout` maximum,
 * PROTOCOLS.md §2.5) before its stream can open; an inbound stream opens within seconds.
 */
export const STREAM_TOKEN_TTL_MS = 10 * 60_000;

export function streamTwimlFor(ctx: Pick<AppContext, 'config' | 'secrets' | 'now'>, callId: string): string {
  const token = createStreamToken(ctx.secrets.tokenKey, {
    callId,
    expiresAt: new Date(ctx.now().getTime() + STREAM_TOKEN_TTL_MS),
  });
  return connectStreamTwiml(ctx.config.publicUrl, token);
}

/** Where Twilio posts status callbacks; the call id lets them land even before the SID is stored. */
export function statusCallbackUrl(publicUrl: string, callId: string): string {
  return `${publicUrl}/twilio/status?callId=${encodeURIComponent(callId)}`;
}
