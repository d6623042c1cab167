import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';
import { buildWebAssets } from '../helpers/web-build.js';

/** Debian's package; CI installs it. Browsers are never downloaded. */
const CHROMIUM = '/usr/bin/chromium';
const HOSTILE_LINE = 'cat /etc/shadow <script>alert(1)</script> <!channel>';
const REASON = 'Rotating the root password for ticket OPS-1234';
const WAIT_MS = 20_000;

/** Matches the whole text and nothing more (hasText alone matches any part). */
function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^$()|[\]{}\\/]/g, '\\$&')}$`);
}

// The test's tsconfig has no DOM types, so code evaluated in the page is passed as strings.
describe.skipIf(!existsSync(CHROMIUM))(`sandbox page in headless Chromium (skipped when ${CHROMIUM} is missing: apt-get install chromium)`, () => {
  let dir: string;
  let store: TestStore;
  let service: RunningService;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];

  beforeAll(async () => {
    buildWebAssets();
    dir = mkdtempSync(path.join(tmpdir(), 'vouch-sandbox-browser-'));
    store = await createTestStore();
    service = await startService({ config: loadConfig({ env: { VOUCH_PORT: '0', VOUCH_DATA_DIR: path.join(dir, 'data') } }), store, logger: silentLogger });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await store?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const card = (login: string): Locator => page.locator(`section.engineer[data-user="${login}"]`);
  /** The alerts table's row whose command cell reads exactly `command`. */
  const alertRow = (command: string, host: string): Locator =>
    page.locator('#alerts-body tr').filter({ hasText: host }).filter({ has: page.locator('td.command', { hasText: exactly(command) }) });
  const note = (row: Locator, kind: string): Locator => row.locator(`li.note[data-note="${kind}"]`);

  it('lets a person vouch for alice in the browser, and shows hostile commands as text', async () => {
    await page.goto(`${service.url}/sandbox`);
    await expect(page.title()).resolves.toBe('Vouch sandbox');
    await page.getByRole('heading', { name: 'Vouch sandbox' }).waitFor();

    // Mallory (no Slack account) "runs" a hostile command through the form.
    await page.locator('#run-login option[value="mallory"]').waitFor({ state: 'attached' });
    await page.getByLabel('Who runs it').selectOption('mallory');
    await page.getByLabel('Command line').fill(HOSTILE_LINE);
    await page.getByLabel('Host').fill('web-9');
    await page.getByRole('button', { name: 'Run it' }).click();
    await page.locator('#run-status', { hasText: 'Recorded' }).waitFor({ timeout: WAIT_MS });

    // Alice's question arrives in her DM; she says it was her.
    const question = card('alice').locator('article.message', { hasText: 'cat /etc/shadow' });
    const confirm = question.getByRole('button', { name: 'Yes, it was me' });
    await confirm.waitFor({ timeout: WAIT_MS });
    await expect(question.getByRole('button', { name: 'No, not me' }).isVisible()).resolves.toBe(true);

    // The table says what the engine does: alice's two demo commands of one session are one
    // question, each row says how far its attribution holds.
    const lead = alertRow('cat /etc/shadow', 'db-1');
    await note(lead, 'conversation').filter({ hasText: '2 commands on 1 host' }).waitFor({ timeout: WAIT_MS });
    await expect(note(lead, 'conversation').textContent()).resolves.toBe('2 commands on 1 host, asked as one question');
    await expect(note(lead, 'provenance').textContent()).resolves.toBe('Attribution: auditd (kernel record)');
    const code = (await lead.locator('.short-code').textContent()) ?? '';
    expect(code).toMatch(/^[A-Z0-9]{4}$/);
    await expect(note(alertRow('systemctl stop auditd', 'db-1'), 'conversation').textContent()).resolves.toBe(`Part of question ${code} (cat /etc/shadow on db-1)`);
    // A command of hers on another host, while that question is open, waits its turn and says so.
    await page.locator('#alerts-body tr[data-status="asked"]').filter({ has: page.locator('.short-code', { hasText: code }) }).waitFor({ timeout: WAIT_MS });
    await page.getByLabel('Who runs it').selectOption('alice');
    await page.getByLabel('Command line').fill('tcpdump -i eth0');
    await page.getByLabel('Host').fill('web-5');
    await page.getByRole('button', { name: 'Run it' }).click();
    await page.locator('#run-status', { hasText: 'on web-5' }).waitFor({ timeout: WAIT_MS });
    const waiting = note(alertRow('tcpdump -i eth0', 'web-5'), 'waiting');
    await waiting.waitFor({ timeout: WAIT_MS });
    await expect(waiting.textContent()).resolves.toBe(`Not asked yet: waiting behind alice's open question ${code} (cat /etc/shadow on db-1); Vouch asks one question at a time`);
    await confirm.click();

    // The modal: a too-short reason gets the service's field error, and the typed text survives.
    const modal = card('alice').getByRole('dialog', { name: 'Vouch for a command' });
    await modal.waitFor({ timeout: WAIT_MS });
    const reason = modal.getByLabel('Why did you run it?');
    await reason.fill('because');
    await modal.getByRole('button', { name: 'Continue' }).click();
    await modal.locator('.field-error', { hasText: 'at least' }).waitFor({ timeout: WAIT_MS });
    await expect(reason.inputValue()).resolves.toBe('because');
    await expect(reason.getAttribute('aria-invalid')).resolves.toBe('true');
    await reason.fill(REASON);
    // A poll or two in between must not lose the text or the focus.
    await page.waitForFunction(`document.activeElement !== null && document.activeElement.tagName === 'TEXTAREA'`);
    await page.waitForResponse((response) => response.url().endsWith('/sandbox/api/state'));
    await page.waitForResponse((response) => response.url().endsWith('/sandbox/api/state'));
    await expect(reason.inputValue()).resolves.toBe(REASON);
    await expect(page.evaluate('document.activeElement && document.activeElement.tagName')).resolves.toBe('TEXTAREA');
    await modal.getByRole('button', { name: 'Continue' }).click();
    await modal.waitFor({ state: 'detached', timeout: WAIT_MS });

    // Her phone shows the Duo push with what she is vouching for; she approves it.
    const phone = card('alice').getByRole('region', { name: "Alice Smith's phone" });
    const push = phone.locator('.push');
    await push.waitFor({ timeout: WAIT_MS });
    await expect(push.locator('dd', { hasText: 'cat /etc/shadow' }).count()).resolves.toBe(1);
    await push.getByRole('button', { name: 'Approve' }).click();
    await push.waitFor({ state: 'detached', timeout: WAIT_MS });

    // The alerts table shows it verified, and her DM says so.
    // (Matched by its command cell: the conversation's other row names this command in its notes.)
    const verifiedRow = page.locator('#alerts-body tr[data-status="verified"]', { hasText: 'alice' }).filter({ has: page.locator('td.command', { hasText: exactly('cat /etc/shadow') }) });
    await verifiedRow.waitFor({ timeout: WAIT_MS });
    await expect(verifiedRow.locator('td.command').textContent()).resolves.toBe('cat /etc/shadow');
    await expect(verifiedRow.locator('.status').textContent()).resolves.toBe('verified');
    await card('alice').locator('article.message', { hasText: 'Verified.' }).waitFor({ timeout: WAIT_MS });
    await expect(card('alice').locator('article.message', { hasText: 'Verified.' }).getByRole('button').count()).resolves.toBe(0);

    // The hostile command is literal text in the table and in #security; no script of its ran.
    const hostileRow = page.locator('#alerts-body tr', { hasText: 'web-9' });
    await hostileRow.waitFor({ timeout: WAIT_MS });
    await expect(hostileRow.locator('td.command').textContent()).resolves.toBe(HOSTILE_LINE);
    await expect(note(hostileRow, 'escalation').textContent()).resolves.toMatch(/^Escalated: No chat user for the owner/);
    await page.locator('#security-messages article.message', { hasText: '<script>alert(1)</script>' }).waitFor({ timeout: WAIT_MS });
    await expect(page.locator('#security-messages').textContent()).resolves.not.toContain('&lt;');
    await expect(page.evaluate(`document.querySelectorAll('script').length`)).resolves.toBe(1);

    // VOUCH_SCREENSHOT_DIR keeps the picture somewhere known, to look at how the page renders.
    const shotDir = process.env.VOUCH_SCREENSHOT_DIR ?? path.join(dir, 'screenshots');
    const shot = path.join(shotDir, 'sandbox.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);

    // The same page on a phone: nothing scrolls sideways.
    await page.setViewportSize({ width: 420, height: 900 });
    await expect(page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')).resolves.toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(shotDir, 'sandbox-420.png'), fullPage: true });

    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 90_000);
});
