import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';

function load(yaml: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-ladder-config-'));
  const file = path.join(dir, 'vouch.yml');
  writeFileSync(file, yaml);
  return loadConfig({ file, env });
}

const KEY = 'R0UT1NGKEY0000000000000000000000';

describe('the ladder, working hours and PagerDuty in the configuration', () => {
  it('defaults to one reminder, no contact, no working hours and no paging', () => {
    const config = load('');
    expect(config.workflow).toMatchObject({ reminderDelaysMs: [30 * 60_000], escalationContact: null, workingHours: null });
    expect(config.pagerduty).toBeNull();
  });

  it('reads a full ladder', () => {
    const config = load(
      [
        'workflow: { reminders: [30m, 90m], escalation_contact: S0ONCALL, contact_after: 100m, escalate_after: 2h, working_hours: "09:00-18:00 Mon-Fri" }',
        'identity: { users: { alice: { manager: bob } } }',
        `pagerduty: { routing_key: ${KEY} }`,
      ].join('\n'),
    );
    expect(config.workflow).toMatchObject({
      reminderDelaysMs: [30 * 60_000, 90 * 60_000],
      escalationContact: { kind: 'user_group', id: 'S0ONCALL' },
      contactAfterMs: 100 * 60_000,
      workingHours: { startMinute: 540, endMinute: 1080, text: '09:00-18:00 Mon-Fri' },
    });
    expect(config.identity.users.alice).toEqual({ manager: 'bob' });
    expect(config.pagerduty).toEqual({ routingKey: KEY, apiUrl: 'https://events.pagerduty.com' });
  });

  it('puts the contact halfway between the last reminder and the channel by default', () => {
    expect(load('workflow: { reminders: [30m], escalation_contact: manager, escalate_after: 2h }').workflow.contactAfterMs).toBe(75 * 60_000);
  });

  it('takes the routing key and URL from the environment', () => {
    const config = load('', { PAGERDUTY_ROUTING_KEY: KEY, PAGERDUTY_API_URL: 'http://127.0.0.1:9/' });
    expect(config.pagerduty).toEqual({ routingKey: KEY, apiUrl: 'http://127.0.0.1:9' });
  });

  it.each([
    ['workflow: { working_hours: "9am-6pm" }', /workflow\.working_hours: "9am-6pm" is not a working-hours range/],
    ['workflow: { working_hours: "18:00-09:00" }', /workflow\.working_hours: the day must end after it starts/],
    ['workflow: { working_hours: "09:00-18:00 Monday-Friday" }', /workflow\.working_hours: "Monday" is not a weekday/],
    ['workflow: { working_hours: [9, 18] }', /workflow\.working_hours: must be a string/],
    ['workflow: { reminders: [30m, 3h] }', /workflow\.reminders\[1\]: must be shorter than workflow\.escalate_after \(2h\)/],
    ['workflow: { reminders: [90m, 30m] }', /workflow\.reminders\[1\]: reminders must be listed in increasing order/],
    ['workflow: { reminders: 30m }', /workflow\.reminders: must be a list/],
    ['workflow: { reminders: [30m], remind_after: 30m }', /workflow\.remind_after: set either remind_after/],
    ['workflow: { escalation_contact: "@oncall" }', /workflow\.escalation_contact: must be a Slack user group id such as S0ONCALL/],
    ['workflow: { escalation_contact: manager, contact_after: 10m }', /workflow\.contact_after: must fall after the last reminder \(30m\)/],
    ['workflow: { workinghours: "09:00-18:00" }', /workflow\.workinghours: unknown key: did you mean workflow\.working_hours\?/],
    ['pagerduty: { routing_key: short }', /pagerduty\.routing_key: must be the 32-character integration key/],
    ['pagerduty: { api_url: "http://x" }', /pagerduty\.routing_key: missing/],
    [`pagerduty: { routing_key: ${KEY}, api_url: "ftp://x" }`, /pagerduty\.api_url: "ftp:\/\/x" is not an http\(s\) URL/],
    ['identity: { users: { alice: { boss: bob } } }', /identity\.users\.alice\.boss: unknown key/],
  ])('refuses %s', (yaml, message) => {
    expect(() => load(yaml)).toThrow(message);
  });

  it('allows no reminders at all', () => {
    expect(load('workflow: { reminders: [] }').workflow.reminderDelaysMs).toEqual([]);
  });
});
