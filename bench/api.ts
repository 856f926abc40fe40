/**
 * Control API throughput: autocannon against the real gateway (`src/main.ts` in a child
 * process, SQLite under a temp DATA_DIR, the fake Twilio REST here so a call exists to read).
 * Per endpoint: requests/s, latency p50/p99, and the gateway's own CPU per request (its
 * /metrics), which holds up better than req/s on a shared machine.
 *
 *   node --import tsx bench/api.ts [--seconds 8] [--connections 20] [--stores sqlite,postgres]
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { FakeTwilioRest } from '../test/fakes/twilio-rest.js';
import { BENCH_ADMIN_KEY, startGateway } from './lib/gateway-process.js';
import { round, writeResults } from './lib/results.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '20' },
    /** Stores to run against: the embedded SQLite default, and PostgreSQL (a fresh schema). */
    stores: { type: 'string', default: 'sqlite,postgres' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const duration = Number(values.seconds);
const connections = Number(values.connections);

const rows = [];
for (const store of values.stores.split(',')) {
  const env: Record<string, string> = {};
  if (store === 'postgres') env.DATABASE_URL = `${values['postgres-url']}?schema=bench_api_${Date.now()}`;
  rows.push(...(await runAgainst(store, env)));
}
const file = writeResults('api', { duration, connections, loadAvg: os.loadavg(), rows }, rows);
console.log(`wrote ${file}`);
process.exit(0);

async function runAgainst(store: string, storeEnv: Record<string, string>) {
  const twilio = await new FakeTwilioRest({ keepHistory: false }).start();
  const g = await startGateway({ env: { ...twilio.env(), ...storeEnv } });
  const auth = { authorization: `Bearer ${BENCH_ADMIN_KEY}`, 'content-type': 'application/json' };
  const agentBody = (i: number) =>
    JSON.stringify({ name: `bench agent ${i}`, architecture: 'pipeline', systemPrompt: 'You are helpful.', model: 'gpt-4o-mini', stt: 'deepgram', tts: 'elevenlabs', voiceMode: 'phone' });

  // Something to read: 50 agents, a number, one outbound call.
  let agentId = '';
  for (let i = 0; i < 50; i++) agentId = (await g.api('POST', '/v1/agents', JSON.parse(agentBody(i)))).body.id;
  const num = await g.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550123', agentId });
  if (num.status !== 201) throw new Error(`number: ${num.status} ${JSON.stringify(num.body)}`);
  const call = await g.api('POST', '/v1/calls', { agentId, toNumber: '+14155550124' });
  if (call.status !== 201) throw new Error(`call: ${call.status} ${JSON.stringify(call.body)}`);

  interface Case {
    name: string;
    method: 'GET' | 'POST';
    path: string;
    idempotency?: 'unique' | 'replay';
}
const cases: Case[] = [
  { name: 'GET /v1/agents?limit=20', method: 'GET', path: '/v1/agents?limit=20' },
  { name: 'GET /v1/calls/:id', method: 'GET', path: `/v1/calls/${call.body.id}` },
  { name: 'POST /v1/agents', method: 'POST', path: '/v1/agents' },
  { name: 'POST /v1/agents + Idempotency-Key (new key each)', method: 'POST', path: '/v1/agents', idempotency: 'unique' },
  { name: 'POST /v1/agents + Idempotency-Key (replay)', method: 'POST', path: '/v1/agents', idempotency: 'replay' },
  { name: 'POST /v1/calls (fake Twilio)', method: 'POST', path: '/v1/calls' },
];

const rows = [];
for (const c of cases) {
  const replayKey = randomUUID();
  let n = 0;
  const before = await g.scrape();
  const options: Parameters<typeof autocannon>[0] = {
    url: g.baseUrl + c.path,
    connections,
    duration,
    // GETs send fixed headers; a per-request callback would spend the load generator's share of
    // the two cores on building them.
    ...(c.method === 'GET'
      ? { headers: { authorization: auth.authorization } }
      : {
          requests: [
            {
              method: c.method,
              setupRequest: (req) => {
                const headers: Record<string, string> = { ...auth };
                if (c.idempotency) headers['idempotency-key'] = c.idempotency === 'replay' ? replayKey : randomUUID();
                // A replay must repeat the first request exactly: another body under the same key is a 422.
                const body = c.path === '/v1/calls' ? JSON.stringify({ agentId, toNumber: '+14155550124' }) : agentBody(c.idempotency === 'replay' ? 0 : n++);
                return { ...req, headers, body };
              },
            },
          ],
        }),
  };
  const r = await autocannon(options);
  const after = await g.scrape();
  const total = r.requests.total;
  rows.push({
    store,
    endpoint: c.name,
    'req/s': Math.round(r.requests.average),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    'gw cpu µs/req': total ? Math.round(((after.cpuSeconds - before.cpuSeconds) * 1e6) / total) : null,
    load: round(os.loadavg()[0]!, 2),
  });
}
await g.stop();
await twilio.close();
return rows;
}
