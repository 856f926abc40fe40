import { OpenAiLlmClient } from './openai.js';
import type { LlmClient } from './types.js';

export type * from './types.js';
export { OpenAiLlmClient } from './openai.js';
export { LlmStallError, StallWatch, type StallLimits } from './stall.js';

/**
 * The chat LLM for a call or a text agent. `cfg` is `config.providers.openai` (any
 * OpenAI-compatible base URL works).
 */
export function createLlmClient(cfg: { baseUrl: string; apiKey?: string }, opts: { timeoutMs?: number } = {}): LlmClient {
  return new OpenAiLlmClient({ baseUrl: cfg.baseUrl, apiKey: cfg.apiKey, timeoutMs: opts.timeoutMs });
}
