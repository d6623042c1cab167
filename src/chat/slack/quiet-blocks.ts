/**
 * Block Kit for the security channel's quiet posts: the digest of system-actor commands and the
 * pipeline health notices with their recoveries. Every host, command and detail comes from logs
 * and is attacker-controlled: it appears only as an inline code span, in a code block or as
 * plain_text, escaped and cut to Slack's limits.
 */
import type { HealthKind, HealthNoticeView, SystemDigestView } from '../quiet-views.js';
import { visibleText } from '../../terminal-text.js';
import { SLACK_LIMITS, fallback, type Block, type SlackMessage } from './blocks.js';
import { escapeMrkdwn, inlineCode, truncateEscaped, truncatePlain, untrustedMrkdwn } from './escape.js';

/** Lines shown per digest; the rest are counted. Keeps the message well under Slack's 50 blocks. */
export const DIGEST_MAX_LINES = 15;
/** Characters of a command shown on a digest line. */
const DIGEST_COMMAND_CHARS = 300;

const HEALTH_TITLES: Record<HealthKind, string> = {
  auditd_stopped: 'auditd stopped',
  audit_disabled: 'Kernel auditing disabled',
  audit_rules_removed: 'Audit rules removed',
  events_lost: 'Audit events lost',
  sequence_gap: 'Audit records missing (sequence gap)',
  host_silent: 'Host went silent',
  malformed_spike: 'Spike of malformed log lines',
};

const HEALTH_RECOVERED: Record<HealthKind, string> = {
  auditd_stopped: 'auditd is running again',
  audit_disabled: 'kernel auditing is enabled again',
  audit_rules_removed: 'audit rules were loaded again',
  events_lost: 'no more events lost',
  sequence_gap: 'records arrive in sequence again',
  host_silent: 'the host is sending audit records again',
  malformed_spike: 'malformed lines are back to normal',
};

export function healthTitle(kind: HealthKind): string {
  return HEALTH_TITLES[kind];
}

/** The digest: a header, a summary, one section per line (host, count, command), a context. */
export function digestMessage(digest: SystemDigestView): SlackMessage {
  const period = digest.cadence === 'daily' ? 'Daily' : 'Hourly';
  const commands = digest.runs === 1 ? '1 command' : `${digest.runs} commands`;
  const blocks: Block[] = [
    header(`${period} digest: ${commands} with no login user`),
    mrkdwn(
      `Commands that matched a rule but ran with no login user (daemons, cron, systemd units), ` +
        `${slackDate(digest.startsAt)} to ${slackDate(digest.endsAt)}. Nobody was asked about them; ` +
        `review them in the report (escalation reason \`system_actor\`).`,
    ),
  ];
  for (const line of digest.lines) {
    const times = line.runs === 1 ? 'once' : `${line.runs} times`;
    const runAs = line.runAs === null ? '' : ` as ${inlineCode(line.runAs, 200)}`;
    const title = `*${inlineCode(line.host, 200)}*${runAs}: ${inlineCode(line.ruleName, 200)} (${escapeMrkdwn(line.severity)}), ${times}`;
    blocks.push(mrkdwn(`${title}\n${codeBlock(line.command, DIGEST_COMMAND_CHARS)}`));
  }
  const shownAlerts = digest.lines.reduce((sum, line) => sum + line.alerts, 0);
  if (shownAlerts < digest.total) blocks.push(context(`…and ${digest.total - shownAlerts} more alerts in this period.`));
  return { text: fallback(`${period} digest: ${commands} with no login user`), blocks };
}

/** A health notice: what broke, on which host, since when. */
export function healthNoticeMessage(notice: HealthNoticeView): SlackMessage {
  const title = HEALTH_TITLES[notice.kind];
  return {
    text: fallback(`⚠️ ${title} on ${notice.host}`),
    blocks: [
      header(`⚠️ ${title}`),
      mrkdwn(`*Host* ${inlineCode(notice.host, 500)} since ${slackDate(notice.openedAt)}: commands there may not reach Vouch until this recovers.`),
      mrkdwn(`*What was seen*\n${codeBlock(notice.detail, 1000)}`),
      context(`Health notice ${notice.id} (${notice.kind}); the recovery will be posted in this thread.`),
    ],
  };
}

/** The recovery, posted in the notice's thread. */
export function healthRecoveryMessage(notice: HealthNoticeView): SlackMessage {
  const recovered = HEALTH_RECOVERED[notice.kind];
  const seen = notice.occurrences === 1 ? 'seen once' : `seen ${notice.occurrences} times`;
  const blocks: Block[] = [mrkdwn(`:white_check_mark: Recovered: ${escapeMrkdwn(recovered)} on ${inlineCode(notice.host, 500)} (${seen}).`)];
  if (notice.recoveryDetail !== null) blocks.push(mrkdwn(codeBlock(notice.recoveryDetail, 1000)));
  return { text: fallback(`Recovered: ${recovered} on ${notice.host}`), blocks };
}

function header(text: string): Block {
  const max = SLACK_LIMITS.header;
  return { type: 'header', text: { type: 'plain_text', text: truncatePlain(visibleText(text.slice(0, 2 * max)), max), emoji: false } };
}

function mrkdwn(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: truncateEscaped(text, SLACK_LIMITS.text), verbatim: true } };
}

function context(text: string): Block {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncateEscaped(escapeMrkdwn(text), SLACK_LIMITS.text), verbatim: true }] };
}

/** Untrusted text in a code block: escaped, backticks neutralised, cut to `max`. */
function codeBlock(untrusted: string, max: number): string {
  const fence = '```';
  return `${fence}${untrusted === '' ? '(empty)' : untrustedMrkdwn(untrusted, max)}${fence}`;
}


function slackDate(date: Date): string {
  const seconds = Math.floor(date.getTime() / 1000);
  return `<!date^${seconds}^{date_short_pretty} at {time}|${date.toISOString()}>`;
}
