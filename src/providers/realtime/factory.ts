/**
 * The realtime providers an agent can name (`realtimeProvider`), each with what the engine needs
 * to open its sessions and to say why it cannot: the engine never branches on the vendor.
 */
import type { RealtimeSession, RealtimeSessionOptions } from './types.js';
import { createOpenAiRealtimeSession } from './openai.js';
import { createXaiRealtimeSession, XAI_DEFAULT_MODEL } from './xai.js';

export type RealtimeProviderName = 'openai' | 'xai';

export interface RealtimeProvider {
  readonly name: RealtimeProviderName;
  /** Metrics label (`provider` of malformed-event counters). */
  readonly label: string;
  /** The env var whose absence makes the provider unusable (named in the call's note). */
  readonly apiKeyEnv: string;
  /** The call's `endReason` when that env var is not set. */
  readonly notConfiguredReason: string;
  /** Model when the agent names none. */
  readonly defaultModel: string;
  create(options: RealtimeSessionOptions): RealtimeSession;
}

const PROVIDERS: Readonly<Record<RealtimeProviderName, RealtimeProvider>> = {
  openai: {
    name: 'openai',
    label: 'openai_realtime',
    apiKeyEnv: 'OPENAI_API_KEY',
    notConfiguredReason: 'error:realtime_not_configured',
    // GA default model (PROTOCOLS.md §5.1).
    defaultModel: 'gpt-realtime',
    create: createOpenAiRealtimeSession,
  },
  xai: {
    name: 'xai',
    label: 'xai_realtime',
    apiKeyEnv: 'XAI_API_KEY',
    notConfiguredReason: 'error:xai_not_configured',
    defaultModel: XAI_DEFAULT_MODEL,
    create: createXaiRealtimeSession,
  },
};

/** The agent's provider; agents stored before the field was required mean OpenAI. */
export function realtimeProvider(name: RealtimeProviderName | null | undefined): RealtimeProvider {
  return PROVIDERS[name ?? 'openai'];
}
