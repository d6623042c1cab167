import { ConfigError } from '../errors.js';
import { parseWorkingHours } from '../workflow/working-hours.js';
import type { EscalationContact, PagerDutyConfig, WorkflowConfig } from './config.js';
import { DEFAULTS } from './defaults.js';
import { formatDuration, parsePositiveDuration } from './duration.js';

type Section = Record<string, unknown>;
type Env = Record<string, string | undefined>;

/** The escalation ladder and working hours of `workflow:`, checked against each other. */
export type LadderConfig = Pick<WorkflowConfig, 'reminderDelaysMs' | 'escalationContact' | 'contactAfterMs' | 'workingHours'>;

/**
 * Reads `workflow.reminders` (or `remind_after`), `escalation_contact`, `contact_after` and
 * `working_hours`. Every step must come before `escalate_after`, in order, or it would never fire.
 */
export function ladderConfig(workflow: Section, escalateAfterMs: number): LadderConfig {
  const reminderDelaysMs = reminderDelays(workflow);
  reminderDelaysMs.forEach((delay, index) => {
    const key = workflow.reminders === undefined ? 'workflow.remind_after' : `workflow.reminders[${index}]`;
    if (delay >= escalateAfterMs) throw new ConfigError(key, `must be shorter than workflow.escalate_after (${formatDuration(escalateAfterMs)}), or the reminder never fires`);
    const previous = reminderDelaysMs[index - 1];
    if (previous !== undefined && delay <= previous) throw new ConfigError(key, 'reminders must be listed in increasing order, such as [30m, 90m]');
  });
  const escalationContact = contact(workflow.escalation_contact);
  const lastReminder = reminderDelaysMs.at(-1) ?? 0;
  // By default the contact hears halfway between the last reminder and the channel.
  const contactAfterMs =
    workflow.contact_after === undefined || workflow.contact_after === null
      ? Math.round((lastReminder + escalateAfterMs) / 2 / 60_000) * 60_000
      : parsePositiveDuration(workflow.contact_after, 'workflow.contact_after');
  if (escalationContact && (contactAfterMs <= lastReminder || contactAfterMs >= escalateAfterMs)) {
    throw new ConfigError('workflow.contact_after', `must fall after the last reminder (${formatDuration(lastReminder)}) and before workflow.escalate_after (${formatDuration(escalateAfterMs)})`);
  }
  const rawHours = workflow.working_hours;
  const workingHours = rawHours === undefined || rawHours === null || rawHours === '' ? null : parseWorkingHours(rawHours, 'workflow.working_hours');
  return { reminderDelaysMs, escalationContact, contactAfterMs, workingHours };
}

function reminderDelays(workflow: Section): number[] {
  const list = workflow.reminders;
  if (list === undefined || list === null) {
    return [parsePositiveDuration(workflow.remind_after ?? DEFAULTS.remindAfter, 'workflow.remind_after')];
  }
  if (workflow.remind_after !== undefined) {
    throw new ConfigError('workflow.remind_after', 'set either remind_after (one reminder) or reminders (a list such as [30m, 90m]), not both');
  }
  if (!Array.isArray(list)) throw new ConfigError('workflow.reminders', 'must be a list of durations after the question, such as [30m, 90m]; [] sends none');
  if (list.length > 10) throw new ConfigError('workflow.reminders', 'at most 10 reminders: more is noise, not a ladder');
  return list.map((item: unknown, index) => parsePositiveDuration(item, `workflow.reminders[${index}]`));
}

function contact(value: unknown): EscalationContact | null {
  if (value === undefined || value === null || value === '') return null;
  if (value === 'manager') return { kind: 'manager' };
  if (typeof value === 'string' && /^S[A-Z0-9]{2,}$/.test(value)) return { kind: 'user_group', id: value };
  throw new ConfigError(
    'workflow.escalation_contact',
    `must be a Slack user group id such as S0ONCALL (its members are mentioned in the security channel) or manager (identity.users.<login>.manager is sent a DM), got ${JSON.stringify(value)}`,
  );
}

/** `pagerduty:`: null without a routing key. */
export function pagerDutyConfig(values: Section, env: Env): PagerDutyConfig | null {
  const rawKey = env.PAGERDUTY_ROUTING_KEY || values.routing_key;
  if (rawKey === undefined || rawKey === null || rawKey === '') {
    if (values.api_url !== undefined) throw new ConfigError('pagerduty.routing_key', 'missing: pagerduty.api_url is set but no routing key (PAGERDUTY_ROUTING_KEY) to send events with');
    return null;
  }
  if (typeof rawKey !== 'string' || !/^[A-Za-z0-9]{32}$/.test(rawKey)) {
    throw new ConfigError('pagerduty.routing_key', 'must be the 32-character integration key of an Events API v2 integration (PAGERDUTY_ROUTING_KEY)');
  }
  const apiUrl = String(env.PAGERDUTY_API_URL || values.api_url || DEFAULTS.pagerDutyApiUrl);
  try {
    const url = new URL(apiUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new ConfigError('pagerduty.api_url', `"${apiUrl}" is not an http(s) URL`);
  }
  return { routingKey: rawKey, apiUrl: apiUrl.replace(/\/+$/, '') };
}
