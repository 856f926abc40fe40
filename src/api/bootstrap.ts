/**
 * Start-up chores: the admin key (API.md, Configuration). With `VOXGATE_ADMIN_KEY` a key with
 * exactly that value, every scope and owner `admin` exists (created or repaired). Without it,
 * the first start generates one into `DATA_DIR/admin-key` (0600) and later starts reuse that
 * file. The key itself is never logged; only the file path is returned for the start-up log.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../context.js';
import { newId } from '../ids.js';
import { ALL_SCOPES } from '../store/types.js';
import { generateKeySecret, hashKey } from './auth.js';

export const ADMIN_OWNER = 'admin';

async function ensureKey(ctx: AppContext, secret: string): Promise<void> {
  const hash = hashKey(secret);
  if (await ctx.store.getKeyByHash(hash)) return;
  try {
    await ctx.store.createKey({
    id: newId('key'),
    owner: ADMIN_OWNER,
    scopes: [...ALL_SCOPES],
    name: 'admin (bootstrap)',
    hash,
    createdAt: ctx.now().toISOString(),
    revokedAt: null,
    });
  } catch (err) {
    // The hash exists but is revoked: revocation is deliberate and a restart must not quietly
    // undo it. The operator rotates VOXGATE_ADMIN_KEY instead.
    if ((err as { code?: string }).code !== 'conflict') throw err;
    ctx.log.warn('the configured admin key was revoked; set a new VOXGATE_ADMIN_KEY');
  }
}

export async function bootstrap(ctx: AppContext): Promise<{ adminKeyFile: string | null }> {
  if (ctx.config.adminKey) {
    await ensureKey(ctx, ctx.config.adminKey);
    return { adminKeyFile: null };
  }
  const file = path.join(ctx.config.dataDir, 'admin-key');
  let secret: string;
  if (existsSync(file)) {
    secret = readFileSync(file, 'utf8').trim();
  } else {
    mkdirSync(ctx.config.dataDir, { recursive: true });
    secret = generateKeySecret();
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    ctx.log.info({ adminKeyFile: file }, 'generated an admin API key (the file holds it)');
  }
  await ensureKey(ctx, secret);
  return { adminKeyFile: file };
}
