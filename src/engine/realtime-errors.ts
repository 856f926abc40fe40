/**
 * Provider `error` events in the realtime bridge: counted, logged, and noted on the call record
 * (bounded), with rejected truncates told apart. None of them ends the call: the session usually
 * stays open after an error (PROTOCOLS.md §5.4), and a dead socket is handled by reconnecting.
 */
import type { EngineHost } from './types.js';
import { realtimeProvider } from '../providers/realtime/index.js';

/** Provider errors noted on the call record at most this many times (a flapping provider must not bloat it). */
const MAX_ERROR_NOTES = 5;
/**
 * Errors the protocol produces in normal races: a cancel that lost to `response.done`, a
 * response.create that lost to a VAD-started response (the engine retries it).
 */
const HARMLESS_ERRORS = new Set(['response_cancel_not_active', 'conversation_already_has_active_response']);
/** The metrics label of OpenAI's bridge (the default provider); each provider has its own. */
export const REALTIME_PROVIDER_LABEL = 'openai_realtime';

export class RealtimeErrors {
  private notes = 0;
  private readonly truncates = new Set<string>();
  /** `openai_realtime` or `xai_realtime`: the agent's provider, for every metric of the bridge. */
  readonly label: string;

  constructor(private readonly host: EngineHost) {
    this.label = realtimeProvider(host.agent.realtimeProvider).label;
  }

  /** Remembers a truncate's client event id so an error answering it can be recognised. */
  sentTruncate(eventId: string): void {
    this.truncates.add(eventId);
  }

  onError(code: string, message: string, clientEventId: string | null): void {
    if (HARMLESS_ERRORS.has(code)) return;
    this.host.metrics.providerErrors.labels(this.label, code).inc();
    const truncate = clientEventId !== null && this.truncates.has(clientEventId);
    this.host.log.warn({ code, message, truncate }, 'realtime provider error');
    if (this.notes++ >= MAX_ERROR_NOTES) return;
    this.host.note(truncate ? `realtime truncate rejected: ${code}` : `realtime provider error: ${code}: ${message}`.slice(0, 300));
  }
}
