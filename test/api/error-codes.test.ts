import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';

const root = path.resolve(import.meta.dirname, '../..');
const docs = readFileSync(path.join(root, 'docs/errors.md'), 'utf8');

/** The repository carries its own copy of the contract; no test reads outside the repository. */
function apiMd(): string {
  return readFileSync(path.join(root, 'docs/API.md'), 'utf8');
}

describe('error catalogue', () => {
  it('documents every code with its status in docs/errors.md', () => {
    const rows = new Map<string, number>();
    for (const m of docs.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)) rows.set(m[1]!, Number(m[2]));
    for (const [code, status] of Object.entries(ERROR_CODES)) {
      expect(rows.get(code), code).toBe(status);
    }
    // And documents nothing that is not in the catalogue.
    for (const code of rows.keys()) expect(ERROR_CODES, code).toHaveProperty(code);
  });

  it('has every code that API.md names, with the status API.md gives it', () => {
    const named = [...apiMd().matchAll(/(\d{3}) `([a-z]+(?:_[a-z]+)+)`/g)];
    expect(named.length).toBeGreaterThan(3);
    for (const [, status, code] of named) {
      expect(ERROR_CODES, code).toHaveProperty(code!);
      expect(ERROR_CODES[code as keyof typeof ERROR_CODES], code).toBe(Number(status));
    }
  });

  it('statuses are errors and codes are snake_case', () => {
    for (const [code, status] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });
});
