/**
 * The record tells who ended the call, and is final the moment it reads terminal. Twilio's
 * `completed` status callback follows every hang-up, including the agent's own: it must land in
 * the session's teardown (transport closed, engine still closing) and change nothing but what
 * only Twilio knows. Driven with the real pieces: the SDK-backed Twilio client against the REST
 * fake (signed callbacks to /twilio/status), the carrier simulator on the media socket, and an
 * engine that holds its close open so the test can act inside the teardown window.
 *
 * The two-node case also proves the cluster shares one secrets key: both nodes start with only
 * DATABASE_URL and REDIS_URL (keys from `loadSecrets`, as `npm start` gets them), the call is
 * placed on node A and its media lands on node B, whose stream-token check must accept A's token.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { FakeTwilioRest, parseStream } from '../fakes/twilio-rest.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import type { Engine, EngineHost } from '../../src/engine/types.js';
import { decryptSecret } from '../../src/crypto/secret-box.js';
import { e164, seedAgent, seedNumber, waitFor } from '../api/calls-fixtures.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

interface HeldEngine {
  host: EngineHost;
  closing: boolean;
  release(): void;
}

/** An engine that idles, and whose close() waits until the test releases it. */
function heldCloseEngines(engines: Map<string, HeldEngine>) {
  return (host: EngineHost): Engine => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const held: HeldEngine = { host, closing: false, release };
    engines.set(host.call.id, held);
    return {
      async prepare() {},
      async start() {},
      onAudio() {},
      onDtmf() {},
      async close() {
        held.closing = true;
        await released;
      },
    };
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function fakeTwilio(): Promise<FakeTwilioRest> {
  const fake = await new FakeTwilioRest().start();
  cleanups.push(() => fake.close());
  return fake;
}

async function node(env: Record<string, string>, engines: Map<string, HeldEngine>, secrets?: 'load'): Promise<TestApp> {
  const t = await createTestApp({ env, secrets });
  t.ctx.calls.configure({ engineFactory: heldCloseEngines(engines) });
  cleanups.push(() => t.close());
  return t;
}

interface Placed {
  callId: string;
  sid: string;
  carrier: TwilioCarrier;
}

/** Places a call on `api`'s node and connects its media to `media`'s node. */
async function placeAndConnect(fake: FakeTwilioRest, api: TestApp, media: TestApp): Promise<Placed> {
  const agent = await seedAgent(api);
  await seedNumber(api, 'admin', agent.id);
  const created = await api.api('POST', '/v1/calls', { agentId: agent.id, toNumber: e164() });
  expect(created.status).toBe(201);
  const { id: callId, twilioCallSid: sid } = created.body as { id: string; twilioCallSid: string };
  await fake.ring(sid);
  await fake.answer(sid);
  const stream = parseStream(fake.calls.get(sid)!.twiml[0] ?? '')!;
  // Twilio connects to the URL in the TwiML; a load balancer may hand the socket to any node.
  const carrier = await TwilioCarrier.connect({ url: `${media.wsUrl}/twilio/media`, customParameters: stream.parameters, callSid: sid, accountSid: fake.accountSid });
  cleanups.push(async () => carrier.terminate());
  await waitFor(() => media.ctx.calls.get(callId)?.live === true, 'media attached');
  return { callId, sid, carrier };
}

/** Every read of the call, on every node, that shows a terminal status must show the final record. */
async function readsAreTruthful(nodes: TestApp[], callId: string): Promise<void> {
  for (const n of nodes) {
    const r = await n.api('GET', `/v1/calls/${callId}`);
    expect(r.status).toBe(200);
    if (['completed', 'failed', 'canceled', 'busy', 'no-answer'].includes(r.body.status)) {
      expect(r.body, `read on ${n.baseUrl}`).toMatchObject({ endReason: 'agent_hangup', recordingAvailable: true });
      expect(r.body.endedAt).not.toBeNull();
      expect(r.body.durationSeconds).not.toBeNull();
    }
  }
}

async function hangUpWithCallbackInTeardown(fake: FakeTwilioRest, nodes: TestApp[], media: TestApp, placed: Placed, engines: Map<string, HeldEngine>): Promise<void> {
  const held = engines.get(placed.callId)!;
  // The agent hangs up (the end_call tool calls host.end with this reason).
  const ending = held.host.end('agent_hangup');
  await waitFor(() => held.closing, 'teardown reached the engine close');
  const closed = await placed.carrier.closed;
  expect(closed.reason).toBe('agent_hangup');
  // Twilio reports the hang-up while the session is still tearing down.
  const callback = fake.complete(placed.sid);
  for (let i = 0; i < 5; i++) {
    await readsAreTruthful(nodes, placed.callId);
    await new Promise((r) => setTimeout(r, 20));
  }
  held.release();
  await ending;
  const delivery = await callback;
  expect(delivery?.responseStatus).toBe(200);
  await waitFor(async () => (await media.ctx.store.getCall(placed.callId))!.status === 'completed', 'completed');
  await readsAreTruthful(nodes, placed.callId);
  for (const n of nodes) {
    const final = (await n.api('GET', `/v1/calls/${placed.callId}`)).body;
    expect(final).toMatchObject({ status: 'completed', endReason: 'agent_hangup', recordingAvailable: true });
    const events = await n.ctx.store.listCallEvents(placed.callId, 0);
    expect(events.filter((e) => e.type === 'call.ended')).toHaveLength(1);
    expect(events.find((e) => e.type === 'call.ended')!.data).toMatchObject({ reason: 'agent_hangup' });
  }
  const recording = await fetch(`${nodes[0]!.baseUrl}/v1/calls/${placed.callId}/recording`, { headers: { authorization: `Bearer ${nodes[0]!.adminKey}` } });
  // The recording lives on the node that held the media; the API serves it there.
  if (nodes[0] === media) expect(recording.status).toBe(200);
}

describe('the end of a call, as the record tells it', () => {
  it('keeps agent_hangup and the recording when Twilio\'s completed callback lands in the teardown (one node)', async () => {
    const fake = await fakeTwilio();
    const engines = new Map<string, HeldEngine>();
    const t = await node(fake.env(), engines);
    const placed = await placeAndConnect(fake, t, t);
    await hangUpWithCallbackInTeardown(fake, [t], t, placed, engines);
  });

  it('keeps api_end when the API ends a call whose media is on this node, whatever Twilio reports next', async () => {
    const fake = await fakeTwilio();
    const engines = new Map<string, HeldEngine>();
    const t = await node(fake.env(), engines);
    const placed = await placeAndConnect(fake, t, t);
    const held = engines.get(placed.callId)!;
    const ended = t.api('POST', `/v1/calls/${placed.callId}/end`);
    await waitFor(() => held.closing, 'teardown');
    const r = await t.api('GET', `/v1/calls/${placed.callId}`);
    // Not terminal yet: the session has not written its record.
    expect(r.body.status).toBe('in-progress');
    held.release();
    expect((await ended).body).toMatchObject({ status: 'completed', endReason: 'api_end', recordingAvailable: true });
    await fake.idle();
    expect(await t.ctx.store.getCall(placed.callId)).toMatchObject({ status: 'completed', endReason: 'api_end', recordingAvailable: true });
  });

  describe('on a two-node cluster started with only DATABASE_URL and REDIS_URL', () => {
    const schema = `truth_${process.pid}_${Date.now()}`;
    afterEach(async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    });

    it('places a call on node A, takes its media on node B, and keeps agent_hangup when A gets the callback in B\'s teardown', async () => {
      const fake = await fakeTwilio();
      const engines = new Map<string, HeldEngine>();
      const env = { ...fake.env(), DATABASE_URL: `${PG_URL}?schema=${schema}`, REDIS_URL: 'redis://127.0.0.1:6379' };
      const a = await node(env, engines, 'load');
      const b = await node(env, engines, 'load');
      // Each node has its own DATA_DIR, yet both hold the one key the store handed out.
      expect(a.ctx.secrets.tokenKey.equals(b.ctx.secrets.tokenKey)).toBe(true);
      expect(a.ctx.secrets.envVarKey.equals(b.ctx.secrets.envVarKey)).toBe(true);

      const placed = await placeAndConnect(fake, a, b);
      expect(b.ctx.calls.get(placed.callId)?.live).toBe(true);
      await hangUpWithCallbackInTeardown(fake, [a, b], b, placed, engines);
    });

    it('decrypts on node B the env-var secret written through node A', async () => {
      const engines = new Map<string, HeldEngine>();
      const env = { DATABASE_URL: `${PG_URL}?schema=${schema}`, REDIS_URL: 'redis://127.0.0.1:6379' };
      const a = await node(env, engines, 'load');
      const b = await node(env, engines, 'load');
      const agent = await seedAgent(a);
      expect((await a.api('PUT', `/v1/agents/${agent.id}/env-vars/API_TOKEN`, { value: 's3cret' })).status).toBeLessThan(300);
      const sealed = await b.ctx.store.getEnvVars(agent.id);
      expect(decryptSecret(b.ctx.secrets.envVarKey, sealed.API_TOKEN!)).toBe('s3cret');
    });
  });
});
