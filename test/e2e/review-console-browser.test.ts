import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { findAlert } from '../../src/store/queries/alerts.js';
import { auditTrailFor } from '../../src/store/queries/audit-trail.js';
import { buildWebAssets } from '../helpers/web-build.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';
import { DEMO_COOKIE, demoCsrfToken, fakeConsoleAuth } from '../review/console/fake-console-auth.js';
import { seedAlerts } from '../review/console/seed-alerts.js';

/** Debian's package; CI installs it. Browsers are never downloaded. */
const CHROMIUM = '/usr/bin/chromium';
const HOSTILE = `cat /etc/shadow <script>window.__pwned = 1</script> <!channel> "><img src=x onerror="window.__pwned = 2"> \u202Egnp.exe`;
const NOW = new Date('2026-11-24T12:00:00Z');
const at = (hour: number, minute = 0) => new Date(Date.UTC(2026, 10, 24, hour, minute));

// The test's tsconfig has no DOM types, so code evaluated in the page is passed as strings.
describe.skipIf(!existsSync(CHROMIUM))(`review console in headless Chromium (skipped when ${CHROMIUM} is missing: apt-get install chromium)`, () => {
  let dir: string;
  let store: TestStore;
  let service: RunningService;
  let browser: Browser;
  const auth = fakeConsoleAuth();
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  const shotDir = () => process.env.VOUCH_SCREENSHOT_DIR ?? path.join(dir, 'screenshots');

  beforeAll(async () => {
    buildWebAssets();
    dir = mkdtempSync(path.join(tmpdir(), 'vouch-console-browser-'));
    store = await createTestStore();
    await seedAlerts(store.db, [
      // A rule of the default pack the service runs: "Suppress similar" may only name one of its rules.
      { id: 'al-esc-web', status: 'escalated', host: 'web-1', owner: 'bob', occurred_at: at(8), escalation_reason: 'denied_by_user', severity: 'critical', rule_id: 'shadow-read' },
      { id: 'al-esc-db', status: 'escalated', host: 'db-2', owner: 'alice', occurred_at: at(7), escalation_reason: 'no_response' },
      { id: 'al-ok-web', status: 'verified', host: 'web-2', owner: 'alice', occurred_at: at(9), rule_id: 'exec.curl-pipe-shell', rule_name: 'curl piped to a shell', severity: 'medium' },
      { id: 'al-ok-db', status: 'verified', host: 'db-1', owner: 'alice', occurred_at: at(10), attribution: 'syslog-unverified' },
      { id: 'al-open', status: 'asked', host: 'web-3', owner: 'carol', occurred_at: at(11) },
      { id: 'al-hostile', status: 'escalated', host: 'evil-1', owner: 'mallory', occurred_at: at(6), command: HOSTILE, escalation_reason: 'denied_by_user' },
    ]);
    const config = loadConfig({ env: { VOUCH_PORT: '0', VOUCH_DATA_DIR: path.join(dir, 'data') } });
    service = await startService({ config, store, logger: silentLogger, clock: new ManualClock(NOW), autoRun: false, consoleAuth: auth });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await store?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A browser signed in as a demo identity, at a width; page errors and CSP reports are collected. */
  async function signedInPage(who: string, width = 1280): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    await context.addCookies([{ name: DEMO_COOKIE, value: who, url: service.url }]);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on('dialog', (dialog) => void dialog.accept());
    return { context, page };
  }

  const get = (route: string, who: string | null) =>
    fetch(`${service.url}${route}`, { redirect: 'manual', headers: who ? { cookie: `${DEMO_COOKIE}=${who}` } : {} });

  const queueIds = (page: Page): Promise<string[]> => page.locator('#queue tbody tr').evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { alert: string } }).dataset.alert));

  it('sends a browser without a session to sign in, and refuses someone who is not a reviewer', async () => {
    const anonymous = await get('/review?status=escalated', null);
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toContain('/test-sign-in');
    expect(auth.signInRedirects).toContain('/review?status=escalated');
    const outsider = await get('/review', 'nick');
    expect(outsider.status).toBe(403);
    expect(await outsider.text()).toContain('neither a reviewer nor an admin');
  });

  it('lists the escalated, unreviewed alerts first, and filters by host glob, status and reviewed, keeping the filter in the URL', async () => {
    const { context, page } = await signedInPage('dana');
    await page.goto(`${service.url}/review`);
    expect(await page.title()).toBe('Queue · Vouch review');
    const csp = (await page.request.get(`${service.url}/review`)).headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
    await page.screenshot({ path: path.join(shotDir(), 'console-queue-desktop.png'), fullPage: true });
    const ids = await queueIds(page);
    expect(ids.slice(0, 3).sort()).toEqual(['al-esc-db', 'al-esc-web', 'al-hostile']);
    expect(ids).toHaveLength(6);

    await page.getByLabel('Host').fill('web-*');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/host=web-/);
    expect((await queueIds(page)).sort()).toEqual(['al-esc-web', 'al-ok-web', 'al-open']);
    await expect(page.getByLabel('Host').inputValue()).resolves.toBe('web-*');

    // A select applies itself (the console's script), and the host filter stays.
    await page.getByLabel('Status').selectOption('verified');
    await page.waitForURL(/status=verified/);
    expect(new URL(page.url()).searchParams.get('host')).toBe('web-*');
    expect(await queueIds(page)).toEqual(['al-ok-web']);

    // The shared link shows the same; provenance and reviewed filters too.
    await page.goto(`${service.url}/review?provenance=syslog-unverified&reviewed=false`);
    expect(await queueIds(page)).toEqual(['al-ok-db']);
    await page.goto(`${service.url}/review?sort=host&order=asc`);
    expect((await queueIds(page))[0]).toBe('al-ok-db');

    // A filter no one knows is refused, not ignored.
    const typo = await page.goto(`${service.url}/review?reviwed=false`);
    expect(typo?.status()).toBe(400);
    await page.locator('.error-message', { hasText: 'unknown filter' }).waitFor();
    await context.close();
  }, 60_000);

  it('shows an alert with its timeline and verified hash chain, and records Mark reviewed with the signed-in identity, appending', async () => {
    const { context, page } = await signedInPage('dana');
    await page.goto(`${service.url}/review/alerts/al-ok-db`);
    await page.locator('#chain-check', { hasText: 'Hash chain verified (5 steps)' }).waitFor();
    const actions = await page.locator('#timeline li').evaluateAll((items) => items.map((item) => (item as unknown as { dataset: { action: string } }).dataset.action));
    expect(actions).toEqual(['created', 'asked', 'justified', 'push_sent', 'verified']);
    await expect(page.locator('.facts').textContent()).resolves.toContain('any local user can write this log');

    await page.getByLabel('Note').fill('Expected: quarterly rotation');
    await page.getByRole('button', { name: 'Mark reviewed' }).click();
    await page.locator('.flash', { hasText: 'Marked reviewed.' }).waitFor();
    await page.getByLabel('Note').fill('Second look: still fine');
    await page.getByRole('button', { name: 'Mark reviewed' }).click();
    await page.locator('#reviews li').nth(1).waitFor();
    await expect(page.locator('#reviews').textContent()).resolves.toContain('dana@example.com: Expected: quarterly rotation');

    const reviews = await store.db.selectFrom('reviews').selectAll().where('alert_id', '=', 'al-ok-db').orderBy('id').execute();
    expect(reviews.map((review) => [review.actor, review.note])).toEqual([['dana@example.com', 'Expected: quarterly rotation'], ['dana@example.com', 'Second look: still fine']]);
    const trail = await auditTrailFor(store.db, 'al-ok-db');
    expect(trail.filter((step) => step.action === 'reviewed').map((step) => step.actor)).toEqual(['dana@example.com', 'dana@example.com']);
    await page.locator('#chain-check', { hasText: 'Hash chain verified (7 steps)' }).waitFor();
    await page.screenshot({ path: path.join(shotDir(), 'console-alert-desktop.png'), fullPage: true });

    // The queue now knows it is reviewed.
    await page.goto(`${service.url}/review?reviewed=true`);
    expect(await queueIds(page)).toEqual(['al-ok-db']);
    await context.close();
  }, 60_000);

  it('lets an admin suppress similar alerts from the alert, prefilled, recorded under their identity', async () => {
    const { context, page } = await signedInPage('erin');
    await page.goto(`${service.url}/review/alerts/al-esc-web`);
    await page.getByText('Suppress similar').click();
    await expect(page.getByLabel('Rule').inputValue()).resolves.toBe('shadow-read');
    await expect(page.getByLabel('Host (glob)').inputValue()).resolves.toBe('web-1');
    await page.getByLabel('Host (glob)').fill('web-*');
    await page.getByLabel('Exact command').fill('');
    await page.getByLabel('For').selectOption('1d');
    await page.getByLabel('Reason').fill('Bob rotates web passwords this week');
    await page.getByRole('button', { name: 'Create suppression' }).click();
    await page.locator('.flash', { hasText: 'Suppression created.' }).waitFor();
    const suppression = await store.db.selectFrom('suppressions').selectAll().executeTakeFirstOrThrow();
    expect(suppression).toMatchObject({ rule_id: 'shadow-read', owner: 'bob', host_glob: 'web-*', command: null, created_by: 'erin@example.com', reason: 'Bob rotates web passwords this week' });
    expect(suppression.expires_at.getTime() - NOW.getTime()).toBe(86_400_000);
    await page.locator('#timeline li[data-action="suppressed_similar"]', { hasText: 'erin@example.com' }).waitFor();
    await context.close();

    // A reviewer who is not an admin is not offered it, and is refused if they post it anyway.
    const { context: danaContext, page: danaPage } = await signedInPage('dana');
    await danaPage.goto(`${service.url}/review/alerts/al-esc-web`);
    await danaPage.getByText('Only admins can suppress').waitFor();
    const refused = await post('/review/suppressions', 'dana', { csrf: demoCsrfToken('dana'), rule: 'x', reason: 'y', for: '1d' });
    expect(refused.status).toBe(403);
    await danaContext.close();
  }, 60_000);

  const post = (route: string, who: string, fields: Record<string, string>) =>
    fetch(`${service.url}${route}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `${DEMO_COOKIE}=${who}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });

  it('refuses a form without the session’s CSRF token (403) and changes nothing', async () => {
    const missing = await post('/review/alerts/al-esc-db/review', 'dana', { note: 'forged' });
    expect(missing.status).toBe(403);
    const wrong = await post('/review/alerts/al-esc-db/review', 'dana', { note: 'forged', csrf: demoCsrfToken('erin') });
    expect(wrong.status).toBe(403);
    const anonymous = await post('/review/alerts/al-esc-db/review', 'nobody', { note: 'forged', csrf: 'x' });
    expect(anonymous.status).toBe(403);
    expect(await store.db.selectFrom('reviews').selectAll().where('alert_id', '=', 'al-esc-db').execute()).toEqual([]);
    const good = await post('/review/alerts/al-esc-db/review', 'dana', { note: 'ok', csrf: demoCsrfToken('dana') });
    expect(good.status).toBe(303);
    expect(good.headers.get('location')).toBe('/review/alerts/al-esc-db?done=reviewed');
  });

  it('answers bad requests with a 4xx page, never a 500', async () => {
    const cases: Array<[string, number]> = [
      ['/review/alerts/%ZZ', 400], ['/review/alerts/a%00b', 400], ['/review/alerts/nope', 404], ['/review?page=0', 400], ['/review?since=yesterday', 400],
      ['/review?severity=urgent', 400], ['/review?status=asked&status=verified', 400], ['/review/overview?days=0', 400], ['/review/overview?weeks=2', 400],
      ['/review/export.csv?severity=urgent', 400], ['/review/report?until=nonsense', 400], ['/review/suppress?rule=x', 403], ['/assets/console/../../package.json', 404],
    ];
    for (const [route, expected] of cases) {
      const answer = await get(route, 'dana');
      expect(answer.status, route).toBe(expected);
    }
    const wrongType = await fetch(`${service.url}/review/alerts/al-ok-db/review`, { method: 'POST', headers: { cookie: `${DEMO_COOKIE}=dana`, 'content-type': 'application/json' }, body: '{}' });
    expect(wrongType.status).toBe(415);
    const open = await post('/review/alerts/al-open/review', 'dana', { csrf: demoCsrfToken('dana'), note: 'too early' });
    expect(open.status).toBe(409);
    const twice = await fetch(`${service.url}/review/alerts/al-ok-db/review`, { method: 'POST', headers: { cookie: `${DEMO_COOKIE}=dana`, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${demoCsrfToken('dana')}&note=a&note=b` });
    expect(twice.status).toBe(400);
  });

  it('asks again: the alert re-opens, an ask job is scheduled, the trail says who', async () => {
    const { context, page } = await signedInPage('dana');
    await page.goto(`${service.url}/review/alerts/al-esc-web`);
    await page.getByRole('button', { name: 'Ask again' }).click();
    await page.locator('.flash', { hasText: 'Asked again' }).waitFor();
    const trail = await auditTrailFor(store.db, 'al-esc-web');
    const reopened = trail.findIndex((step) => step.action === 'reopened');
    expect(trail[reopened]).toMatchObject({ actor: 'dana@example.com', detail: { from: 'escalated', escalation_reason: 'denied_by_user' } });
    // The ask job it scheduled woke the runner: the owner is asked anew by the ordinary workflow.
    const asked = async () => (await findAlert(store.db, 'al-esc-web'))?.status === 'asked';
    for (let tries = 0; !(await asked()) && tries < 100; tries += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await findAlert(store.db, 'al-esc-web')).toMatchObject({ status: 'asked', escalation_reason: null, resolved_at: null });
    expect((await auditTrailFor(store.db, 'al-esc-web')).slice(reopened + 1).map((step) => step.action)).toContain('asked');
    await context.close();
  }, 60_000);

  it('exports the current filter as CSV and JSON, and prints the report with the chain check and who reviewed what', async () => {
    const csv = await get('/review/export.csv?status=escalated&host=db-*', 'dana');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="vouch-alerts-2026-11-24\.csv"/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toMatch(/^id,status,user,host,command/);
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(['al-esc-db']);
    const json = await get('/review/export.json?reviewed=true', 'dana');
    const rows = (await json.json()) as Array<{ id: string; reviewed_by: string }>;
    expect(rows.map((row) => [row.id, row.reviewed_by]).sort()).toEqual([['al-esc-db', 'dana@example.com'], ['al-ok-db', 'dana@example.com']]);

    const { context, page } = await signedInPage('dana');
    await page.goto(`${service.url}/review/report?since=2026-11-24&until=2026-11-25`);
    await page.locator('#report-chain', { hasText: 'The audit trail verifies' }).waitFor();
    await expect(page.locator('#report-reviews').textContent()).resolves.toContain('dana@example.com');
    await expect(page.locator('.report-table tbody tr').count()).resolves.toBe(6);
    await page.emulateMedia({ media: 'print' });
    await page.screenshot({ path: path.join(shotDir(), 'console-report-print.png'), fullPage: true });
    await context.close();
  }, 60_000);

  it('shows hostile command text as inert text in the queue, the alert page and the report', async () => {
    const { context, page } = await signedInPage('dana');
    for (const route of ['/review?q=shadow', '/review/alerts/al-hostile', '/review/report?since=2026-11-24']) {
      await page.goto(`${service.url}${route}`);
      await page.locator('code.command', { hasText: '<script>window.__pwned = 1</script>' }).first().waitFor();
      await expect(page.evaluate('window.__pwned')).resolves.toBeUndefined();
      await expect(page.locator('main img').count()).resolves.toBe(0);
      await expect(page.locator('main script').count()).resolves.toBe(0);
      // The bidi override is shown as a visible escape instead of reordering the line.
      const text = (await page.locator('code.command', { hasText: 'window.__pwned' }).first().textContent()) ?? '';
      expect(text).not.toContain('\u202E');
      expect(text).toContain('<!channel>');
    }
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
    await context.close();
  }, 60_000);

  it('draws the overview charts and suggests rules that are almost always vouched for', async () => {
    await seedAlerts(store.db, Array.from({ length: 6 }, (_, index) => ({ id: `al-tune-${index}`, rule_id: 'exec.tuning-candidate', occurred_at: at(3, index) })));
    const { context, page } = await signedInPage('dana');
    await page.goto(`${service.url}/review/overview?days=7`);
    await expect(page.locator('.chart-svg rect.bar-verified').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('#answer-median').textContent()).resolves.toBe('1m 00s');
    const suggestion = page.locator('#tuning li', { hasText: 'exec.tuning-candidate' });
    await expect(suggestion.textContent()).resolves.toContain('6 of 6 verified');
    await expect(suggestion.getByRole('link', { name: 'Suppress…' }).getAttribute('href')).resolves.toBe('/review/suppress?rule=exec.tuning-candidate');
    await context.close();
  }, 60_000);

  it('sorts the queue on a 420 px wide screen, where the header row is hidden, keeping the filter', async () => {
    const { context, page } = await signedInPage('dana', 420);
    await page.goto(`${service.url}/review?host=*-1`);
    const sorts = page.locator('#queue-sort');
    await expect(sorts.isVisible()).resolves.toBe(true);
    await expect(sorts.getByRole('link', { name: 'Needs review first' }).getAttribute('aria-current')).resolves.toBe('true');
    const hosts = () => page.locator('#queue tbody td[data-label="Host"]').allTextContents();

    await sorts.getByRole('link', { name: 'Host', exact: true }).click();
    await page.waitForURL(/sort=host/);
    expect(new URL(page.url()).searchParams.get('host')).toBe('*-1');
    const ascending = await hosts();
    expect(new Set(ascending)).toEqual(new Set(['db-1', 'evil-1', 'web-1']));
    expect(ascending).toEqual([...ascending].sort());
    await page.screenshot({ path: path.join(shotDir(), 'console-queue-sorted-420.png') });
    // The current sort again turns its order round, as its column header does.
    await sorts.getByRole('link', { name: 'Host ▲' }).click();
    await page.waitForURL(/order=desc/);
    expect(await hosts()).toEqual([...ascending].reverse());
    await sorts.getByRole('link', { name: 'Needs review first' }).click();
    await page.waitForURL((url) => !url.searchParams.has('sort'));
    expect(new URL(page.url()).searchParams.get('host')).toBe('*-1');
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await context.close();

    // On a wide screen the column headers sort, and the links stay out of the way.
    const wide = await signedInPage('dana');
    await wide.page.goto(`${service.url}/review?host=*-1`);
    await expect(wide.page.locator('#queue-sort').isVisible()).resolves.toBe(false);
    await expect(wide.page.locator('#queue thead').isVisible()).resolves.toBe(true);
    await wide.context.close();
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 60_000);

  it('fits a 420 px wide screen: no page scrolls sideways', async () => {
    const { context, page } = await signedInPage('erin', 420);
    for (const [route, name] of [['/review', 'queue'], ['/review/alerts/al-hostile', 'alert'], ['/review/overview', 'overview']] as const) {
      await page.goto(`${service.url}${route}`);
      const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow, `${route} scrolls sideways`).toBeLessThanOrEqual(0);
      await page.screenshot({ path: path.join(shotDir(), `console-${name}-420.png`), fullPage: true });
    }
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
    await context.close();
  }, 60_000);
});
