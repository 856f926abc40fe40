/**
 * Agents get `ttsModel` (API.md, Agents): which model the TTS provider uses (Cartesia
 * `sonic-3.6`, an ElevenLabs model id); null keeps the provider's default.
 */
import type { Migration } from './index.js';

export const agentTtsModel: Migration = {
  version: 4,
  name: 'agent_tts_model',
  sqlite: 'ALTER TABLE agents ADD COLUMN tts_model TEXT;',
  postgres: 'ALTER TABLE agents ADD COLUMN tts_model text;',
};
