/**
 * The console's admin pages in real Chromium (see console-browser.ts for the person-like
 * check): the sign-in page; a campaign's contacts uploaded from a CSV parsed in the browser,
 * its results table with the extraction columns, a start request that appears on the approvals
 * page and is approved there by a second owner's key; phone numbers; API keys created with
 * scopes and revoked. A key sees only the sections its scopes allow.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { mintKey, REVIEWER_SCOPES, seedCampaign } from '../campaigns/api-fixtures.js';
import { ConsoleDriver, launchBrowser, poll } from './console-browser.js';

let t: TestApp;
let browser: BrowserContext;
let ui: ConsoleDriver;
let workDir: string;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'voxgate-console-admin-'));
  t = await createTestApp();
  browser = await launchBrowser(path.join(workDir, 'profile'));
  ui = new ConsoleDriver(browser, t.baseUrl);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('console admin pages', () => {
  beforeEach(() => {
    ui.errors.length = 0;
  });

  it('shows the sign-in page and refuses an unknown key in words', async () => {
    const page = ui.watch(await browser.newPage());
    await page.goto(`${t.baseUrl}/console`);
    await ui.lookAt(page, 'signin', ['#console-signin', '#console-signin input[name=key]']);
    await page.locator('#console-signin input[name=key]').fill('vg_not_a_key');
    await page.keyboard.press('Enter');
    await poll(() => page.locator('#signin-error').textContent()).toMatch(/not recognised/);
    await page.close();
  });

  it('says at once what an agent created here is missing (no provider credentials on this gateway)', async () => {
    const page = await ui.open(t.adminKey, '#/agents/new');
    const form = page.locator('#agent-form');
    await form.locator('input[name=name]').fill('Unconfigured');
    await form.locator('textarea[name=systemPrompt]').fill('Help.');
    await form.getByRole('button', { name: 'Create agent' }).click();
    const warnings = page.locator('#agent-form .form-warnings');
    await poll(() => warnings.textContent()).toMatch(/DEEPGRAM_API_KEY/);
    expect(await warnings.textContent()).toMatch(/ELEVENLABS_API_KEY/);
    expect(await warnings.textContent()).toMatch(/OPENAI_API_KEY/);
    await ui.lookAt(page, 'agent-warnings', ['#agent-form .form-warnings']);
    await page.close();
  });

  it('uploads contacts from a CSV, requests a start, and a second key approves it', { timeout: 60_000 }, async () => {
    const { campaignId, agentKey } = await seedCampaign(t, { extractionSchema: { type: 'object', properties: { interested: { type: 'boolean' }, callbackDay: { type: 'string' } } } }, 0);
    const page = await ui.open(agentKey, `#/campaigns/${campaignId}`);
    // This key may run campaigns but not read calls or approve: neither is offered.
    const sections = await page.locator('#nav a').allTextContents();
    expect(sections).toEqual(['Campaigns']);
    const csv = path.join(workDir, 'contacts.csv');
    writeFileSync(csv, 'phone,name,externalId,plan\n+14155552001,"Ada, Lovelace",crm-1,gold\n+14155552002,Grace Hopper,crm-2,silver\nnot-a-phone,Bad Row,crm-3,\n');
    await page.locator('#contacts-file').setInputFiles(csv);
    await page.getByRole('button', { name: 'Upload contacts' }).click();
    await poll(() => page.locator('.upload-out').textContent()).toMatch(/2 added, 0 updated, 1 refused/);
    await poll(() => page.locator('#campaign-results tbody tr').count()).toBe(2);
    expect(await page.locator('#campaign-results thead').textContent()).toMatch(/interested[\s\S]*callbackDay/);
    expect(await page.locator('#campaign-results tbody').innerText()).toContain('Ada, Lovelace');
    await page.locator('button[data-campaign-action=start]').click();
    await poll(() => page.locator('#campaign-requests').getAttribute('data-action-id')).toMatch(/^act_/);
    const actionId = (await page.locator('#campaign-requests').getAttribute('data-action-id'))!;
    await ui.lookAt(page, 'campaign', ['#campaign-results', 'button[data-campaign-action=start]']);
    await page.evaluate(() => (location.hash = '#/campaigns'));
    await page.locator(`#campaigns tr[data-campaign-id="${campaignId}"]`).waitFor();
    await ui.lookAt(page, 'campaigns', ['#campaigns']);
    await page.close();

    const reviewer = await mintKey(t, 'ops-team', REVIEWER_SCOPES);
    const review = await ui.open(reviewer, '#/approvals');
    const item = review.locator(`#approvals [data-action-id="${actionId}"]`);
    await item.waitFor();
    expect(await item.innerText()).toContain('Spring renewals');
    await item.getByLabel('Reason (optional)').fill('List checked');
    await ui.lookAt(review, 'approvals', ['#approvals', `[data-action-id="${actionId}"] button[data-decision=approve]`]);
    await item.locator('button[data-decision=approve]').click();
    await poll(() => review.locator('#approvals-status').textContent()).toBe('Approved: Spring renewals is now running.');
    expect((await t.ctx.store.getCampaign(campaignId))!.status).toBe('running');
    expect(await t.ctx.store.getAction(actionId)).toMatchObject({ status: 'executed', decidedBy: 'ops-team', reason: 'List checked' });
    await review.close();
  });

  it('lists numbers and keys, creates a key with scopes and revokes it', { timeout: 30_000 }, async () => {
    const page = await ui.open(t.adminKey, '#/numbers');
    await page.locator('#numbers').waitFor();
    await ui.lookAt(page, 'numbers', ['#numbers', '#number-form']);
    await page.evaluate(() => (location.hash = '#/keys'));
    await page.locator('#keys').waitFor();
    await page.locator('#key-form input[name=name]').fill('Reporting');
    await page.locator('#key-form input[name=owner]').fill('reports');
    await page.locator('#key-form input[value="calls:read"]').check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = await poll(() => page.locator('#new-key-secret').textContent()).toMatch(/^vg_/);
    void secret;
    const row = page.locator('#keys tr', { hasText: 'Reporting' });
    await row.waitFor();
    expect(await row.innerText()).toContain('calls:read');
    await ui.lookAt(page, 'keys', ['#keys', '#key-form']);
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Revoke' }).click();
    await poll(() => row.innerText()).toMatch(/Revoked/);
    await page.close();

    // A key revoked while its console is open: the next request sends it back to sign-in.
    const doomed = await mintKey(t, 'reports', ['calls:read']);
    const other = await ui.open(doomed, '#/calls');
    await other.locator('#calls').waitFor();
    const id = (await t.api('GET', '/v1/keys?limit=100')).body.items.find((k: { owner: string; revokedAt: string | null; name: string }) => k.owner === 'reports' && !k.revokedAt && k.name === 'reports test key').id;
    expect((await t.api('DELETE', `/v1/keys/${id}`)).status).toBe(204);
    await poll(() => other.locator('#signin-error').textContent(), 10_000).toMatch(/refused/);
    expect(await other.locator('#console-signin').isVisible()).toBe(true);
    await other.close();
  });
});
