/**
 * The one contract every Store passes (SQLite and PostgreSQL run it from their own test files).
 * Each test gets a fresh, empty database; `open()` can be called more than once to get a
 * second store instance on the same database, standing in for a second node.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VoxgateError } from '../../src/errors.js';
import { IDEMPOTENCY_PENDING, type Store } from '../../src/store/types.js';
import { iso, makeAction, makeAgent, makeCall, makeDoc, makeKey, makeNumber } from './fixtures.js';
import { contactContract } from './store-contract-campaigns.js';

export interface StoreHarness {
  /** A new store instance on this harness's database; not migrated yet. */
  open(): Promise<Store>;
  /** Closes nothing the test opened; drops the database (schema / temp dir). */
  dispose(): Promise<void>;
}

export type HarnessFactory = () => Promise<StoreHarness>;

export interface ContractContext {
  harness: StoreHarness;
  store: Store;
  /** Opens and migrates another instance on the same database, closed after the test. */
  second(): Promise<Store>;
}

export function storeContract(label: string, fresh: HarnessFactory): void {
  describe(`${label} store contract`, () => {
    const ctx = {} as ContractContext;
    const opened: Store[] = [];

    beforeEach(async () => {
      ctx.harness = await fresh();
      ctx.store = await ctx.harness.open();
      opened.push(ctx.store);
      await ctx.store.migrate();
      ctx.second = async () => {
        const s = await ctx.harness.open();
        opened.push(s);
        await s.migrate();
        return s;
      };
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await ctx.harness.dispose();
    });

    describe('lifecycle', () => {
      it('runs migrations idempotently, also from two instances at once', async () => {
        await ctx.store.migrate();
        const [a, b] = [await ctx.harness.open(), await ctx.harness.open()];
        opened.push(a, b);
        await Promise.all([a.migrate(), b.migrate()]);
        await ctx.store.ping();
        await ctx.store.createKey(makeKey('o1'));
        expect((await a.listKeys(undefined, { limit: 10 })).items).toHaveLength(1);
      });

      it('keeps data across close and reopen', async () => {
        const agent = await ctx.store.createAgent(makeAgent('o1'));
        const call = await ctx.store.createCall(makeCall('o1', agent.id));
        await ctx.store.appendCallEvent(call.id, 'call.status', { status: 'ringing' });
        await ctx.store.close();
        opened.splice(opened.indexOf(ctx.store), 1);
        const reopened = await ctx.second();
        expect(await reopened.getAgent(agent.id)).toEqual(agent);
        expect(await reopened.getCall(call.id)).toEqual(call);
        const next = await reopened.appendCallEvent(call.id, 'call.status', { status: 'in-progress' });
        expect(next.seq).toBe(2);
      });
    });

    describe('keys', () => {
      it('finds keys by hash until revoked, and lists by owner', async () => {
        const { store } = ctx;
        const k1 = makeKey('alice');
        const k2 = makeKey('bob', { name: null, scopes: ['admin'] });
        await store.createKey(k1);
        await store.createKey(k2);
        expect(await store.getKeyByHash(k1.hash)).toEqual(k1);
        expect(await store.getKey(k2.id)).toEqual(k2);
        expect(await store.getKeyByHash('nope')).toBeNull();
        expect((await store.listKeys('alice', { limit: 10 })).items.map((k) => k.id)).toEqual([k1.id]);
        expect((await store.listKeys(undefined, { limit: 10 })).items.map((k) => k.id)).toEqual([k2.id, k1.id]);

        const at = iso();
        expect(await store.revokeKey(k1.id, at)).toBe(true);
        expect(await store.revokeKey(k1.id, iso())).toBe(false);
        expect(await store.revokeKey('key_missing', at)).toBe(false);
        expect(await store.getKeyByHash(k1.hash)).toBeNull();
        expect(await store.getKey(k1.id)).toEqual({ ...k1, revokedAt: at });
      });

      it('never revokes the last admin key, even when two admins revoke each other at once', async () => {
        const { store } = ctx;
        const a1 = makeKey('admin', { scopes: ['admin'] });
        const a2 = makeKey('admin', { scopes: ['admin'] });
        const plain = makeKey('alice', { scopes: ['agents:read'] });
        for (const k of [a1, a2, plain]) await store.createKey(k);
        expect(await store.revokeKeyKeepingAdmin(plain.id, iso())).toBe('revoked');
        expect(await store.revokeKeyKeepingAdmin(plain.id, iso())).toBe('not_found');
        const both = await Promise.all([store.revokeKeyKeepingAdmin(a1.id, iso()), store.revokeKeyKeepingAdmin(a2.id, iso())]);
        expect([...both].sort()).toEqual(['last_admin', 'revoked']);
        const kept = both[0] === 'last_admin' ? a1 : a2;
        expect(await store.getKeyByHash(kept.hash)).not.toBeNull();
      });

      it('keeps one value per setting: the first one stored', async () => {
        const { store } = ctx;
        const first = await Promise.all([store.getOrCreateSetting('s', 'one'), store.getOrCreateSetting('s', 'two')]);
        expect(new Set(first).size).toBe(1);
        expect(await store.getOrCreateSetting('s', 'three')).toBe(first[0]);
        expect(await store.getOrCreateSetting('other', 'x')).toBe('x');
      });

      it('refuses a duplicate hash with a conflict', async () => {
        const k = makeKey('alice');
        await ctx.store.createKey(k);
        await expect(ctx.store.createKey({ ...makeKey('alice'), hash: k.hash })).rejects.toMatchObject({ code: 'conflict' });
      });
    });

    describe('paging', () => {
      it('pages newest first with a cursor that is stable under inserts', async () => {
        const { store } = ctx;
        const made: string[] = [];
        for (let i = 0; i < 7; i++) made.push((await store.createAgent(makeAgent('alice', { name: `a${i}` }))).id);
        await store.createAgent(makeAgent('bob'));
        const newestFirst = [...made].reverse();

        const p1 = await store.listAgents('alice', { limit: 3 });
        expect(p1.items.map((a) => a.id)).toEqual(newestFirst.slice(0, 3));
        expect(p1.nextAfterId).toBe(newestFirst[2]);

        // Inserts between pages land before the cursor and never shift later pages.
        await store.createAgent(makeAgent('alice', { name: 'late' }));
        const p2 = await store.listAgents('alice', { limit: 3, afterId: p1.nextAfterId! });
        expect(p2.items.map((a) => a.id)).toEqual(newestFirst.slice(3, 6));
        const p3 = await store.listAgents('alice', { limit: 3, afterId: p2.nextAfterId! });
        expect(p3.items.map((a) => a.id)).toEqual(newestFirst.slice(6));
        expect(p3.nextAfterId).toBeNull();
      });

      it('returns a null cursor when the last page is exactly full', async () => {
        for (let i = 0; i < 4; i++) await ctx.store.createAgent(makeAgent('alice'));
        const p1 = await ctx.store.listAgents('alice', { limit: 2 });
        const p2 = await ctx.store.listAgents('alice', { limit: 2, afterId: p1.nextAfterId! });
        expect(p2.items).toHaveLength(2);
        expect(p2.nextAfterId).toBeNull();
        expect(await ctx.store.listAgents('nobody', { limit: 2 })).toEqual({ items: [], nextAfterId: null });
      });
    });

    describe('agents, env vars and tools', () => {
      it('round-trips every agent field and replaces mutable ones on update', async () => {
        const { store } = ctx;
        const agent = await store.createAgent(makeAgent('alice', { turnDetection: null, pronunciations: null, variables: null, metadata: null, model: null, temperature: null, active: false }));
        expect(await store.getAgent(agent.id)).toEqual(agent);
        const full = await store.createAgent(makeAgent('alice'));
        expect(await store.getAgent(full.id)).toEqual(full);

        const changed = { ...full, name: 'Renamed', knowledgeIds: [], active: false, owner: 'mallory', createdAt: iso(0) };
        const updated = await store.updateAgent(changed);
        expect(updated).toMatchObject({ name: 'Renamed', knowledgeIds: [], active: false, owner: 'alice', createdAt: full.createdAt });
        expect(await store.getAgent(full.id)).toEqual(updated);
        expect(await store.updateAgent({ ...full, id: 'agt_missing' })).toBeNull();
        expect(await store.getAgent('agt_missing')).toBeNull();
      });

      it('keeps env vars as ciphertext per agent and drops them with the agent', async () => {
        const { store } = ctx;
        const a = await store.createAgent(makeAgent('alice'));
        const b = await store.createAgent(makeAgent('alice'));
        await store.putEnvVar(a.id, 'TOKEN', 'c1');
        await store.putEnvVar(a.id, 'API', 'c2');
        await store.putEnvVar(a.id, 'TOKEN', 'c3');
        await store.putEnvVar(b.id, 'OTHER', 'c4');
        expect(await store.listEnvVarNames(a.id)).toEqual(['API', 'TOKEN']);
        expect(await store.getEnvVars(a.id)).toEqual({ API: 'c2', TOKEN: 'c3' });
        expect(await store.deleteEnvVar(a.id, 'API')).toBe(true);
        expect(await store.deleteEnvVar(a.id, 'API')).toBe(false);
        await expect(store.putEnvVar('agt_missing', 'X', 'c')).rejects.toBeInstanceOf(VoxgateError);

        const num = makeNumber('alice', { agentId: a.id });
        await store.createNumber(num);
        await store.putTool({ agentId: a.id, name: 't', description: 'd', parameters: {}, url: 'http://x', method: 'POST', headers: null, timeoutMs: 1000, createdAt: iso() });
        expect(await store.deleteAgent(a.id)).toBe(true);
        expect(await store.deleteAgent(a.id)).toBe(false);
        expect(await store.getEnvVars(a.id)).toEqual({});
        expect(await store.listTools(a.id)).toEqual([]);
        expect((await store.getNumber(num.id))?.agentId).toBeNull();
        expect(await store.getEnvVars(b.id)).toEqual({ OTHER: 'c4' });
      });

      it('upserts webhook tools by name', async () => {
        const { store } = ctx;
        const a = await store.createAgent(makeAgent('alice'));
        const tool = {
          agentId: a.id,
          name: 'lookup',
          description: 'Looks up an order',
          parameters: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
          url: 'https://example.com/lookup',
          method: 'POST' as const,
          headers: { 'x-secret': '{{env.TOKEN}}' },
          timeoutMs: 5000,
          createdAt: iso(),
        };
        await store.putTool(tool);
        await store.putTool({ ...tool, name: 'book', headers: null, method: 'GET', createdAt: iso(Date.now() + 1) });
        await store.putTool({ ...tool, description: 'v2' });
        const tools = await store.listTools(a.id);
        expect(tools).toEqual([{ ...tool, description: 'v2' }, { ...tool, name: 'book', headers: null, method: 'GET', createdAt: tools[1].createdAt }]);
        expect(await store.deleteTool(a.id, 'lookup')).toBe(true);
        expect(await store.deleteTool(a.id, 'lookup')).toBe(false);
        expect((await store.listTools(a.id)).map((t) => t.name)).toEqual(['book']);
      });
    });

    describe('knowledge and numbers', () => {
      it('stores documents and lists them without their text', async () => {
        const { store } = ctx;
        const d1 = makeDoc('alice', { sourceUrl: 'https://example.com/faq' });
        const d2 = makeDoc('alice', { text: 'x'.repeat(100_000) });
        const d3 = makeDoc('bob');
        for (const d of [d1, d2, d3]) await store.createDoc(d);
        expect(await store.getDoc(d2.id)).toEqual(d2);
        expect(await store.getDocs([d3.id, 'doc_missing', d1.id])).toEqual([d3, d1]);
        expect(await store.getDocs([])).toEqual([]);
        const { text: _t, ...summary } = d1;
        const listed = await store.listDocs('alice', { limit: 10 });
        expect(listed.items).toEqual([expect.not.objectContaining({ text: expect.anything() }), summary]);
        expect(await store.deleteDoc(d1.id)).toBe(true);
        expect(await store.getDoc(d1.id)).toBeNull();
        expect(await store.deleteDoc(d1.id)).toBe(false);
      });

      it('finds numbers by E.164, refuses duplicates and attaches agents', async () => {
        const { store } = ctx;
        const agent = await store.createAgent(makeAgent('alice'));
        const n = makeNumber('alice', { label: 'main' });
        await store.createNumber(n);
        expect(await store.getNumberByE164(n.phoneNumber)).toEqual(n);
        expect(await store.getNumberByE164('+19999999999')).toBeNull();
        await expect(store.createNumber(makeNumber('bob', { phoneNumber: n.phoneNumber }))).rejects.toMatchObject({ code: 'conflict' });
        await store.setNumberAgent(n.id, agent.id);
        expect((await store.getNumber(n.id))?.agentId).toBe(agent.id);
        await expect(store.setNumberAgent(n.id, 'agt_missing')).rejects.toMatchObject({ code: 'not_found' });
        await store.setNumberAgent(n.id, null);
        expect((await store.getNumber(n.id))?.agentId).toBeNull();
        await store.createNumber(makeNumber('bob'));
        expect((await store.listNumbers('alice', { limit: 10 })).items.map((x) => x.id)).toEqual([n.id]);
        expect((await store.listNumbers(undefined, { limit: 10 })).items).toHaveLength(2);
        expect(await store.deleteNumber(n.id)).toBe(true);
        expect(await store.deleteNumber(n.id)).toBe(false);
      });
    });

    callContract(ctx);
    idempotencyContract(ctx);
    contactContract(ctx);
    actionContract(ctx);
  });
}

