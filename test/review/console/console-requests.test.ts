import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { RequestError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import type { ReviewerIdentity } from '../../../src/review/console/console-auth.js';
import { startService, type RunningService } from '../../../src/service.js';
import { reviewsOf } from '../../../src/store/queries/reviews.js';
import { createTestStore, type TestStore } from '../../helpers/test-store.js';
import { DEMO_COOKIE, demoCsrfToken, fakeConsoleAuth } from './fake-console-auth.js';
import { seedAlerts } from './seed-alerts.js';

const NOW = new Date('2026-11-24T15:00:00Z');
const TOKEN = 'api-token-0123456789abcdef';
/** A hostile command of 200,000 characters. */
const LONG_COMMAND = `cat /etc/shadow ${'A'.repeat(200_000)}`;
/** Too long for a form field, short enough for a suppression. */
const LONGISH_COMMAND = `cat /etc/shadow ${'B'.repeat(20_000)}`;

/** Query strings, dates and statuses as the console and the review API of one service read them. */
describe('console and review API requests', () => {
  let dir: string;
  let store: TestStore;
  let service: RunningService;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vouch-console-requests-'));
    store = await createTestStore();
    await seedAlerts(store.db, [
      { id: 'al-done', status: 'verified', occurred_at: new Date('2026-11-24T09:00:00Z') },
      // Waiting behind another question of its conversation: still `new`.
      { id: 'al-waiting', status: 'new', asked_at: null, occurred_at: new Date('2026-11-24T10:00:00Z'), conversation_id: 'al-done' },
      { id: 'al-long', status: 'escalated', rule_id: 'shadow-read', command: LONG_COMMAND },
      { id: 'al-longish', status: 'escalated', rule_id: 'shadow-read', command: LONGISH_COMMAND },
    ]);
    const auth = {
      ...fakeConsoleAuth(),
      apiIdentity: async (req: IncomingMessage): Promise<ReviewerIdentity> => {
        if (req.headers.authorization !== `Bearer ${TOKEN}`) throw new RequestError(401, 'missing or wrong bearer token');
        return { actor: 'token:test', name: 'test', reviewer: true, admin: false, kind: 'token' };
      },
    };
    const config = loadConfig({ env: { VOUCH_PORT: '0', VOUCH_DATA_DIR: path.join(dir, 'data') } });
    service = await startService({ config, store, logger: silentLogger, clock: new ManualClock(NOW), autoRun: false, consoleAuth: auth });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await store?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const page = (route: string, method = 'GET') => fetch(`${service.url}${route}`, { method, redirect: 'manual', headers: { cookie: `${DEMO_COOKIE}=dana` } });
  const api = (route: string) => fetch(`${service.url}${route}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const form = (route: string, fields: string) =>
    fetch(`${service.url}${route}`, {
      method: 'POST', redirect: 'manual', body: `csrf=${demoCsrfToken('dana')}&${fields}`,
      headers: { cookie: `${DEMO_COOKIE}=dana`, 'content-type': 'application/x-www-form-urlencoded' },
    });

  it.each([
    '/api/alerts?host=%E0%A4%A', '/api/alerts?host=%ZZ', '/api/suppressions?all=%E0', '/review?q=%E0%A4%A', '/review?host=%ZZ',
    '/review/export.csv?q=%E0%A4%A', '/review/report?since=%ZZ', '/review/overview?days=%E0', '/review/alerts/al-done?done=%ZZ',
  ])('refuses broken percent-encoding in the query of %s with 400', async (route) => {
    const answer = route.startsWith('/api/') ? await api(route) : await page(route);
    expect(answer.status, route).toBe(400);
    expect(await answer.text()).toMatch(/is not valid percent-encoding/);
  });

  it.each([
    ['/api/alerts?since=2026-02-30', '--since: "2026-02-30" is not a calendar date: 2026-02 has no day 30'],
    ['/api/alerts?until=2026-11-31', '--until: "2026-11-31" is not a calendar date: 2026-11 has no day 31'],
    ['/review/report?since=2026-02-30&until=2026-11-31', '--since: &quot;2026-02-30&quot; is not a calendar date'],
    ['/review/report?since=2026-11-01&until=2026-11-31', '--until: &quot;2026-11-31&quot; is not a calendar date'],
    ['/review?since=2026-04-31', '--since: &quot;2026-04-31&quot; is not a calendar date'],
    ['/review/export.json?until=2026-02-29', '--until: &quot;2026-02-29&quot; is not a calendar date'],
  ])('refuses the impossible date in %s with 400 naming the parameter', async (route, message) => {
    const answer = route.startsWith('/api/') ? await api(route) : await page(route);
    expect(answer.status, route).toBe(400);
    const text = await answer.text();
    expect(route.startsWith('/api/') ? (JSON.parse(text) as { error: string }).error : text).toContain(message);
  });

  it('filters by status new, which alerts waiting behind another question have', async () => {
    const answer = await api('/api/alerts?status=new');
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as Array<{ id: string }>).map((row) => row.id)).toEqual(['al-waiting']);
    const queue = await page('/review?status=new');
    expect(queue.status).toBe(200);
    const html = await queue.text();
    expect(html).toContain('data-alert="al-waiting"');
    expect(html).not.toContain('data-alert="al-done"');
    expect(html).toMatch(/<option value="new" selected>new<\/option>/);
  });

  it('answers HEAD on console pages and the review API like GET, without a body', async () => {
    for (const route of ['/review', '/review/report?since=2026-11-01']) {
      const head = await page(route, 'HEAD');
      expect(head.status, route).toBe(200);
      expect(head.headers.get('content-type'), route).toMatch(/^text\/html/);
      expect(await head.text()).toBe('');
    }
    const head = await fetch(`${service.url}/api/alerts`, { method: 'HEAD', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${service.url}/healthz`, { method: 'HEAD' })).status).toBe(200);
  });

  it('refuses a console note holding NUL, and stores one holding control characters', async () => {
    const refused = await form('/review/alerts/al-done/review', 'note=a%00b');
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('note: must not contain NUL characters');
    const stored = await form('/review/alerts/al-done/review', 'note=a%01b%1B%5B2J%7F');
    expect(stored.status).toBe(303);
    expect((await reviewsOf(store.db, 'al-done')).map((review) => review.note)).toEqual(['a\u0001b\u001b[2J\u007f']);
    expect((await form('/review/alerts/al-done/assign', 'to=erin%00')).status).toBe(400);
  });

  it('assigns only to someone who may review, and lists them on the alert page', async () => {
    const stranger = await form('/review/alerts/al-done/assign', 'to=mallory%40example.com');
    expect(stranger.status).toBe(400);
    expect(await stranger.text()).toContain('is not a reviewer of Vouch');
    expect((await form('/review/alerts/al-done/assign', 'to=erin%40example.com')).status).toBe(303);
    const alertPage = await (await page('/review/alerts/al-done')).text();
    expect(alertPage).toContain('<option value="erin@example.com" selected>erin@example.com</option>');
    expect(alertPage).toContain('<option value="dana@example.com">dana@example.com</option>');
    expect(alertPage).not.toContain('nick@example.com</option>');
  });

  it.each([
    ['note=a%E0%A4', /note&quot;: not valid percent-encoding/],
    ['note=%ZZ', /note&quot;: not valid percent-encoding/],
    ['no%E0te=x', /a form field name is not valid percent-encoding/],
    ['note=a&note=b', /note&quot;: given more than once/],
  ])('refuses the console form %s with 400 and stores nothing', async (fields, message) => {
    const before = (await reviewsOf(store.db, 'al-waiting')).length;
    const refused = await form('/review/alerts/al-waiting/review', fields);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(message);
    expect((await reviewsOf(store.db, 'al-waiting')).length).toBe(before);
  });

  it('stores a multi-line note with the LF line breaks it was typed with', async () => {
    const stored = await form('/review/alerts/al-done/review', 'note=line%20one%0D%0Aline%20two');
    expect(stored.status).toBe(303);
    expect((await reviewsOf(store.db, 'al-done')).map((review) => review.note)).toContain('line one\nline two');
  });

  it('keeps a list filter from a shared link selected in the queue form', async () => {
    const body = await (await page('/review?status=escalated,verified&severity=critical,high')).text();
    expect(body).toContain('<option value="escalated,verified" selected>escalated, verified</option>');
    expect(body).toContain('<option value="critical,high" selected>critical, high</option>');
  });

  it('refuses limit and offset in the queue and its exports, naming page: an export holds what the queue\'s filter selects', async () => {
    for (const route of ['/review?since=2026-11-01&limit=5&offset=3', '/review?offset=3', '/review/export.json?limit=1', '/review/export.csv?status=escalated&offset=1']) {
      const answer = await page(route);
      expect(answer.status, route).toBe(400);
      expect(await answer.text(), route).toMatch(/(limit|offset): not a queue filter; the queue pages with page=2/);
    }
    const queue = await (await page('/review?status=escalated,verified')).text();
    expect(queue).toContain('Alerts 1–3 of 3');
    const link = /href="(\/review\/export\.json[^"]*)"/.exec(queue)?.[1]?.replaceAll('&amp;', '&') as string;
    expect(link).toBe('/review/export.json?status=escalated%2Cverified');
    const exported = (await (await page(link)).json()) as Array<{ id: string }>;
    expect(exported.map((row) => row.id).sort()).toEqual(['al-done', 'al-long', 'al-longish']);
  });

  it('links every console page to the sign-out page', async () => {
    for (const route of ['/review', '/review/overview', '/review/alerts/al-done']) expect(await (await page(route)).text()).toContain('href="/review/logout"');
  });

  it('refuses a form body that is not UTF-8', async () => {
    const body = Buffer.concat([Buffer.from(`csrf=${demoCsrfToken('dana')}&note=`), Buffer.from([0xc3, 0x28])]);
    const refused = await fetch(`${service.url}/review/alerts/al-waiting/review`, {
      method: 'POST', redirect: 'manual', body,
      headers: { cookie: `${DEMO_COOKIE}=dana`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/not valid UTF-8/);
  });

  it('shows a megabyte-class command cut on the alert page, and suppresses it from the alert without sending it back', async () => {
    const shown = await page('/review/alerts/al-long');
    const body = await shown.text();
    expect(shown.status).toBe(200);
    expect(body.length).toBeLessThan(100_000);
    expect(body).toMatch(/more characters: the CSV and JSON exports have the whole command/);
    const asErin = (id: string) => fetch(`${service.url}/review/alerts/${id}`, { headers: { cookie: `${DEMO_COOKIE}=erin` } }).then((answer) => answer.text());
    expect(await asErin('al-long')).toMatch(/too long to suppress by itself \(200016 characters/);
    expect(await asErin('al-longish')).toContain('name="command_from_alert"');
    const created = await fetch(`${service.url}/review/suppressions`, {
      method: 'POST', redirect: 'manual',
      body: `csrf=${demoCsrfToken('erin')}&from_alert=al-longish&command_from_alert=1&rule=shadow-read&for=1d&reason=a%20known%20noisy%20job`,
      headers: { cookie: `${DEMO_COOKIE}=erin`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect([created.status, created.status === 303 ? '' : await created.text()]).toEqual([303, '']);
    const rows = await store.db.selectFrom('suppressions').select(['command', 'rule_id']).execute();
    expect(rows).toEqual([{ command: LONGISH_COMMAND, rule_id: 'shadow-read' }]);
  });
});
