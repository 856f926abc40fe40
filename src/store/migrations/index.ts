/**
 * Versioned schema migrations, applied in `version` order, each in its own transaction and
 * recorded in `schema_migrations`. A migration is never edited once released: changes go in a
 * new numbered file (`002_....ts`) appended to `MIGRATIONS`.
 */
import { initial } from './001_initial.js';
import { settings } from './002_settings.js';
import { agentLlm } from './003_agent_llm.js';
import { agentTtsModel } from './004_agent_tts_model.js';
import { callEventWriteId } from './005_call_event_write_id.js';

export interface Migration {
  version: number;
  name: string;
  /** SQL for each dialect; may hold several statements. */
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [initial, settings, agentLlm, agentTtsModel, callEventWriteId];

/** Checks the list is strictly increasing, so a bad merge fails at start-up, not halfway. */
export function checkedMigrations(list: readonly Migration[] = MIGRATIONS): readonly Migration[] {
  for (let i = 1; i < list.length; i++) {
    if (list[i].version <= list[i - 1].version) {
      throw new Error(`migrations out of order: ${list[i - 1].version} then ${list[i].version}`);
    }
  }
  return list;
}
