/** Realtime speech-to-speech providers: the session contract and one file per vendor. */
export type * from './types.js';
export { audioMs } from './types.js';
export { createOpenAiRealtimeSession, sessionPayload } from './openai.js';
export { createXaiRealtimeSession, xaiSessionPayload, XAI_DEFAULT_MODEL, XAI_VOICES } from './xai.js';
export { realtimeProvider, type RealtimeProvider, type RealtimeProviderName } from './factory.js';
export { parseServerEvent } from './openai-events.js';
