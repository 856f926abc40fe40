import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { mintKey, seedCampaign, AGENT_SCOPES } from '../campaigns/api-fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const row = (i: number, over: Record<string, unknown> = {}) => ({ externalId: `e${i}`, phone: `+1202555${String(1000 + (i % 9000))}`, ...over });

describe('POST /v1/campaigns/:id/contacts', () => {
  it('creates contacts and counts invalid phones in failed without aborting the batch', async () => {
    const { campaignId, agentKey } = await seedCampaign(t, {}, 0);
    const res = await t.api(
      'POST',
      `/v1/campaigns/${campaignId}/contacts`,
      {
        contacts: [
          row(1, { name: 'Ada', variables: { plan: 'gold' } }),
          row(2, { phone: '555-1234' }),
          row(3),
          { externalId: 'e4' },
          { phone: '+0123' },
          { phone: '+442071838750' },
        ],
      },
      agentKey,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created: 3, updated: 0, failed: 3 });
    expect(res.body.errors.map((e: { index: number }) => e.index)).toEqual([1, 3, 4]);
    for (const e of res.body.errors) expect(e.code).toBe('invalid_phone');
    expect(res.body.errors[0].message).toMatch(/555-1234.*E\.164/);
    const list = await t.api('GET', `/v1/campaigns/${campaignId}/contacts?limit=100`, undefined, agentKey);
    expect(list.body.items).toHaveLength(3);
    const ada = list.body.items.find((c: { externalId: string }) => c.externalId === 'e1');
    expect(ada).toMatchObject({ phone: '+12025551001', name: 'Ada', variables: { plan: 'gold' }, status: 'pending', attempts: 0, result: null });
  });

  it('upserts by externalId: a second upload updates instead of duplicating', async () => {
    const { campaignId, agentKey } = await seedCampaign(t, {}, 0);
    await t.api('POST', `/v1/campaigns/${campaignId}/contacts`, { contacts: [row(1, { name: 'Old' }), row(2)] }, agentKey);
    const res = await t.api(
      'POST',
      `/v1/campaigns/${campaignId}/contacts`,
      { contacts: [row(1, { name: 'New', phone: '+12025559999' }), row(3), { phone: '+12025550000' }] },
      agentKey,
    );
    expect(res.body).toMatchObject({ created: 2, updated: 1, failed: 0, errors: [] });
    const list = await t.api('GET', `/v1/campaigns/${campaignId}/contacts?limit=100`, undefined, agentKey);
    expect(list.body.items).toHaveLength(4);
    const updated = list.body.items.find((c: { externalId: string }) => c.externalId === 'e1');
    expect(updated).toMatchObject({ name: 'New', phone: '+12025559999' });
  });

  it('refuses a batch naming one externalId twice with 422 and writes nothing', async () => {
    const { campaignId, agentKey } = await seedCampaign(t, {}, 0);
    const res = await t.api('POST', `/v1/campaigns/${campaignId}/contacts`, { contacts: [row(1), row(2), row(1, { phone: '+12025557777' })] }, agentKey);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toMatch(/duplicate externalId.*"e1".*row 0/);
    const get = await t.api('GET', `/v1/campaigns/${campaignId}`, undefined, agentKey);
    expect(get.body.contacts.total).toBe(0);
  });

  it('refuses 5001 contacts with 413 too_many_contacts, and takes 5000', async () => {
    const { campaignId, agentKey } = await seedCampaign(t, {}, 0);
    const many = Array.from({ length: 5001 }, (_, i) => ({ externalId: `m${i}`, phone: `+1303${String(5550000 + i)}` }));
    const over = await t.api('POST', `/v1/campaigns/${campaignId}/contacts`, { contacts: many }, agentKey);
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe('too_many_contacts');
    expect((await t.api('GET', `/v1/campaigns/${campaignId}`, undefined, agentKey)).body.contacts.total).toBe(0);
    const ok = await t.api('POST', `/v1/campaigns/${campaignId}/contacts`, { contacts: many.slice(0, 5000) }, agentKey);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ created: 5000, failed: 0 });
  });

  it('filters the contact list by status and pages it', async () => {
    const { campaignId, agentKey } = await seedCampaign(t, {}, 5);
    const contacts = (await t.api('GET', `/v1/campaigns/${campaignId}/contacts?limit=100`, undefined, agentKey)).body.items;
    await t.ctx.store.updateContact(contacts[0].id, { status: 'completed' });
    const done = await t.api('GET', `/v1/campaigns/${campaignId}/contacts?status=completed`, undefined, agentKey);
    expect(done.body.items.map((c: { id: string }) => c.id)).toEqual([contacts[0].id]);
    const first = await t.api('GET', `/v1/campaigns/${campaignId}/contacts?limit=2`, undefined, agentKey);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next_cursor).toBeTruthy();
    const second = await t.api('GET', `/v1/campaigns/${campaignId}/contacts?limit=2&cursor=${first.body.next_cursor}`, undefined, agentKey);
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    expect((await t.api('GET', `/v1/campaigns/${campaignId}/contacts?status=bogus`, undefined, agentKey)).status).toBe(422);
  });

  it("does not let another owner add contacts (404)", async () => {
    const { campaignId } = await seedCampaign(t, {}, 0);
    const other = await mintKey(t, 'globex', AGENT_SCOPES);
    const res = await t.api('POST', `/v1/campaigns/${campaignId}/contacts`, { contacts: [row(1)] }, other);
    expect(res.status).toBe(404);
  });
});

describe('GET /v1/campaigns/:id/results', () => {
  it('returns the extractionSchema properties as columns and one row per contact', async () => {
    const schema = {
      type: 'object',
      properties: { interested: { type: 'boolean' }, callbackDate: { type: ['string', 'null'] } },
      required: ['interested', 'callbackDate'],
    };
    const { campaignId, agentKey } = await seedCampaign(t, { extractionSchema: schema }, 2);
    const contacts = (await t.api('GET', `/v1/campaigns/${campaignId}/contacts?limit=100`, undefined, agentKey)).body.items;
    const [second, first] = contacts; // newest first
    await t.ctx.store.updateContact(first.id, { status: 'completed', attempts: 1, result: { interested: true, callbackDate: '2026-04-01' } });
    await t.ctx.store.updateContact(second.id, { status: 'exhausted', attempts: 3 });
    const res = await t.api('GET', `/v1/campaigns/${campaignId}/results`, undefined, agentKey);
    expect(res.status).toBe(200);
    expect(res.body.columns).toEqual(['interested', 'callbackDate']);
    expect(res.body.rows).toEqual([
      expect.objectContaining({ contactId: first.id, phone: first.phone, name: first.name, status: 'completed', attempts: 1, result: { interested: true, callbackDate: '2026-04-01' } }),
      expect.objectContaining({ contactId: second.id, status: 'exhausted', attempts: 3, result: null }),
    ]);
  });
});
