/** The campaign and contact half of the store contract (see `store-contract.ts`). */
import { describe, expect, it } from 'vitest';
import type { ContactInput, Store } from '../../src/store/types.js';
import type { ContractContext } from './store-contract.js';
import { iso, makeAgent, makeCampaign, makeNumber } from './fixtures.js';

async function campaign(store: Store, owner = 'alice', over: Parameters<typeof makeCampaign>[3] = {}) {
  const agent = await store.createAgent(makeAgent(owner));
  const num = makeNumber(owner);
  await store.createNumber(num);
  return store.createCampaign(makeCampaign(owner, agent.id, num.id, over));
}

function contacts(n: number, prefix: string, withExternalId = true): ContactInput[] {
  return Array.from({ length: n }, (_, i) => ({
    ...(withExternalId ? { externalId: `${prefix}${i}` } : {}),
    phone: `+1555000${String(i).padStart(4, '0')}`,
    name: `Contact ${i}`,
    variables: { i: String(i) },
  }));
}

export function contactContract(ctx: ContractContext): void {
  describe('campaigns and contacts', () => {
    it('stores campaigns and lists them by owner and by status', async () => {
      const { store } = ctx;
      const c1 = await campaign(store, 'alice');
      const c2 = await campaign(store, 'bob', { extractionSchema: null, purpose: null });
      expect(await store.getCampaign(c1.id)).toEqual(c1);
      expect(await store.getCampaign(c2.id)).toEqual(c2);
      expect((await store.listCampaigns('alice', { limit: 10 })).items).toEqual([c1]);
      expect((await store.listCampaigns(undefined, { limit: 10 })).items.map((c) => c.id)).toEqual([c2.id, c1.id]);
      const running = await store.setCampaignStatus(c1.id, 'running');
      expect(running).toMatchObject({ id: c1.id, status: 'running', name: c1.name });
      expect(await store.listCampaignsByStatus('running')).toEqual([running]);
      expect(await store.listCampaignsByStatus('paused')).toEqual([]);
      expect(await store.setCampaignStatus('cmp_missing', 'running')).toBeNull();
    });

    it('upserts contacts by externalId and always creates those without one', async () => {
      const { store } = ctx;
      const c = await campaign(store);
      const now = iso();
      expect(await store.upsertContacts(c.id, [...contacts(3, 'x'), ...contacts(2, '', false)], now)).toEqual({ created: 5, updated: 0 });
      const later = iso(Date.now() + 1000);
      const again = await store.upsertContacts(
        c.id,
        [{ externalId: 'x1', phone: '+15559999999', variables: { v: '2' } }, { externalId: 'x9', phone: '+15558888888' }, ...contacts(1, '', false)],
        later,
      );
      expect(again).toEqual({ created: 2, updated: 1 });
      const all = (await store.listContacts(c.id, undefined, { limit: 100 })).items;
      expect(all).toHaveLength(7);
      const x1 = all.find((x) => x.externalId === 'x1')!;
      expect(x1).toMatchObject({ phone: '+15559999999', name: null, variables: { v: '2' }, status: 'pending', attempts: 0, createdAt: now, updatedAt: later });
      expect(await store.getContact(x1.id)).toEqual(x1);
      // The same externalId in another campaign is another contact.
      const other = await campaign(store);
      expect(await store.upsertContacts(other.id, contacts(1, 'x'), now)).toEqual({ created: 1, updated: 0 });
      // Repeats inside one batch collapse into one row: the last one wins.
      expect(await store.upsertContacts(other.id, [{ externalId: 'dup', phone: '+1' }, { externalId: 'dup', phone: '+2' }], now)).toEqual({ created: 1, updated: 0 });
      const dup = (await store.listContacts(other.id, undefined, { limit: 10 })).items.find((x) => x.externalId === 'dup');
      expect(dup?.phone).toBe('+2');
    });

    it('writes nothing when one row of a batch fails', async () => {
      const { store } = ctx;
      const c = await campaign(store);
      await store.upsertContacts(c.id, contacts(2, 'keep'), iso());
      const batch = [...contacts(50, 'new'), { externalId: 'keep0', phone: '+15551112222' }, { externalId: 'bad', phone: null as unknown as string }, ...contacts(50, 'tail')];
      await expect(store.upsertContacts(c.id, batch, iso())).rejects.toThrow();
      const all = (await store.listContacts(c.id, undefined, { limit: 500 })).items;
      expect(all.map((x) => x.externalId).sort()).toEqual(['keep0', 'keep1']);
      expect(all.find((x) => x.externalId === 'keep0')?.phone).not.toBe('+15551112222');
      await expect(store.upsertContacts('cmp_missing', contacts(1, 'z'), iso())).rejects.toThrow();
    });

    it('lists contacts by status, counts them and applies patches', async () => {
      const { store } = ctx;
      const c = await campaign(store);
      await store.upsertContacts(c.id, contacts(5, 'p'), iso());
      const page1 = await store.listContacts(c.id, undefined, { limit: 3 });
      const page2 = await store.listContacts(c.id, undefined, { limit: 3, afterId: page1.nextAfterId! });
      expect(page1.items).toHaveLength(3);
      expect(page2.items).toHaveLength(2);
      expect(page2.nextAfterId).toBeNull();
      const [first] = page1.items;
      const patched = await store.updateContact(first.id, { status: 'completed', lastOutcome: 'answered', result: { ok: true }, lastCallId: 'call_1' });
      expect(patched).toMatchObject({ id: first.id, status: 'completed', result: { ok: true }, lastCallId: 'call_1', campaignId: c.id });
      expect(await store.updateContact('cnt_missing', { status: 'failed' })).toBeNull();
      expect((await store.listContacts(c.id, 'completed', { limit: 10 })).items.map((x) => x.id)).toEqual([first.id]);
      expect(await store.countContacts(c.id)).toEqual({ pending: 4, calling: 0, retry: 0, completed: 1, failed: 0, exhausted: 0 });
      expect(await store.countContacts('cmp_missing')).toEqual({ pending: 0, calling: 0, retry: 0, completed: 0, failed: 0, exhausted: 0 });
    });

    it('claims due contacts oldest first, up to maxConcurrent', async () => {
      const { store } = ctx;
      const c = await campaign(store);
      const now = Date.now();
      await store.upsertContacts(c.id, contacts(4, 'c'), iso(now));
      const listed = (await store.listContacts(c.id, undefined, { limit: 10 })).items.reverse();
      // c0 is waiting for a retry later; c1 is a retry that is due.
      await store.updateContact(listed[0].id, { status: 'retry', nextAttemptAt: iso(now + 60_000) });
      await store.updateContact(listed[1].id, { status: 'retry', nextAttemptAt: iso(now - 1000), attempts: 1 });

      const first = await store.claimContact(c.id, iso(now), 2);
      expect(first).toMatchObject({ id: listed[1].id, status: 'calling', attempts: 2 });
      const second = await store.claimContact(c.id, iso(now), 2);
      expect(second).toMatchObject({ id: listed[2].id, status: 'calling', attempts: 1 });
      expect(await store.claimContact(c.id, iso(now), 2)).toBeNull();
      await store.updateContact(first!.id, { status: 'completed' });
      expect((await store.claimContact(c.id, iso(now), 2))?.id).toBe(listed[3].id);
      await store.updateContact(second!.id, { status: 'failed' });
      // Only c0 is left and it is not due yet, until the clock passes its nextAttemptAt.
      expect(await store.claimContact(c.id, iso(now), 5)).toBeNull();
      expect((await store.claimContact(c.id, iso(now + 61_000), 5))?.id).toBe(listed[0].id);
      expect(await store.claimContact('cmp_missing', iso(now), 5)).toBeNull();
    });

    it('never exceeds maxConcurrent nor double-claims under concurrent claims from two instances', async () => {
      const c = await campaign(ctx.store);
      const other = await ctx.second();
      await ctx.store.upsertContacts(c.id, contacts(20, 'k'), iso());
      const maxConcurrent = 3;
      const claims = await Promise.all(
        Array.from({ length: 24 }, (_, i) => (i % 2 ? other : ctx.store).claimContact(c.id, iso(), maxConcurrent)),
      );
      const won = claims.filter((x) => x !== null);
      expect(won).toHaveLength(maxConcurrent);
      expect(new Set(won.map((x) => x!.id)).size).toBe(maxConcurrent);
      expect((await ctx.store.countContacts(c.id)).calling).toBe(maxConcurrent);

      // Free the slots and claim again concurrently: every contact is claimed exactly once.
      const seen = new Set(won.map((x) => x!.id));
      for (let round = 0; round < 10 && seen.size < 20; round++) {
        for (const id of [...seen]) await ctx.store.updateContact(id, { status: 'completed' });
        const more = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? other : ctx.store).claimContact(c.id, iso(), maxConcurrent)));
        const got = more.filter((x) => x !== null).map((x) => x!.id);
        expect(got.length).toBeLessThanOrEqual(maxConcurrent);
        for (const id of got) {
          expect(seen.has(id)).toBe(false);
          seen.add(id);
        }
        expect((await ctx.store.countContacts(c.id)).calling).toBe(got.length);
      }
      expect(seen.size).toBe(20);
    });
  });
}
