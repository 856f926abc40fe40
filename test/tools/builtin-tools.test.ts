import { describe, expect, it } from 'vitest';
import { createToolRunner } from '../../src/tools/index.js';
import { makeTool, makeToolDeps } from './tool-fixtures.js';

const signal = new AbortController().signal;

describe('built-in tools', () => {
  it('offers end_call and transfer_call first on phone calls, then webhook tools', async () => {
    const { deps } = makeToolDeps({ tools: [makeTool()] });
    const runner = await createToolRunner(deps);
    expect(runner.specs.map((s) => s.name)).toEqual(['end_call', 'transfer_call', 'lookup_booking']);
  });

  it('omits transfer_call on web calls', async () => {
    const { deps } = makeToolDeps({ channel: 'web' });
    const runner = await createToolRunner(deps);
    expect(runner.specs.map((s) => s.name)).toEqual(['end_call']);
    const result = await runner.run('transfer_call', '{"toNumber":"+14155550100"}', signal);
    expect(result.ok).toBe(false);
  });

  it('leaves out built-ins listed in disabledTools', async () => {
    const { deps } = makeToolDeps({ agent: { disabledTools: ['end_call'] } });
    const runner = await createToolRunner(deps);
    expect(runner.specs.map((s) => s.name)).toEqual(['transfer_call']);
    expect((await runner.run('end_call', '{}', signal)).ok).toBe(false);
  });

  it('end_call flags the result and leaves hanging up to the engine', async () => {
    const fx = makeToolDeps();
    const runner = await createToolRunner(fx.deps);
    const result = await runner.run('end_call', '', signal);
    expect(result).toMatchObject({ ok: true, endsCall: true });
    expect(fx.ended).toEqual([]);
  });

  it('transfer_call hands a valid E.164 number to the session', async () => {
    const fx = makeToolDeps();
    const runner = await createToolRunner(fx.deps);
    const result = await runner.run('transfer_call', '{"toNumber":"+14155550100"}', signal);
    expect(result.ok).toBe(true);
    expect(fx.transfers).toEqual(['+14155550100']);
  });

  it('transfer_call refuses a number that is not E.164 with a reason the model can act on', async () => {
    const fx = makeToolDeps();
    const runner = await createToolRunner(fx.deps);
    const result = await runner.run('transfer_call', '{"toNumber":"555-0100"}', signal);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/toNumber/);
    expect(fx.transfers).toEqual([]);
  });

  it('a failed transfer is a tool error, not an exception', async () => {
    const fx = makeToolDeps({ transferFails: true });
    const runner = await createToolRunner(fx.deps);
    const result = await runner.run('transfer_call', '{"toNumber":"+14155550100"}', signal);
    expect(result.ok).toBe(false);
  });

  it('an unknown tool name is a tool error naming the available tools', async () => {
    const { deps } = makeToolDeps();
    const runner = await createToolRunner(deps);
    const result = await runner.run('launch_rockets', '{}', signal);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('end_call');
  });

  it('a webhook tool cannot shadow a built-in', async () => {
    const { deps } = makeToolDeps({ tools: [makeTool({ name: 'end_call' })] });
    const runner = await createToolRunner(deps);
    expect(runner.specs.filter((s) => s.name === 'end_call')).toHaveLength(1);
    expect((await runner.run('end_call', '{}', signal)).endsCall).toBe(true);
  });
});