function callContract(ctx: ContractContext): void {
  describe('calls', () => {
    it('round-trips calls, finds them by Twilio sid and filters lists', async () => {
      const { store } = ctx;
      const agent = await store.createAgent(makeAgent('alice'));
      const c1 = await store.createCall(makeCall('alice', agent.id, { twilioCallSid: 'CA1', direction: 'inbound', phoneNumberId: 'num_1' }));
      const c2 = await store.createCall(makeCall('alice', 'agt_other', { status: 'completed', campaignId: 'cmp_1', durationSeconds: 12.5 }));
      const c3 = await store.createCall(makeCall('bob', agent.id, { direction: 'web', fromNumber: null, toNumber: null }));
      expect(await store.getCall(c1.id)).toEqual(c1);
      expect(await store.getCall(c2.id)).toEqual(c2);
      expect(await store.getCallByTwilioSid('CA1')).toEqual(c1);
      expect(await store.getCallByTwilioSid('CA2')).toBeNull();
      const ids = async (f: Parameters<Store['listCalls']>[0]) => (await store.listCalls(f, { limit: 10 })).items.map((c) => c.id);
      expect(await ids({})).toEqual([c3.id, c2.id, c1.id]);
      expect(await ids({ owner: 'alice' })).toEqual([c2.id, c1.id]);
      expect(await ids({ agentId: agent.id })).toEqual([c3.id, c1.id]);
      expect(await ids({ owner: 'alice', status: 'completed' })).toEqual([c2.id]);
      expect(await ids({ direction: 'inbound' })).toEqual([c1.id]);
      expect(await ids({ phoneNumberId: 'num_1' })).toEqual([c1.id]);
      expect(await ids({ campaignId: 'cmp_1' })).toEqual([c2.id]);
      expect(await ids({ owner: 'carol' })).toEqual([]);
    });

    it('shallow-merges updates and leaves identity fields alone', async () => {
      const { store } = ctx;
      const call = await store.createCall(makeCall('alice', 'agt_x'));
      const updated = await store.updateCall(call.id, {
        twilioCallSid: 'CA9',
        notes: ['reconnected to deepgram'],
        latency: { turns: 1, p50Ms: 700, p95Ms: 700, recent: [{ voiceToVoiceMs: 700, sttFinalMs: 120 }] },
        recordingAvailable: true,
        ...({ owner: 'mallory', id: 'call_other' } as object),
      });
      expect(updated).toMatchObject({ id: call.id, owner: 'alice', twilioCallSid: 'CA9', recordingAvailable: true, variables: call.variables });
      expect(await store.getCall(call.id)).toEqual(updated);
      expect(await store.updateCall('call_missing', { endReason: 'x' })).toBeNull();
    });

    it('never moves a terminal call and never moves a call backwards', async () => {
      const { store } = ctx;
      const call = await store.createCall(makeCall('alice', 'agt_x'));
      expect((await store.transitionCall(call.id, 'in-progress', { answeredAt: iso() }))?.status).toBe('in-progress');
      // A late `ringing` callback must not undo `in-progress`.
      expect(await store.transitionCall(call.id, 'ringing')).toBeNull();
      expect((await store.getCall(call.id))?.status).toBe('in-progress');
      const ended = await store.transitionCall(call.id, 'completed', { endedAt: iso(), durationSeconds: 31, endReason: 'hangup' });
      expect(ended).toMatchObject({ status: 'completed', durationSeconds: 31, endReason: 'hangup' });
      expect(await store.transitionCall(call.id, 'failed', { endReason: 'late' })).toBeNull();
      expect(await store.transitionCall(call.id, 'in-progress')).toBeNull();
      expect(await store.getCall(call.id)).toEqual(ended);
      expect(await store.transitionCall('call_missing', 'completed')).toBeNull();

      // Straight from queued to a terminal status is a valid move.
      const other = await store.createCall(makeCall('alice', 'agt_x'));
      expect((await store.transitionCall(other.id, 'canceled'))?.status).toBe('canceled');
    });

    it('lets only one of many concurrent terminal transitions win', async () => {
      const call = await ctx.store.createCall(makeCall('alice', 'agt_x'));
      const other = await ctx.second();
      const outcomes = await Promise.all(
        (['completed', 'failed', 'busy', 'no-answer', 'canceled', 'completed'] as const).map((s, i) =>
          (i % 2 ? other : ctx.store).transitionCall(call.id, s, { endReason: s }),
        ),
      );
      const winners = outcomes.filter((o) => o !== null);
      expect(winners).toHaveLength(1);
      expect((await ctx.store.getCall(call.id))?.status).toBe(winners[0]!.status);
    });

    it('sequences call events and reads the transcript back', async () => {
      const { store } = ctx;
      const call = await store.createCall(makeCall('alice', 'agt_x'));
      const e1 = await store.appendCallEvent(call.id, 'call.status', { status: 'in-progress' });
      const e2 = await store.appendCallEvent(call.id, 'transcript.final', { role: 'agent', text: 'Hello!', startMs: 0, endMs: 900 });
      await store.appendCallEvent(call.id, 'agent.interrupted', { atMs: 500 });
      await store.appendCallEvent(call.id, 'transcript.final', { role: 'user', text: 'Hi, I need…', startMs: 1000, endMs: 2400 });
      await store.appendCallEvent(call.id, 'transcript.final', { role: 'agent', text: 'Sure', startMs: 2500, endMs: 2700, interrupted: true });
      await store.appendCallEvent(call.id, 'call.ended', { reason: 'hangup' });
      expect(e1).toMatchObject({ callId: call.id, seq: 1, type: 'call.status', data: { status: 'in-progress' } });
      expect(e2.seq).toBe(2);
      const events = await store.listCallEvents(call.id, 0);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(events[1]).toEqual(e2);
      expect((await store.listCallEvents(call.id, 4)).map((e) => e.type)).toEqual(['transcript.final', 'call.ended']);
      expect(await store.listCallEvents(call.id, 6)).toEqual([]);
      expect(await store.listTranscript(call.id)).toEqual([
        { seq: 2, role: 'agent', text: 'Hello!', startMs: 0, endMs: 900, final: true },
        { seq: 4, role: 'user', text: 'Hi, I need…', startMs: 1000, endMs: 2400, final: true },
        { seq: 5, role: 'agent', text: 'Sure', startMs: 2500, endMs: 2700, interrupted: true, final: true },
      ]);
      expect(await store.listTranscript('call_missing')).toEqual([]);
      await expect(store.appendCallEvent('call_missing', 'call.ended', {})).rejects.toMatchObject({ code: 'not_found' });
    });

    it('stores a write id once: the same id again answers with the first seq and adds nothing', async () => {
      const call = await ctx.store.createCall(makeCall('alice', 'agt_x'));
      const line = { role: 'user', text: 'hello', startMs: 0, endMs: 1 };
      const first = await ctx.store.appendCallEvent(call.id, 'transcript.final', line, 'w-1');
      const again = await ctx.store.appendCallEvent(call.id, 'transcript.final', line, 'w-1');
      const next = await ctx.store.appendCallEvent(call.id, 'transcript.final', { ...line, text: 'more' }, 'w-2');
      const untagged = await ctx.store.appendCallEvent(call.id, 'call.status', { status: 'in-progress' });
      expect([first.seq, again.seq, next.seq, untagged.seq]).toEqual([1, 1, 2, 3]);
      expect((await ctx.store.listTranscript(call.id)).map((t) => t.text)).toEqual(['hello', 'more']);
      // Ids are per call: another call may use the same one.
      const other = await ctx.store.createCall(makeCall('alice', 'agt_x'));
      expect((await ctx.store.appendCallEvent(other.id, 'transcript.final', line, 'w-1')).seq).toBe(1);
    });

    it('gives concurrent appenders on two instances unique, gap-free sequence numbers', async () => {
      const call = await ctx.store.createCall(makeCall('alice', 'agt_x'));
      const other = await ctx.second();
      const n = 60;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          (i % 2 ? other : ctx.store).appendCallEvent(call.id, 'transcript.final', { role: 'user', text: `t${i}`, startMs: i, endMs: i + 1 }),
        ),
      );
      expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      const stored = await ctx.store.listCallEvents(call.id, 0);
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      // Each returned seq names the event that was written under it.
      for (const r of results) expect(stored[r.seq - 1].data).toEqual(r.data);
    });
  });
}

