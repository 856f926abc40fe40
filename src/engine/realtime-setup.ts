/**
 * What the realtime engine derives from the call before any audio: the session config
 * (instructions with `{{var}}` filled, call overrides first), the greeting, turn-taking
 * settings, and the provider connection with bounded retries.
 */
import { realtimeProvider, type RealtimeProvider, type RealtimeSession, type RealtimeSessionConfig, type RealtimeTurnDetection } from '../providers/realtime/index.js';
import type { ToolSpec } from '../providers/llm/types.js';
import type { EngineHost } from './types.js';
import { fillTemplate } from './template.js';

/** GA default model (PROTOCOLS.md §5.1) when an OpenAI agent names none. */
export const DEFAULT_REALTIME_MODEL = realtimeProvider('openai').defaultModel;
/** Input transcription for the transcript's user items (PROTOCOLS.md §5.2 example). */
export const DEFAULT_TRANSCRIPTION_MODEL = 'gpt-4o-mini-transcribe';
/**
 * Connect attempts and the pause before each: a refused or stalled socket is retried twice
 * within about a second, so a caller waits at most ~1 s (+ connect timeouts) before we give up.
 */
export const CONNECT_BACKOFF_MS: readonly number[] = [0, 250, 750];

export type SessionFactory = (host: EngineHost) => RealtimeSession;

/** The agent's realtime provider and its configuration slice (`OPENAI_*` or `XAI_*`). */
export function providerFor(host: EngineHost): { provider: RealtimeProvider; apiKey?: string; url: string } {
  const provider = realtimeProvider(host.agent.realtimeProvider);
  const { apiKey, realtimeUrl } = host.config.providers[provider.name];
  return { provider, apiKey, url: realtimeUrl };
}

/** Opens a session with the agent's provider. */
export const providerSessionFactory: SessionFactory = (host) => {
  const { provider, apiKey, url } = providerFor(host);
  return provider.create({
    url,
    apiKey: apiKey ?? '',
    model: host.agent.model ?? provider.defaultModel,
    onMalformed: (reason) => host.metrics.malformed.labels(provider.label, reason).inc(),
    appendFrames: Math.max(1, Math.round(host.config.media.realtimeAppendMs / 20)),
  });
};
/** Kept for callers that named it: every realtime agent goes through its provider now. */
export const openAiSessionFactory: SessionFactory = providerSessionFactory;

export function instructionsFor(host: EngineHost): string {
  return fillTemplate(host.call.overrides?.systemPrompt ?? host.agent.systemPrompt, host.variables);
}

export function greetingFor(host: EngineHost): string | null {
  const text = host.call.overrides?.initialGreeting ?? host.agent.firstMessage;
  const filled = text ? fillTemplate(text, host.variables).trim() : '';
  return filled === '' ? null : filled;
}

/**
 * Realtime providers speak a greeting only as a response: response-level instructions that
 * name the exact words (quotes in the text become apostrophes so the quoting stays intact).
 */
export function greetingInstructions(greeting: string): string {
  return `Greet the caller by saying exactly the following, and nothing else: "${greeting.replace(/"/g, "'")}"`;
}

/**
 * agent.turnDetection → provider VAD. Explicit `vadThreshold`/`silenceMs` mean classic server
 * VAD with those numbers; without them, semantic VAD (the model judges when the caller is done),
 * which ends fewer turns mid-sentence on the phone.
 */
export function turnDetectionFor(host: EngineHost): RealtimeTurnDetection {
  const td = host.agent.turnDetection;
  if (td && (td.vadThreshold !== undefined || td.silenceMs !== undefined)) {
    return { type: 'server_vad', threshold: td.vadThreshold, silenceMs: td.silenceMs };
  }
  return { type: 'semantic_vad', eagerness: 'auto' };
}

export function sessionConfigFor(host: EngineHost, tools: ToolSpec[]): RealtimeSessionConfig {
  return {
    instructions: instructionsFor(host),
    voice: host.call.overrides?.voice ?? host.agent.voiceId ?? undefined,
    // Phone: Twilio's μ-law goes through untouched both ways. Web: PCM16 at the provider's 24 kHz.
    format: host.inputFormat.encoding === 'mulaw' ? 'pcmu' : 'pcm24k',
    turnDetection: turnDetectionFor(host),
    transcriptionModel: DEFAULT_TRANSCRIPTION_MODEL,
    tools,
  };
}

export function interruptible(host: EngineHost): boolean {
  return host.agent.turnDetection?.interruptible !== false;
}

export function minInterruptionMs(host: EngineHost): number {
  return Math.max(0, host.agent.turnDetection?.minInterruptionMs ?? 0);
}

/** Connects with bounded retries; the last error if every attempt failed. */
export async function connectWithRetry(
  make: () => RealtimeSession,
  signal: AbortSignal,
  backoffMs: readonly number[] = CONNECT_BACKOFF_MS,
): Promise<{ session: RealtimeSession } | { error: Error }> {
  let last: Error = new Error('no attempt made');
  for (const wait of backoffMs) {
    if (wait > 0) await sleep(wait, signal);
    if (signal.aborted) return { error: new Error('call ended') };
    const session = make();
    try {
      await session.connect(signal);
      return { session };
    } catch (err) {
      last = err as Error;
      session.close();
    }
  }
  return { error: last };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
