/**
 * A user's clone has nothing beside it: no source, test, bench or script may reach outside the
 * repository (the contract it builds to is `docs/API.md`, carried in the repo).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const SELF = path.relative(root, import.meta.filename);

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'results') continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|mts|js|mjs|sh|json)$/.test(name)) out.push(p);
  }
  return out;
}

describe('the repository is self-contained', () => {
  it('carries its own copy of the contract', () => {
    expect(readFileSync(path.join(root, 'docs/API.md'), 'utf8')).toMatch(/^# voxgate API contract/);
  });

  it('reads nothing beside the clone', () => {
    const offenders: string[] = [];
    for (const dir of ['src', 'test', 'bench', 'fixtures', '.ci']) {
      for (const f of files(path.join(root, dir))) {
        const rel = path.relative(root, f);
        if (rel === SELF) continue;
        if (/\.\.\/shared\b|'shared\/API/.test(readFileSync(f, 'utf8'))) offenders.push(rel);
      }
    }
    expect(offenders).toEqual([]);
  });
});
