import { OpenAiLlmClient } from './openai.js';
import { WebhookBrain } from './webhook.js';
import { WebSocketBrain } from './websocket.js';
import type { BrainContext } from './brain-context.js';
import type { LlmClient, LlmCompleteRequest, LlmEvent, LlmStreamRequest } from './types.js';
import type { AgentLlm } from '../../store/types.js';

export type * from './types.js';
export { OpenAiLlmClient } from './openai.js';
export { WebhookBrain } from './webhook.js';
export { WebSocketBrain } from './websocket.js';
export { signatureHeaders, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signing.js';
export { BRAIN_APOLOGY, BRAIN_PROVIDER, DEFAULT_BRAIN_TIMEOUT_MS, MAX_TURN_CHARS, messagesToTranscript, type BrainContext } from './brain-context.js';

export { LlmStallError, StallWatch, type StallLimits } from './stall.js';

/**
 * The chat LLM for a call or a text agent. `cfg` is `config.providers.openai` (any
 * OpenAI-compatible base URL works).
 */
export function createLlmClient(cfg: { baseUrl: string; apiKey?: string }, opts: { timeoutMs?: number } = {}): LlmClient {
  return new OpenAiLlmClient({ baseUrl: cfg.baseUrl, apiKey: cfg.apiKey, timeoutMs: opts.timeoutMs });
}

/** Brains that are conversation servers: they need no `model` and are offered no tools. */
export function isConversationServer(llm: AgentLlm | null | undefined): boolean {
  return llm?.provider === 'webhook' || llm?.provider === 'websocket';
}

/**
 * The agent's brain (`agent.llm`, API.md "bring your own brain"). `openai` (or none) is the
 * process-wide server; `openai-compatible` the agent's own, its key read from an env var of the
 * agent when the first request goes out; `webhook` / `websocket` the agent's conversation server.
 */
export function createAgentLlm(
  llm: AgentLlm | null | undefined,
  cfg: { baseUrl: string; apiKey?: string },
  ctx: BrainContext & { envVar(name: string): Promise<string | undefined> },
): LlmClient {
  switch (llm?.provider ?? 'openai') {
    case 'openai':
      return createLlmClient(cfg);
    case 'openai-compatible': {
      const l = llm as Extract<AgentLlm, { provider: 'openai-compatible' }>;
      return new DeferredLlm(async () => new OpenAiLlmClient({ baseUrl: l.baseUrl, apiKey: l.apiKeyEnv ? await ctx.envVar(l.apiKeyEnv) : undefined }));
    }
    case 'webhook': {
      const l = llm as Extract<AgentLlm, { provider: 'webhook' }>;
      return new WebhookBrain({ url: l.url, timeoutMs: l.timeoutMs }, ctx);
    }
    case 'websocket': {
      const l = llm as Extract<AgentLlm, { provider: 'websocket' }>;
      return new WebSocketBrain({ url: l.url }, ctx);
    }
    default:
      throw new Error(`unknown llm provider ${String(llm?.provider)}`);
  }
}

/** An LLM client built on first use (its key is an agent env var, decrypted asynchronously). */
class DeferredLlm implements LlmClient {
  readonly capabilities = { streaming: true, tools: true, jsonSchema: true } as const;
  private client: Promise<LlmClient> | null = null;
  constructor(private readonly make: () => Promise<LlmClient>) {}
  private get(): Promise<LlmClient> {
    this.client ??= this.make();
    return this.client;
  }
  async *stream(request: LlmStreamRequest): AsyncIterable<LlmEvent> {
    yield* (await this.get()).stream(request);
  }
  async complete(request: LlmCompleteRequest): Promise<string> {
    return (await this.get()).complete(request);
  }
}
export { ScriptedLlm } from './scripted.js';
