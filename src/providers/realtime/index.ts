/** Realtime speech-to-speech providers: the session contract and one file per vendor. */
export type * from './types.js';
export { audioMs } from './types.js';
export { createOpenAiRealtimeSession, sessionPayload } from './openai.js';
export { parseServerEvent } from './openai-events.js';
