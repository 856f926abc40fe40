/**
 * The committed client types (src/client/schema.ts) are what `npm run client:generate` makes
 * from today's document: a route schema changed without regenerating fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateClientTypes, SCHEMA_FILE } from '../../src/client/generate.js';

describe('typed client', () => {
  it('src/client/schema.ts is up to date with the OpenAPI document (run npm run client:generate)', async () => {
    const fresh = await generateClientTypes();
    expect(fresh.length).toBeGreaterThan(10_000);
    expect(readFileSync(SCHEMA_FILE, 'utf8') === fresh, 'src/client/schema.ts is stale: run `npm run client:generate`').toBe(true);
  });

  it('package.json exports it as voxgate/client', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(pkg.exports['./client'].types).toBe('./dist/client/index.d.ts');
    expect(pkg.scripts.prebuild).toContain('client:generate');
  });
});
