/**
 * Round 2: an agent's brain (`llm`, API.md "Conversation servers"). Existing agents keep the
 * built-in LLM: NULL means `{"provider": "openai"}`.
 */
import type { Migration } from './index.js';

export const agentLlm: Migration = {
  version: 3,
  name: 'agent_llm',
  sqlite: 'ALTER TABLE agents ADD COLUMN llm TEXT;',
  postgres: 'ALTER TABLE agents ADD COLUMN llm jsonb;',
};
