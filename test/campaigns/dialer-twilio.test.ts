/**
 * The dialer end to end: the real outbound path (`placeOutboundCall`) against the fake Twilio
 * REST, outcomes arriving as signed status callbacks at `/twilio/status`, a manual clock.
 * Nothing is dialed before a human approves; concurrency, retries and completion follow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTwilioRest, type FakeCall } from '../fakes/twilio-rest.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { createDialer } from '../../src/campaigns/index.js';
import { mintKey, REVIEWER_SCOPES, seedCampaign } from './api-fixtures.js';
import { ManualClock } from './campaign-fixtures.js';

let twilio: FakeTwilioRest;
let t: TestApp;
const clock = new ManualClock(Date.now());

beforeAll(async () => {
  twilio = await new FakeTwilioRest().start();
  t = await createTestApp({ env: twilio.env() });
});
afterAll(async () => {
  await t?.close();
  await twilio?.close();
});

const created = (): FakeCall[] => [...twilio.calls.values()];

async function end(call: FakeCall, status: 'completed' | 'busy' | 'no-answer' | 'failed'): Promise<void> {
  if (status === 'completed') await twilio.answer(call.sid);
  await twilio.complete(call.sid, status);
  await twilio.idle();
}

describe('dialer over the fake Twilio', () => {
  it('dials nothing before approval, then keeps the cap, retries on schedule and completes', async () => {
    const { campaignId, agentKey } = await seedCampaign(
      t,
      { schedule: { timezone: 'UTC' }, maxConcurrentCalls: 2, maxAttempts: 2, retryDelayMinutes: 30 },
      4,
    );
    // Give each contact a variable the agent's prompt can use.
    const contacts = (await t.api('GET', `/v1/campaigns/${campaignId}/contacts?limit=100`, undefined, agentKey)).body.items;
    await t.api(
      'POST',
      `/v1/campaigns/${campaignId}/contacts`,
      { contacts: contacts.map((c: { externalId: string; phone: string }) => ({ externalId: c.externalId, phone: c.phone, variables: { crm: c.externalId } })) },
      agentKey,
    );
    const dialer = createDialer(t.ctx, { now: clock.now });

    const start = await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, agentKey);
    await dialer.tick();
    expect(created()).toHaveLength(0);

    const reviewer = await mintKey(t, 'ops-team', REVIEWER_SCOPES);
    expect((await t.api('POST', `/v1/approvals/${start.body.actionId}/approve`, {}, reviewer)).status).toBe(200);
    await dialer.tick();
    expect(created()).toHaveLength(2);

    // The call records carry the campaign, the contact and its variables.
    const calls = (await t.ctx.store.listCalls({ campaignId }, { limit: 100 })).items;
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.contactId).toMatch(/^cnt_/);
      expect(call.variables.crm).toMatch(/^crm-/);
      expect(call.direction).toBe('outbound');
    }

    const [first, second] = created();
    await end(first!, 'completed');
    await end(second!, 'busy');
    await dialer.tick();
    // Two slots freed: the last two contacts are dialed; the busy one waits for its retry.
    expect(created()).toHaveLength(4);
    let counts = await t.ctx.store.countContacts(campaignId);
    expect(counts).toMatchObject({ completed: 1, retry: 1, calling: 2 });
    await dialer.tick();
    expect(created()).toHaveLength(4);

    for (const call of created().slice(2)) await end(call, 'completed');
    clock.advanceMinutes(29);
    await dialer.tick();
    expect(created()).toHaveLength(4);
    clock.advanceMinutes(1);
    await dialer.tick();
    expect(created()).toHaveLength(5);
    expect(created()[4]!.to).toBe(second!.to);

    await end(created()[4]!, 'no-answer');
    await dialer.tick();
    counts = await t.ctx.store.countContacts(campaignId);
    expect(counts).toMatchObject({ completed: 3, exhausted: 1, calling: 0, pending: 0, retry: 0 });
    await dialer.tick();
    expect((await t.api('GET', `/v1/campaigns/${campaignId}`, undefined, agentKey)).body.status).toBe('completed');

    const results = await t.api('GET', `/v1/campaigns/${campaignId}/results`, undefined, agentKey);
    expect(results.body.rows.map((r: { status: string }) => r.status).sort()).toEqual(['completed', 'completed', 'completed', 'exhausted']);
    await dialer.stop();
  });

  it('records a Twilio refusal as a failed attempt, not a crash', async () => {
    const { campaignId, agentKey } = await seedCampaign(t, { schedule: { timezone: 'UTC' }, maxAttempts: 1 }, 1);
    const contact = (await t.api('GET', `/v1/campaigns/${campaignId}/contacts`, undefined, agentKey)).body.items[0];
    twilio.failNumber(contact.phone, { status: 503, code: 20503, message: 'Service unavailable' });
    await t.ctx.store.setCampaignStatus(campaignId, 'running');
    const dialer = createDialer(t.ctx, { now: clock.now });
    await dialer.tick();
    const after = await t.ctx.store.getContact(contact.id);
    expect(after!.status).toBe('exhausted');
    expect(after!.lastOutcome).toMatch(/^placement_failed: provider_error/);
    await dialer.stop();
  });
});
