/**
 * Shared by the console's browser tests: Chromium (Debian's, driven by playwright-core), signing
 * in the way a new user does (`GET /` → `/console` → paste a key), and the person-like look at
 * a page: the named elements are visible at 1280 and 390 px, nothing scrolls sideways, the
 * browser logged no error, and a screenshot lands in test-artifacts/console/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ARTIFACTS = path.resolve('test-artifacts', 'console');

export const poll = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout, interval: 50 });

export async function launchBrowser(profileDir: string, extraArgs: string[] = []): Promise<BrowserContext> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

export class ConsoleDriver {
  /** Errors any page logged (console.error or an uncaught exception); cleared per test. */
  readonly errors: string[] = [];

  constructor(
    private readonly browser: BrowserContext,
    private readonly baseUrl: string,
  ) {}

  /** Watches a page for errors. */
  watch(page: Page): Page {
    page.on('pageerror', (e) => this.errors.push(`${page.url()}: ${e.message}`));
    page.on('console', (m) => {
      // Chromium logs every 4xx answer as "Failed to load resource"; the console asks on purpose
      // (a 422 it shows at the field, /v1/voices that this gateway may not have) and says so in
      // words, which the tests check. Anything else logged as an error fails the page.
      if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
        this.errors.push(`${page.url()}: ${m.text()}`);
      }
    });
    return page;
  }

  /** A new tab signed in with `key`, at `hash`. */
  async open(key: string, hash = '#/calls'): Promise<Page> {
    const page = this.watch(await this.browser.newPage());
    // A new user's first request: the root sends them to the console.
    await page.goto(`${this.baseUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/console');
    await page.locator('#console-signin input[name=key]').fill(key);
    await page.locator('#console-signin').getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#nav a').first().waitFor();
    await page.evaluate((h) => (location.hash = h), hash);
    return page;
  }

  /** The person-like check at 1280 and 390 px, with a screenshot of each. */
  async lookAt(page: Page, name: string, visible: string[]): Promise<void> {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      // Two frames for the layout (and the waveform's ResizeObserver) to settle.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      for (const sel of visible) expect(await page.locator(sel).first().isVisible(), `${name} @${width}: ${sel} visible`).toBe(true);
      // What a person would notice at once: a placeholder leaking into the page.
      expect(await page.locator('body').innerText(), `${name}: leaked placeholder`).not.toMatch(/\bnull\b|\bundefined\b|\[object Object\]|NaN/);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${name} @${width}: horizontal overflow`).toBeLessThanOrEqual(0);
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(this.errors).toEqual([]);
  }
}
