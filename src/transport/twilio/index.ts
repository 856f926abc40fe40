/** Twilio: the Media Streams transport (media-*, codec, stream-token) and the webhooks/REST side. */
export { twilioMediaPlugin, TWILIO_MEDIA_PATH } from './media-route.js';
export { twilioWebhooksPlugin } from './webhooks.js';
export { createStreamToken, verifyStreamToken, STREAM_TOKEN_PARAM, type StreamTokenCheck } from './stream-token.js';
export { TwilioMediaSocket } from './media-socket.js';
