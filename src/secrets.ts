/**
 * The process's secret key material: `SECRETS_KEY` when set, else a random key generated once
 * into `DATA_DIR/secrets-key` (mode 0600). Used for env-var encryption at rest and for the
 * HMAC of stream and web-call tokens (each use derives its own subkey).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

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

export function loadSecrets(config: Pick<Config, 'secretsKey' | 'dataDir'>): Secrets {
  if (config.secretsKey) return deriveSecrets(config.secretsKey);
  const file = path.join(config.dataDir, 'secrets-key');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  return deriveSecrets(readFileSync(file, 'utf8').trim());
}
