import type { AlertView } from '../../../src/alerts/alert.js';

/** A complete, realistic alert; override what a test is about. */
export function alertView(overrides: Partial<AlertView> = {}): AlertView {
  return {
    id: 'a1b2c3d4-0000-4000-8000-000000000001',
    status: 'asked',
    owner: 'alice',
    host: 'db-01.prod.example.com',
    command: 'cat /etc/shadow',
    runAs: 'root',
    cwd: '/home/alice',
    occurredAt: new Date(Date.UTC(2026, 0, 1, 12, 30, 0)),
    ruleId: 'credential-access.shadow-read',
    ruleName: 'Read of /etc/shadow',
    severity: 'high',
    attack: ['T1003.008'],
    occurrences: 1,
    justification: null,
    secondFactor: null,
    escalationReason: null,
    escalationDetail: null,
    resolvedAt: null,
    ...overrides,
  };
}

/** Every text string anywhere inside a Block Kit structure, with its JSON path. */
export function textsOf(value: unknown, path = ''): Array<{ path: string; type: string; text: string }> {
  if (Array.isArray(value)) return value.flatMap((item, index) => textsOf(item, `${path}/${index}`));
  if (typeof value !== 'object' || value === null) return [];
  const record = value as Record<string, unknown>;
  const own =
    (record.type === 'mrkdwn' || record.type === 'plain_text') && typeof record.text === 'string'
      ? [{ path, type: record.type, text: record.text }]
      : [];
  return [...own, ...Object.entries(record).flatMap(([key, child]) => textsOf(child, `${path}/${key}`))];
}
