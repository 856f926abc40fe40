/**
 * The reviewer page in real Chromium: an agent key of owner `acme` asks to start a campaign; a
 * person of owner `ops-team` opens /approvals, pastes their key, sees the campaign's details and
 * approves it; the campaign is running. The page also shows the self-approval refusal to a
 * reviewer of the requesting owner, and a 409 when someone else decided first.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { mintKey, REVIEWER_SCOPES, seedCampaign } from '../campaigns/api-fixtures.js';

const ARTIFACTS = path.resolve('test-artifacts');

let t: TestApp;
let browser: BrowserContext;
let profileDir: string;

beforeAll(async () => {
  t = await createTestApp();
  profileDir = mkdtempSync(path.join(tmpdir(), 'voxgate-chromium-'));
  // A fresh profile per run: nothing cached or remembered between runs.
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    viewport: { width: 1100, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

async function openWithKey(key: string): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${t.baseUrl}/approvals`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Use key' }).click();
  await page.getByRole('heading', { name: /Pending actions/ }).waitFor();
  expect(errors).toEqual([]);
  return page;
}

describe('approvals page', () => {
  it('lets another owner approve a start, and the campaign runs', async () => {
    const { campaignId, agentKey } = await seedCampaign(t, {}, 12);
    const start = await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, agentKey);
    expect(start.status).toBe(202);
    const reviewerKey = await mintKey(t, 'ops-team', REVIEWER_SCOPES);

    const page = await openWithKey(reviewerKey);
    await expect.poll(() => page.locator('#who').textContent()).toBe('Signed in as ops-team');
    const item = page.locator(`li[data-action-id="${start.body.actionId}"]`);
    await item.waitFor();
    await expect.poll(() => item.locator('h3').textContent()).toBe('Start “Spring renewals”');
    const facts = await item.locator('dl').innerText();
    expect(facts).toContain('Renewals agent');
    expect(facts).toContain('12');
    expect(facts).toContain('09:00–17:00, Mon–Fri (America/New_York)');
    expect(facts).toContain('acme');

    // Keyboard: the reason field and the buttons are reachable and labelled.
    await item.getByLabel('Reason (optional)').fill('List checked with sales');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('aria-label'));
    expect(focused).toBe('Approve: Start Spring renewals');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'approvals.png'), fullPage: true });

    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#status').textContent()).toBe('Approved: Spring renewals is now running.');
    await expect.poll(() => item.count()).toBe(0);
    expect((await t.ctx.store.getCampaign(campaignId))!.status).toBe('running');
    const action = await t.ctx.store.getAction(start.body.actionId);
    expect(action).toMatchObject({ status: 'executed', decidedBy: 'ops-team', reason: 'List checked with sales' });
    await page.screenshot({ path: path.join(ARTIFACTS, 'approvals-after.png'), fullPage: true });
    await page.close();
  });

  it("shows the requesting owner's reviewer that it may not decide, and a clear 409 when beaten to it", async () => {
    const { campaignId, agentKey } = await seedCampaign(t, {}, 2);
    const start = await t.api('POST', `/v1/campaigns/${campaignId}/start`, undefined, agentKey);
    const acmeReviewer = await mintKey(t, 'acme', REVIEWER_SCOPES);
    const own = await openWithKey(acmeReviewer);
    const ownItem = own.locator(`li[data-action-id="${start.body.actionId}"]`);
    await ownItem.waitFor();
    expect(await ownItem.getByRole('button', { name: /^Approve/ }).isDisabled()).toBe(true);
    expect(await ownItem.locator('.self-note').innerText()).toMatch(/your own owner \(acme\)/);
    await own.close();

    const reviewerKey = await mintKey(t, 'ops-team', REVIEWER_SCOPES);
    const page = await openWithKey(reviewerKey);
    const item = page.locator(`li[data-action-id="${start.body.actionId}"]`);
    await item.waitFor();
    // Someone else rejects it while the page is open.
    const other = await mintKey(t, 'compliance', REVIEWER_SCOPES);
    expect((await t.api('POST', `/v1/approvals/${start.body.actionId}/reject`, { reason: 'no' }, other)).status).toBe(200);
    await item.getByRole('button', { name: /^Approve/ }).click();
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/already decided/);
    expect((await t.ctx.store.getCampaign(campaignId))!.status).toBe('draft');
    await page.close();
  });

  it('refuses a key without approvals:write with a clear message', async () => {
    const { agentKey } = await seedCampaign(t, {}, 0);
    const page = await browser.newPage();
    await page.goto(`${t.baseUrl}/approvals`);
    await page.getByLabel('API key').fill(agentKey);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#key-error').textContent()).toMatch(/lacks the approvals:write scope/);
    await page.close();
  });
});
