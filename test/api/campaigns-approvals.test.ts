import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { mintKey, REVIEWER_SCOPES, seedCampaign, AGENT_SCOPES } from '../campaigns/api-fixtures.js';

let t: TestApp;
let reviewer: string;
beforeAll(async () => {
  t = await createTestApp();
  reviewer = await mintKey(t, 'ops-team', REVIEWER_SCOPES);
});
afterAll(async () => {
  await t.close();
});

const status = async (id: string) => (await t.ctx.store.getCampaign(id))!.status;

describe('start / pause / stop need a human approval', () => {
  it('answers 202 awaiting_approval and changes nothing else', async () => {
    const { campaignId, agentKey } = await seedCampaign(t);
    const res = await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, agentKey);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ actionId: expect.stringMatching(/^act_/), status: 'awaiting_approval' });
    expect(await status(campaignId)).toBe('draft');
    const counts = await t.ctx.store.countContacts(campaignId);
    expect(counts).toMatchObject({ pending: 3, calling: 0 });
    const action = await t.api('GET', `/v1/actions/${res.body.actionId}`, undefined, agentKey);
    expect(action.status).toBe(200);
    expect(action.body).toMatchObject({ id: res.body.actionId, campaignId, action: 'start', status: 'awaiting_approval', requestedBy: 'acme', decidedBy: null, decidedAt: null });
  });

  it('needs campaigns:execute', async () => {
    const { campaignId } = await seedCampaign(t);
    const writer = await mintKey(t, 'acme', ['campaigns:read', 'campaigns:write']);
    expect((await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, writer)).status).toBe(403);
  });

  it('refuses a request that cannot apply (pause a draft) with 409', async () => {
    const { campaignId, agentKey } = await seedCampaign(t);
    const res = await t.api('POST', `/v1/campaigns/${campaignId}/pause`, undefined, agentKey);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/cannot pause a campaign that is draft/);
  });

  it('refuses self-approval for the same owner, even with an admin key', async () => {
    const { campaignId, agentKey } = await seedCampaign(t);
    const { body } = await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, agentKey);
    // Another key of the same owner, holding approvals:write.
    const sameOwnerReviewer = await mintKey(t, 'acme', ['approvals:write']);
    const self = await t.api('POST', `/v1/approvals/${body.actionId}/approve`, {}, sameOwnerReviewer);
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('self_approval_forbidden');

    // The admin owner requests; the admin key may not approve its own owner's request.
    const adminReq = await t.api('POST', `/v1/campaigns/${campaignId}/stop`);
    expect(adminReq.status).toBe(202);
    const adminSelf = await t.api('POST', `/v1/approvals/${adminReq.body.actionId}/approve`, {});
    expect(adminSelf.status).toBe(403);
    expect(adminSelf.body.error.code).toBe('self_approval_forbidden');
    expect(await status(campaignId)).toBe('draft');
  });

  it('an approved start runs the campaign and records who decided and when', async () => {
    const { campaignId, agentKey } = await seedCampaign(t);
    const { body } = await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, agentKey);
    const res = await t.api('POST', `/v1/approvals/${body.actionId}/approve`, { reason: 'checked the list' }, reviewer);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'executed', decidedBy: 'ops-team', reason: 'checked the list' });
    expect(res.body.decidedByKeyId).toMatch(/^key_/);
    expect(Date.parse(res.body.decidedAt)).not.toBeNaN();
    expect(await status(campaignId)).toBe('running');
    const seen = await t.api('GET', `/v1/actions/${body.actionId}`, undefined, agentKey);
    expect(seen.body).toMatchObject({ status: 'executed', decidedBy: 'ops-team', decidedAt: res.body.decidedAt });

    // Pause and stop take effect on approval too.
    const pause = await t.api('POST', `/v1/campaigns/${campaignId}/pause`, undefined, agentKey);
    expect(await status(campaignId)).toBe('running');
    await t.api('POST', `/v1/approvals/${pause.body.actionId}/approve`, {}, reviewer);
    expect(await status(campaignId)).toBe('paused');
    const stop = await t.api('POST', `/v1/campaigns/${campaignId}/stop`, undefined, agentKey);
    await t.api('POST', `/v1/approvals/${stop.body.actionId}/approve`, {}, reviewer);
    expect(await status(campaignId)).toBe('stopped');
  });

  it('approving twice is 409, and so is approving a rejected action', async () => {
    const { campaignId, agentKey } = await seedCampaign(t);
    const a = (await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, agentKey)).body.actionId;
    expect((await t.api('POST', `/v1/approvals/${a}/approve`, {}, reviewer)).status).toBe(200);
    const again = await t.api('POST', `/v1/approvals/${a}/approve`, {}, reviewer);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');

    const { campaignId: c2, agentKey: k2 } = await seedCampaign(t);
    const b = (await t.api('POST', `/v1/campaigns/${c2}/start`, undefined, k2)).body.actionId;
    const rejected = await t.api('POST', `/v1/approvals/${b}/reject`, { reason: 'wrong list' }, reviewer);
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'rejected', reason: 'wrong list', decidedBy: 'ops-team' });
    expect((await t.api('POST', `/v1/approvals/${b}/approve`, {}, reviewer)).status).toBe(409);
    expect(await status(c2)).toBe('draft');
  });

  it('an approved action that no longer applies ends failed, with the decision kept', async () => {
    const { campaignId, agentKey } = await seedCampaign(t);
    const a = (await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, agentKey)).body.actionId;
    const b = (await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, agentKey)).body.actionId;
    expect((await t.api('POST', `/v1/approvals/${a}/approve`, {}, reviewer)).body.status).toBe('executed');
    const second = await t.api('POST', `/v1/approvals/${b}/approve`, {}, reviewer);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: 'failed', decidedBy: 'ops-team' });
    expect(await status(campaignId)).toBe('running');
  });

  it('two reviewers racing: exactly one decision wins', async () => {
    const { campaignId, agentKey } = await seedCampaign(t);
    const a = (await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, agentKey)).body.actionId;
    const other = await mintKey(t, 'compliance', REVIEWER_SCOPES);
    const results = await Promise.all([
      t.api('POST', `/v1/approvals/${a}/approve`, {}, reviewer),
      t.api('POST', `/v1/approvals/${a}/reject`, {}, other),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
  });

  it('lists pending actions for reviewers with the campaign summary, flagging their own', async () => {
    const { campaignId, agentKey, agentId } = await seedCampaign(t, {}, 4);
    const a = (await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, agentKey)).body.actionId;
    const list = await t.api('GET', '/v1/approvals?limit=100', undefined, reviewer);
    expect(list.status).toBe(200);
    const item = list.body.items.find((i: { id: string }) => i.id === a);
    expect(item).toMatchObject({
      action: 'start',
      status: 'awaiting_approval',
      requestedBy: 'acme',
      canDecide: true,
      campaign: {
        id: campaignId,
        name: 'Spring renewals',
        agentId,
        agentName: 'Renewals agent',
        contacts: 4,
        schedule: { timezone: 'America/New_York', callingHours: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] } },
      },
    });
    for (const i of list.body.items) expect(i.status).toBe('awaiting_approval');
    const acmeReviewer = await mintKey(t, 'acme', REVIEWER_SCOPES);
    const own = (await t.api('GET', '/v1/approvals?limit=100', undefined, acmeReviewer)).body.items.find((i: { id: string }) => i.id === a);
    expect(own.canDecide).toBe(false);
    // Agent keys (no approvals:write) cannot see the queue.
    expect((await t.api('GET', '/v1/approvals', undefined, agentKey)).status).toBe(403);
    expect((await t.api('POST', `/v1/approvals/${a}/approve`, {}, agentKey)).status).toBe(403);
  });

  it("hides actions from other owners' campaign keys", async () => {
    const { campaignId, agentKey } = await seedCampaign(t);
    const a = (await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, agentKey)).body.actionId;
    const globex = await mintKey(t, 'globex', AGENT_SCOPES);
    expect((await t.api('GET', `/v1/actions/${a}`, undefined, globex)).status).toBe(404);
    expect((await t.api('GET', `/v1/actions/${a}`, undefined, reviewer)).status).toBe(200);
    const nothing = await mintKey(t, 'acme', ['calls:read']);
    expect((await t.api('GET', `/v1/actions/${a}`, undefined, nothing)).status).toBe(403);
  });
});
