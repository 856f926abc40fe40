/** Keys, agents and numbers for the campaign API tests, on a running test gateway. */
import { expect } from 'vitest';
import type { TestApp } from '../helpers/test-app.js';
import type { NewAgent, Scope } from '../../src/store/types.js';
import { makeAgent, makeNumber } from '../store/fixtures.js';

/** An agent of `owner` asks for things; a person of another owner decides. */
export const AGENT_SCOPES: Scope[] = ['campaigns:read', 'campaigns:write', 'campaigns:execute'];
export const REVIEWER_SCOPES: Scope[] = ['approvals:write'];

export async function mintKey(t: TestApp, owner: string, scopes: Scope[]): Promise<string> {
  const res = await t.api('POST', '/v1/keys', { owner, scopes, name: `${owner} test key` });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.key as string;
}

export async function seedAgent(t: TestApp, owner: string, over: Partial<NewAgent> = {}): Promise<string> {
  const agent = await t.ctx.store.createAgent(makeAgent(owner, { voiceMode: 'web_and_phone', name: 'Renewals agent', ...over }));
  return agent.id;
}

export async function seedNumber(t: TestApp, owner: string, agentId: string | null = null): Promise<string> {
  const num = makeNumber(owner, { agentId });
  await t.ctx.store.createNumber(num);
  return num.id;
}

export interface CampaignSeed {
  agentKey: string;
  agentId: string;
  numberId: string;
  campaignId: string;
}

/** Owner `acme`'s agent key creates a campaign with `contacts` contacts. */
export async function seedCampaign(t: TestApp, body: Record<string, unknown> = {}, contacts = 3): Promise<CampaignSeed> {
  const agentKey = await mintKey(t, 'acme', AGENT_SCOPES);
  const agentId = await seedAgent(t, 'acme');
  const numberId = await seedNumber(t, 'acme', agentId);
  const created = await t.api(
    'POST',
    '/v1/campaigns',
    {
      name: 'Spring renewals',
      agentId,
      fromNumberId: numberId,
      purpose: 'Remind customers their plan renews next month',
      schedule: { timezone: 'America/New_York', callingHours: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] } },
      ...body,
    },
    agentKey,
  );
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  if (contacts > 0) {
    const rows = Array.from({ length: contacts }, (_, i) => ({ externalId: `crm-${i}`, phone: `+1415555${String(2000 + i)}`, name: `Customer ${i}` }));
    const up = await t.api('POST', `/v1/campaigns/${created.body.id}/contacts`, { contacts: rows }, agentKey);
    expect(up.status, JSON.stringify(up.body)).toBe(200);
  }
  return { agentKey, agentId, numberId, campaignId: created.body.id as string };
}
