/**
 * An agent's env vars, decrypted: what webhook tools fill `{{env.NAME}}` from and what a
 * conversation server's `apiKeyEnv`/`secretEnv` name. One place, so a value that no longer
 * decrypts (SECRETS_KEY changed) is handled the same way everywhere: left out, with a warning.
 */
import { decryptSecret } from '../crypto/index.js';
import type { Store } from '../store/types.js';
import type { Logger } from '../logger.js';

export async function decryptAgentEnv(store: Pick<Store, 'getEnvVars'>, envVarKey: Buffer, agentId: string, log: Pick<Logger, 'warn'>): Promise<Record<string, string>> {
  const sealed = await store.getEnvVars(agentId);
  const plain: Record<string, string> = {};
  for (const [name, value] of Object.entries(sealed)) {
    try {
      plain[name] = decryptSecret(envVarKey, value);
    } catch {
      log.warn({ envVar: name }, 'env var cannot be decrypted (SECRETS_KEY changed?)');
    }
  }
  return plain;
}
