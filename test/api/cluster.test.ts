/**
 * Two gateway nodes on one PostgreSQL schema and one Redis, as in a scale-out deployment
 * (README, Scale-out): a key's rate limit is one budget across the nodes, and what one node
 * writes the other serves.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `cluster_${process.pid}_${Date.now()}`;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  const env = { DATABASE_URL: `${PG_URL}?schema=${schema}`, REDIS_URL: 'redis://127.0.0.1:6379', RATE_LIMIT_RPM: '8' };
  a = await createTestApp({ env });
  b = await createTestApp({ env });
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

describe('two nodes on a shared store and Redis', () => {
  it('share one rate-limit budget per key, counted across both nodes', async () => {
    // A fresh key of its own, so no other request of this file has spent its budget.
    const created = await a.api('POST', '/v1/keys', { owner: 'cluster', scopes: ['agents:read'] });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    const remaining: Array<string | null> = [];
    for (const node of [a, b, a, b, a, b, a, b]) {
      const r = await node.api('GET', '/v1/me', undefined, key);
      expect(r.status).toBe(200);
      remaining.push(r.headers.get('x-ratelimit-remaining'));
    }
    expect(remaining).toEqual(['7', '6', '5', '4', '3', '2', '1', '0']);
    const over = await b.api('GET', '/v1/me', undefined, key);
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('rate_limited');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('runs a POST once when the same Idempotency-Key arrives at both nodes at the same time', async () => {
    const key = (await a.api('POST', '/v1/keys', { owner: 'idem', scopes: ['agents:read', 'agents:write'] })).body.key as string;
    const body = { name: 'once', architecture: 'pipeline', systemPrompt: 'You help.', model: 'gpt-4o-mini', stt: 'deepgram', tts: 'elevenlabs', voiceMode: 'phone' };
    const headers = { 'idempotency-key': 'create-once' };
    const all = await Promise.all([a, b, a, b].map((node) => node.api('POST', '/v1/agents', body, key, headers)));
    expect(all.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(new Set(all.map((r) => r.body.id)).size).toBe(1);
    expect(all.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(3);
    const listed = await b.api('GET', '/v1/agents', undefined, key);
    expect(listed.body.items.map((x: { id: string }) => x.id)).toEqual([all[0]!.body.id]);
  });

  it('serves on one node what the other wrote', async () => {
    const agent = await a.api('POST', '/v1/agents', {
      name: 'shared',
      architecture: 'pipeline',
      systemPrompt: 'You help.',
      model: 'gpt-4o-mini',
      stt: 'deepgram',
      tts: 'elevenlabs',
      voiceMode: 'phone',
    });
    expect(agent.status).toBe(201);
    const read = await b.api('GET', `/v1/agents/${agent.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: agent.body.id, name: 'shared' });
  });
});