function idempotencyContract(ctx: ContractContext): void {
  describe('idempotency records', () => {
    it('stores records per (key, idempotency key) and purges old ones', async () => {
      const { store } = ctx;
      const old = { keyId: 'key_a', idempotencyKey: 'k1', requestHash: 'h1', status: 201, body: '{"id":"call_1"}', createdAt: iso(Date.now() - 86_400_000) };
      const fresh = { ...old, idempotencyKey: 'k2', createdAt: iso() };
      const otherKey = { ...old, keyId: 'key_b', createdAt: iso() };
      for (const r of [old, fresh, otherKey]) await store.putIdempotency(r);
      expect(await store.getIdempotency('key_a', 'k1')).toEqual(old);
      expect(await store.getIdempotency('key_b', 'k1')).toEqual(otherKey);
      expect(await store.getIdempotency('key_a', 'k3')).toBeNull();
      expect(await store.purgeIdempotency(iso(Date.now() - 3_600_000))).toBe(1);
      expect(await store.getIdempotency('key_a', 'k1')).toBeNull();
      expect(await store.getIdempotency('key_a', 'k2')).toEqual(fresh);
      expect(await store.purgeIdempotency(iso(Date.now() - 3_600_000))).toBe(0);
    });

    it('lets one of many concurrent claims win, takes over only expired or stale records, and releases only pending ones', async () => {
      const { store } = ctx;
      const cutoffs = { done: iso(Date.now() - 86_400_000), pending: iso(Date.now() - 300_000) };
      const claim = { keyId: 'key_c', idempotencyKey: 'c1', requestHash: 'h1', createdAt: iso() };
      const wins = await Promise.all(Array.from({ length: 8 }, () => store.claimIdempotency(claim, cutoffs)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await store.getIdempotency('key_c', 'c1')).toEqual({ ...claim, status: IDEMPOTENCY_PENDING, body: '' });

      // A finished record is not claimable while live; releasing it changes nothing.
      const done = { ...claim, status: 201, body: '{"id":"agt_1"}' };
      await store.putIdempotency(done);
      expect(await store.claimIdempotency({ ...claim, requestHash: 'h2' }, cutoffs)).toBe(false);
      await store.releaseIdempotency('key_c', 'c1');
      expect(await store.getIdempotency('key_c', 'c1')).toEqual(done);

      // Expired finished records and stale claims (a dead node's) are taken over.
      await store.putIdempotency({ ...done, idempotencyKey: 'c2', createdAt: iso(Date.now() - 2 * 86_400_000) });
      expect(await store.claimIdempotency({ ...claim, idempotencyKey: 'c2' }, cutoffs)).toBe(true);
      await store.putIdempotency({ ...claim, idempotencyKey: 'c3', status: IDEMPOTENCY_PENDING, body: '', createdAt: iso(Date.now() - 600_000) });
      expect(await store.claimIdempotency({ ...claim, idempotencyKey: 'c3' }, cutoffs)).toBe(true);
      await store.putIdempotency({ ...claim, idempotencyKey: 'c4', status: IDEMPOTENCY_PENDING, body: '', createdAt: iso(Date.now() - 60_000) });
      expect(await store.claimIdempotency({ ...claim, idempotencyKey: 'c4' }, cutoffs)).toBe(false);

      // A released claim is gone, so the next request runs.
      await store.releaseIdempotency('key_c', 'c3');
      expect(await store.getIdempotency('key_c', 'c3')).toBeNull();
    });
  });
}

function actionContract(ctx: ContractContext): void {
  describe('approvals', () => {
    it('decides an action once (compare-and-set) and filters the list', async () => {
      const { store } = ctx;
      const a1 = makeAction('alice', 'cmp_1');
      const a2 = makeAction('bob', 'cmp_2', { action: 'stop' });
      await store.createAction(a1);
      await store.createAction(a2);
      expect(await store.getAction(a1.id)).toEqual(a1);
      const decision = { status: 'approved' as const, decidedBy: 'human', decidedByKeyId: 'key_h', reason: 'ok', decidedAt: iso() };
      const other = await ctx.second();
      const [first, second] = await Promise.all([
        store.decideAction(a1.id, decision),
        other.decideAction(a1.id, { ...decision, status: 'rejected', reason: 'no' }),
      ]);
      expect([first, second].filter((x) => x !== null)).toHaveLength(1);
      expect(await store.getAction(a1.id)).toEqual(first ?? second);
      expect((first ?? second)?.decidedBy).toBe('human');
      expect(await store.decideAction(a1.id, decision)).toBeNull();
      expect(await store.decideAction('act_missing', decision)).toBeNull();

      await store.setActionStatus(a1.id, 'executed');
      expect((await store.getAction(a1.id))?.status).toBe('executed');
      const list = async (f: Parameters<Store['listActions']>[0]) => (await store.listActions(f, { limit: 10 })).items.map((a) => a.id);
      expect(await list({})).toEqual([a2.id, a1.id]);
      expect(await list({ owner: 'alice' })).toEqual([a1.id]);
      expect(await list({ status: 'awaiting_approval' })).toEqual([a2.id]);
      expect(await list({ excludeOwner: 'bob' })).toEqual([a1.id]);
      expect(await list({ owner: 'bob', status: 'executed' })).toEqual([]);
    });
  });
}
