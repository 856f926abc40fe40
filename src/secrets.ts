/**
 * The process's secret key material: `SECRETS_KEY` when set, else a random key generated once:
 * into the shared store on PostgreSQL (every node of a cluster gets the same), or into
 * `DATA_DIR/secrets-key` (mode 0600) on the embedded SQLite store. Used for env-var encryption at rest and for the
 * HMAC of stream and web-call tokens (each use derives its own subkey).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';
import type { Store } from './store/types.js';
import type { Logger } from './logger.js';

export interface Secrets {
  /** 32-byte key for AES-256-GCM of agent env-var values. */
  readonly envVarKey: Buffer;
  /** 32-byte key for HMAC-SHA256 of Twilio stream tokens and web-call tokens. */
  readonly tokenKey: Buffer;
}

export function deriveSecrets(master: string | Buffer): Secrets {
  const root = createHash('sha256').update(master).digest();
  return {
    envVarKey: createHmac('sha256', root).update('voxgate env-vars v1').digest(),
    tokenKey: createHmac('sha256', root).update('voxgate tokens v1').digest(),
  };
}

/** Where the key came from: the operator's `SECRETS_KEY`, the shared store, or this node's file. */
export type SecretsSource = 'env' | 'store' | 'file';

/**
 * The process's secrets. On a shared store (PostgreSQL: the only store several nodes can
 * share) the generated key lives in the store, created once by whichever node starts first,
 * so every node that points at the same `DATABASE_URL` verifies the others' stream tokens and
 * decrypts their env vars. A node that already had a key file (an existing PostgreSQL
 * deployment from before) offers it as the first value, so what it encrypted stays readable.
 * Keeping the key next to the ciphertexts it protects is the price of "just point every node at
 * the same URLs"; operators who want encryption at rest to survive a database dump set
 * `SECRETS_KEY` (README, Scale-out).
 */
export async function loadSecrets(
  config: Pick<Config, 'secretsKey' | 'dataDir'>,
  store: Pick<Store, 'kind' | 'getOrCreateSetting'>,
  log?: Pick<Logger, 'warn'>,
): Promise<{ secrets: Secrets; source: SecretsSource }> {
  if (config.secretsKey) return { secrets: deriveSecrets(config.secretsKey), source: 'env' };
  const file = path.join(config.dataDir, 'secrets-key');
  const local = existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
  if (store.kind === 'postgres') {
    const shared = await store.getOrCreateSetting(SECRETS_SETTING, local ?? randomBytes(32).toString('base64url'));
    if (local && local !== shared) {
      log?.warn({ file }, 'this node has its own secrets-key file, but the cluster already has a key in the store: using the store\'s (values encrypted with the file\'s key on this node cannot be read)');
    }
    return { secrets: deriveSecrets(shared), source: 'store' };
  }
  if (!local) {
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  return { secrets: deriveSecrets(readFileSync(file, 'utf8').trim()), source: 'file' };
}

/** The settings row that holds a cluster's generated secrets key. */
export const SECRETS_SETTING = 'secrets_key';
