/**
 * The TwiML documents voxgate returns or sends, built with the SDK's `VoiceResponse` so
 * escaping is never hand-rolled (PROTOCOLS.md §1.1, §2.6).
 */
import twilio from 'twilio';
import { STREAM_TOKEN_PARAM } from './stream-token.js';

const { VoiceResponse } = twilio.twiml;

/** The path Twilio opens the Media Stream WebSocket on (media-route.ts serves it). */
export const MEDIA_PATH = '/twilio/media';

/**
 * `PUBLIC_URL` → the stream URL: http→ws, https→wss. Twilio itself accepts only `wss`
 * (PROTOCOLS.md §1.1), so production PUBLIC_URLs are https; `ws` serves local fakes.
 */
export function mediaStreamUrl(publicUrl: string): string {
  const u = new URL(publicUrl);
  const scheme = u.protocol === 'https:' ? 'wss:' : 'ws:';
  const prefix = u.pathname.replace(/\/$/, '');
  return `${scheme}//${u.host}${prefix}${MEDIA_PATH}`;
}

/**
 * `<Connect><Stream url><Parameter name="token"/></Stream></Connect>`: a bidirectional stream.
 * With `<Connect>`, Twilio runs nothing after it until we close the socket, and with no verb
 * after it the call ends when the socket closes (§1.1) — which is what hang-up should do.
 */
export function connectStreamTwiml(publicUrl: string, token: string): string {
  const response = new VoiceResponse();
  const stream = response.connect().stream({ url: mediaStreamUrl(publicUrl) });
  stream.parameter({ name: STREAM_TOKEN_PARAM, value: token });
  return response.toString();
}

/** A short spoken message, then hang up: for calls nobody can take. */
export function sayHangupTwiml(message: string): string {
  const response = new VoiceResponse();
  response.say(message);
  response.hangup();
  return response.toString();
}

/**
 * Transfer: replacing the running TwiML with `<Dial>` ends the stream (§2.5) and bridges the
 * caller to `toNumber`. `callerId` keeps our number on the far leg's display.
 */
export function dialTwiml(toNumber: string, opts: { callerId?: string; timeoutSeconds?: number } = {}): string {
  const response = new VoiceResponse();
  const attrs: { callerId?: string; timeout?: number; answerOnBridge: boolean } = { answerOnBridge: true };
  if (opts.callerId) attrs.callerId = opts.callerId;
  if (opts.timeoutSeconds) attrs.timeout = opts.timeoutSeconds;
  response.dial(attrs).number(toNumber);
  return response.toString();
}

/**
 * `<Reject reason="busy"/>`: the caller hears a busy signal and the call is never answered
 * (not billed). For a node that cannot take the call right now (overloaded, store away); the
 * caller or Twilio's fallback URL may try again. Twilio TwiML `<Reject>`: reason "rejected"
 * (default) or "busy".
 */
export function rejectBusyTwiml(): string {
  const response = new VoiceResponse();
  response.reject({ reason: 'busy' });
  return response.toString();
}

/** `<Response/>`: the status callback's reply (Twilio ignores the body, §2.4). */
export function emptyTwiml(): string {
  return new VoiceResponse().toString();
}
