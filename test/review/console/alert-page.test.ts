import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAlertPage } from '../../../src/review/console/alert-page.js';
import { createTestStore, type TestStore } from '../../helpers/test-store.js';
import { DEMO_IDENTITIES, demoCsrfToken } from './fake-console-auth.js';
import { seedAlerts } from './seed-alerts.js';

describe('alert page', () => {
  let store: TestStore;
  const session = { identity: DEMO_IDENTITIES.dana!, csrfToken: demoCsrfToken('dana') };
  beforeAll(async () => {
    store = await createTestStore();
    await seedAlerts(store.db, [
      { id: 'lead-1', host: 'web-1', command: 'systemctl restart nginx' },
      { id: 'member-1', host: 'web-2', command: 'systemctl restart nginx', conversation_id: 'lead-1' },
      { id: 'alone-1', host: 'db-9', owner: 'bob' },
    ]);
  });
  afterAll(() => store.destroy());

  const render = async (alertId: string, done: string | null = null) => (await renderAlertPage({ db: store.db, session, alertId, done, assignees: ['dana@example.com', 'erin@example.com'] })).markup;

  it('shows the conversation an alert belongs to and its other commands', async () => {
    const lead = await render('lead-1');
    expect(lead).toContain('data-conversation-id="lead-1"');
    expect(lead).toContain('leads a conversation of 2 commands');
    expect(lead).toContain('href="/review/alerts/member-1"');
    const member = await render('member-1');
    expect(member).toContain('belongs to the conversation led by <a href="/review/alerts/lead-1">lead-1</a>');
    expect(await render('alone-1')).toContain('asked about on its own');
  });

  it('carries the session’s CSRF token in every form, and ignores an unknown done= message', async () => {
    const page = await render('alone-1', 'constructor');
    const forms = page.match(/<form method="post"/g) ?? [];
    const tokens = page.match(new RegExp(`name="csrf" value="${demoCsrfToken('dana')}"`, 'g')) ?? [];
    expect(forms.length).toBeGreaterThanOrEqual(3);
    expect(tokens.length).toBe(forms.length);
    expect(page).not.toContain('class="flash"');
    expect(await render('alone-1', 'reviewed')).toContain('Marked reviewed.');
  });
});
