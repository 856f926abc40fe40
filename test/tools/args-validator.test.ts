/** Tool argument validation with validators shared across calls (compiled once per schema). */
import { describe, expect, it } from 'vitest';
import { createArgsValidator } from '../../src/tools/schema.js';

const transfer = { type: 'object', properties: { toNumber: { type: 'string', pattern: '^\\+[1-9]\\d{1,14}$' } }, required: ['toNumber'], additionalProperties: false };

describe('tool argument validators', () => {
  it('checks arguments the same way in every runner that shares a schema', () => {
    const a = createArgsValidator();
    const b = createArgsValidator();
    a.add('transfer_call', structuredClone(transfer));
    b.add('transfer_call', structuredClone(transfer));
    expect(a.check('transfer_call', '{"toNumber":"+14155550100"}')).toEqual({ ok: true, args: { toNumber: '+14155550100' } });
    const bad = b.check('transfer_call', '{"toNumber":"555"}');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toMatch(/toNumber must match pattern/);
    // A failure in one runner leaves no errors behind for the next check.
    expect(a.check('transfer_call', '{"toNumber":"+14155550101"}').ok).toBe(true);
  });

  it('keeps per-runner names apart when two tools share a name with different schemas', () => {
    const a = createArgsValidator();
    const b = createArgsValidator();
    a.add('lookup', { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] });
    b.add('lookup', { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] });
    expect(a.check('lookup', '{"id":3}').ok).toBe(true);
    expect(b.check('lookup', '{"id":3}').ok).toBe(false);
  });

  it('compiles schemas that carry their own $id more than once, and still rejects invalid schemas', () => {
    const withId = { $id: 'https://example.com/s', type: 'object', properties: { n: { type: 'number' } } };
    const a = createArgsValidator();
    const b = createArgsValidator();
    a.add('t', structuredClone(withId));
    expect(() => b.add('t', structuredClone(withId))).not.toThrow();
    expect(() => a.add('broken', { type: 'not-a-type' })).toThrow();
  });
});
