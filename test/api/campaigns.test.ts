import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { AGENT_SCOPES, mintKey, seedAgent, seedCampaign, seedNumber } from '../campaigns/api-fixtures.js';

let t: TestApp;
let key: string;
let agentId: string;
let numberId: string;

beforeAll(async () => {
  t = await createTestApp();
  key = await mintKey(t, 'acme', AGENT_SCOPES);
  agentId = await seedAgent(t, 'acme');
  numberId = await seedNumber(t, 'acme', agentId);
});
afterAll(async () => {
  await t.close();
});

const base = () => ({ name: 'Renewals', agentId, fromNumberId: numberId });

describe('POST /v1/campaigns', () => {
  it('creates a draft with the documented defaults', async () => {
    const res = await t.api('POST', '/v1/campaigns', { ...base(), schedule: { timezone: 'Europe/Berlin' } }, key);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'Renewals',
      agentId,
      fromNumberId: numberId,
      status: 'draft',
      maxConcurrentCalls: 5,
      maxAttempts: 3,
      retryDelayMinutes: 60,
      extractionSchema: null,
      schedule: { timezone: 'Europe/Berlin' },
      contacts: { total: 0, pending: 0 },
    });
    expect(res.body.id).toMatch(/^cmp_/);
    expect(res.body.owner).toBeUndefined();
  });

  const bad: Array<[string, () => Record<string, unknown>, RegExp]> = [
    ['an unknown timezone', () => ({ ...base(), schedule: { timezone: 'Mars/Base' } }), /unknown timezone "Mars\/Base"/],
    [
      'calling hours that end before they start',
      () => ({ ...base(), schedule: { timezone: 'UTC', callingHours: { start: '17:00', end: '09:00', days: [1] } } }),
      /end \(09:00\) must be after start \(17:00\)/,
    ],
    [
      'calling hours that are not HH:MM',
      () => ({ ...base(), schedule: { timezone: 'UTC', callingHours: { start: '9am', end: '17:00', days: [1] } } }),
      /"9am" is not a 24-hour HH:MM time/,
    ],
    ['a day outside 1..7', () => ({ ...base(), schedule: { timezone: 'UTC', callingHours: { start: '09:00', end: '17:00', days: [0] } } }), /./],
    ['an endAt before startAt', () => ({ ...base(), schedule: { timezone: 'UTC', startAt: '2026-05-02T00:00:00Z', endAt: '2026-05-01T00:00:00Z' } }), /endAt must be after startAt/],
    ['an extractionSchema that is not an object schema', () => ({ ...base(), extractionSchema: { type: 'string' } }), /"type": "object"/],
    ['an extractionSchema Ajv cannot compile', () => ({ ...base(), extractionSchema: { type: 'object', properties: { a: { type: 'nonsense' } } } }), /not a valid JSON Schema/],
    ['maxConcurrentCalls of 0', () => ({ ...base(), maxConcurrentCalls: 0 }), /./],
  ];
  for (const [what, body, message] of bad) {
    it(`refuses ${what} with 422`, async () => {
      const res = await t.api('POST', '/v1/campaigns', body(), key);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message + JSON.stringify(res.body.error.details)).toMatch(message);
    });
  }

  it('refuses a fromNumberId owned by another owner with 422', async () => {
    const foreign = await seedNumber(t, 'globex');
    const res = await t.api('POST', '/v1/campaigns', { ...base(), fromNumberId: foreign }, key);
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/not one of your registered numbers/);
    expect(res.body.error.details[0].field).toBe('fromNumberId');
  });

  it('refuses an agent that cannot take phone calls with 422', async () => {
    const webOnly = await seedAgent(t, 'acme', { voiceMode: 'web' });
    const text = await seedAgent(t, 'acme', { architecture: 'text', voiceMode: 'off' });
    for (const id of [webOnly, text]) {
      const res = await t.api('POST', '/v1/campaigns', { ...base(), agentId: id }, key);
      expect(res.status).toBe(422);
      expect(res.body.error.message).toMatch(/cannot take phone calls/);
    }
  });

  it("refuses another owner's agent as if it did not exist", async () => {
    const foreign = await seedAgent(t, 'globex');
    const res = await t.api('POST', '/v1/campaigns', { ...base(), agentId: foreign }, key);
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/not found/);
  });
});

describe('campaign reads', () => {
  it("lists and gets only the owner's campaigns, with contact counts", async () => {
    const { campaignId } = await seedCampaign(t, {}, 4);
    const mine = await t.api('GET', `/v1/campaigns/${campaignId}`, undefined, key);
    // seedCampaign mints its own acme key: same owner, so this key reads it too.
    expect(mine.status).toBe(200);
    expect(mine.body.contacts).toMatchObject({ total: 4, pending: 4, calling: 0 });
    const other = await mintKey(t, 'globex', AGENT_SCOPES);
    expect((await t.api('GET', `/v1/campaigns/${campaignId}`, undefined, other)).status).toBe(404);
    const list = await t.api('GET', '/v1/campaigns?limit=100', undefined, other);
    expect(list.status).toBe(200);
    expect(list.body.items.map((c: { id: string }) => c.id)).not.toContain(campaignId);
    const acmeList = await t.api('GET', '/v1/campaigns?limit=100', undefined, key);
    expect(acmeList.body.items.map((c: { id: string }) => c.id)).toContain(campaignId);
  });

  it('needs campaigns:read', async () => {
    const weak = await mintKey(t, 'acme', ['calls:read']);
    expect((await t.api('GET', '/v1/campaigns', undefined, weak)).status).toBe(403);
  });
});
