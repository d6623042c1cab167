import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

/** Debian's package; CI installs it. Browsers are never downloaded. */
const CHROMIUM = '/usr/bin/chromium';
const WAIT_MS = 20_000;

describe.skipIf(!existsSync(CHROMIUM))(`console sign-in in headless Chromium (skipped when ${CHROMIUM} is missing)`, () => {
  let dir: string;
  let store: TestStore;
  let service: RunningService;
  let browser: Browser;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vouch-console-browser-'));
    store = await createTestStore();
    service = await startService({ config: loadConfig({ env: { VOUCH_PORT: '0', VOUCH_DATA_DIR: path.join(dir, 'data') } }), store, autoRun: false, logger: silentLogger });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await store?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(person: string): Promise<{ context: BrowserContext; status: number | null }> {
    const context = await browser.newContext({ viewport: { width: 420, height: 900 } });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    await page.goto(`${service.url}/review/login?return_to=/review/alerts/al_demo`);
    await page.getByRole('heading', { name: 'Sandbox sign-in' }).waitFor({ timeout: WAIT_MS });
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => new URL(candidate.url()).pathname === '/review/callback', { timeout: WAIT_MS }),
      page.getByRole('button', { name: `Sign in as ${person}` }).click(),
    ]);
    return { context, status: response.status() };
  }

  it('signs the demo reviewer in and back to the page she asked for, with an HttpOnly, SameSite=Lax session cookie', async () => {
    const { context, status } = await signIn('Dana Reviewer');
    expect(status).toBe(302);
    const page = context.pages()[0]!;
    await page.waitForURL(`${service.url}/review/alerts/al_demo`, { timeout: WAIT_MS });
    const session = (await context.cookies(service.url)).find((cookie) => cookie.name === 'vouch_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false, path: '/' });
    // The page's own requests carry the session: who am I?
    await page.goto(`${service.url}/api/me`);
    expect(JSON.parse((await page.locator('body').textContent()) ?? '')).toMatchObject({ actor: 'dana@example.com', reviewer: true });
    await context.close();
  });

  it('labels every cell of the API tokens page on a 420 px wide screen, as the queue labels its cards', async () => {
    const { context } = await signIn('Erin Admin');
    const page = context.pages()[0]!;
    await page.waitForURL(`${service.url}/review/alerts/al_demo`, { timeout: WAIT_MS });
    await page.goto(`${service.url}/review/tokens`);
    await page.getByLabel('Name').fill('phone-check');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.locator('#new-token').waitFor({ timeout: WAIT_MS });
    await page.goto(`${service.url}/review/tokens`);
    // The header row is hidden at this width: each cell shows its heading before its value.
    const headings = await page.locator('table.reviews-table thead th').allTextContents();
    expect(headings).toEqual(['Recorded as', 'Created by', 'Created', 'Last used', 'Revoked']);
    const shown = await page.locator('table.reviews-table tbody tr').first().locator('td').evaluateAll((cells) =>
      cells.map((cell) => (globalThis as unknown as { getComputedStyle(element: unknown, pseudo: string): { content: string } }).getComputedStyle(cell, '::before').content));
    expect(shown).toEqual(headings.map((heading) => JSON.stringify(heading)));
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(process.env.VOUCH_SCREENSHOT_DIR ?? path.join(dir, 'screenshots'), 'console-tokens-420.png'), fullPage: true });
    await context.close();
    expect(cspViolations).toEqual([]);
  });

  it('shows a person who may not review a page saying so, and no session', async () => {
    const { context, status } = await signIn('Mallory Outsider');
    expect(status).toBe(403);
    const page = context.pages()[0]!;
    await page.getByRole('heading', { name: 'Not a reviewer' }).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('main').textContent()).toContain('mallory@example.com');
    expect((await context.cookies(service.url)).some((cookie) => cookie.name === 'vouch_session')).toBe(false);
    await context.close();
    expect(cspViolations).toEqual([]);
  });
});
