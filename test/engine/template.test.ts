import { describe, expect, it } from 'vitest';
import { applyPronunciations, fillTemplate, mergeVariables } from '../../src/engine/template.js';

describe('{{var}} placeholders', () => {
  it('fills from call variables before agent defaults and leaves unknown ones as written', () => {
    const vars = mergeVariables({ name: 'Ada' }, { name: 'friend', city: 'Paris' });
    expect(fillTemplate('Hi {{name}} from {{ city }}, {{unknown}} {{env.TOKEN}}', vars)).toBe(
      'Hi Ada from Paris, {{unknown}} {{env.TOKEN}}',
    );
  });
});

describe('pronunciations', () => {
  it('replaces whole words only, case-insensitively, longest key first', () => {
    const map = { SQL: 'sequel', 'New York': 'New York', 'New York City': 'N Y C' };
    expect(applyPronunciations('sql in New York City, not SQLite', map)).toBe('sequel in N Y C, not SQLite');
  });
});
