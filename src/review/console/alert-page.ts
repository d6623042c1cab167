/**
 * One alert (GET /review/alerts/<id>): what ran, where, as whom, how far its attribution can be
 * trusted, the rule and ATT&CK ids, nearby alerts of the same person or host, the timeline from the
 * audit trail with its hash chain checked, the reviews, and the actions.
 */
import type { Kysely } from 'kysely';
import { FINISHED_STATUSES, type AlertStatus } from '../../alerts/alert.js';
import { RequestError } from '../../errors.js';
import { findAlert } from '../../store/queries/alerts.js';
import { auditTrailFor } from '../../store/queries/audit-trail.js';
import { reviewsOf } from '../../store/queries/reviews.js';
import type { AlertRow, AuditTrailRow, Database, ReviewRow } from '../../store/schema.js';
import { toReportRow, type ReportRow } from '../report.js';
import { MAX_NOTE_LENGTH } from './alert-actions.js';
import { alertLink, commandHtml, provenanceHtml, severityBadge, statusBadge, timeHtml } from './alert-html.js';
import { checkAlertTrail, type AlertTrailCheck } from './alert-trail-check.js';
import type { ConsoleSession } from './console-auth.js';
import { consolePage } from './console-page.js';
import { html, type Html } from './html.js';
import { suppressionForm } from './suppression-form.js';

/** How far around an alert "nearby" reaches, and how many are listed. */
const NEARBY_WINDOW_MS = 24 * 3_600_000;
const NEARBY_LIMIT = 20;
/** How many of a conversation's other alerts are listed. */
const CONVERSATION_LIMIT = 50;

/** What a page shows after an action redirected to it (`?done=`). */
const DONE_MESSAGES: Record<string, string> = {
  reviewed: 'Marked reviewed.',
  suppressed: 'Suppression created.',
  asked: 'Asked again: a new question is on its way to the owner.',
  assigned: 'Assignment recorded.',
};

export async function renderAlertPage(options: { db: Kysely<Database>; session: ConsoleSession; alertId: string; done: string | null; assignees: readonly string[] }): Promise<Html> {
  const { db, session, alertId } = options;
  const alert = await findAlert(db, alertId);
  if (!alert) throw new RequestError(404, `no alert ${alertId}`);
  const [trail, reviews, nearby, members] = await Promise.all([auditTrailFor(db, alertId), reviewsOf(db, alertId), nearbyAlerts(db, alert), conversationMembers(db, alert)]);
  const check = await checkAlertTrail(db, alertId, trail);
  const row = toReportRow(alert);
  const done = options.done !== null && Object.hasOwn(DONE_MESSAGES, options.done) ? DONE_MESSAGES[options.done] : undefined;
  const content = html`${done ? html`<p class="flash" role="status">${done}</p>` : ''}
<header class="alert-head">
  <p class="crumbs"><a href="/review">Queue</a> › alert <span class="alert-id">${row.id}</span></p>
  <h1>${row.rule_name}</h1>
  <p>${statusBadge(row.status)} ${severityBadge(row.severity)}${row.escalation_reason ? html` <span class="reason">${row.escalation_reason}</span>` : ''}</p>
</header>
<section class="panel" aria-labelledby="what-title">
  <h2 id="what-title">What ran</h2>
  <pre class="command-block">${commandHtml(row.command)}</pre>
  ${facts(row, assigneeOf(trail))}
</section>
${conversationSection(alert, members)}
<div class="columns">
<section class="panel" aria-labelledby="timeline-title">
  <h2 id="timeline-title">Timeline</h2>
  ${chainBadge(check)}
  ${timeline(trail)}
</section>
<section class="panel" aria-labelledby="actions-title">
  <h2 id="actions-title">Review</h2>
  ${reviewList(reviews)}
  ${actions(alert, session, options.assignees, assigneeOf(trail))}
</section>
</div>
<section class="panel" aria-labelledby="nearby-title">
  <h2 id="nearby-title">Nearby alerts</h2>
  <p class="hint">Other alerts of ${row.user ?? 'no owner'} or on ${row.host}, within a day either side.</p>
  ${nearbyList(nearby)}
</section>`;
  return consolePage({ title: `Alert ${row.id}`, identity: session.identity, section: 'queue' }, content);
}

/** A MITRE ATT&CK technique id links to its page; anything else is shown as text. */
function attackHtml(id: string): Html {
  const match = /^T(\d{4})(?:\.(\d{3}))?$/.exec(id);
  if (!match) return html`<span>${id}</span>`;
  const href = `https://attack.mitre.org/techniques/T${match[1]}/${match[2] ? `${match[2]}/` : ''}`;
  return html`<a href="${href}" rel="noreferrer noopener">${id}</a>`;
}

function fact(label: string, value: Html | string | null): Html {
  return html`<dt>${label}</dt><dd>${value === null || value === '' ? html`<span class="none">—</span>` : value}</dd>`;
}

function facts(row: ReportRow, assignee: string | null): Html {
  return html`<dl class="facts">
${fact('Who', row.user)}${fact('As', row.run_as)}${fact('Host', row.host)}${fact('Directory', row.cwd)}
${fact('When', timeHtml(row.occurred_at))}${fact('Times seen', String(row.occurrences))}
${fact('Provenance', provenanceHtml(row))}
${fact('Rule', html`<code>${row.rule}</code> ${row.rule_name}`)}
${fact('ATT&CK', row.attack.length === 0 ? null : html`${row.attack.map((id, index) => html`${index > 0 ? ', ' : ''}${attackHtml(id)}`)}`)}
${fact('Justification', row.justification === null ? null : html`<span class="justification">${row.justification}</span>`)}
${fact('Second factor', row.second_factor)}
${fact('Escalation', row.escalation_reason === null ? null : html`${row.escalation_reason}${row.escalation_detail ? html`: ${row.escalation_detail}` : ''}`)}
${fact('Resolved', row.resolved_at === null ? null : timeHtml(row.resolved_at))}
${fact('Assigned to', assignee)}
</dl>`;
}

/** The conversation the alert belongs to (one DM, one answer) and its other commands. */
function conversationSection(alert: AlertRow, members: readonly AlertRow[]): Html {
  const leads = alert.conversation_id === alert.id;
  const intro = members.length === 0
    ? 'This alert was asked about on its own.'
    : leads
      ? `This alert leads a conversation of ${members.length + 1} commands: one DM, one answer and one push for all of them.`
      : html`This alert belongs to the conversation led by ${alertLink(alert.conversation_id)}, which asked about ${members.length + 1} commands at once.`;
  return html`<section class="panel conversation" id="conversation" data-conversation-id="${alert.conversation_id}" aria-labelledby="conversation-title">
<h2 id="conversation-title">Conversation</h2>
<p class="hint">${intro}</p>
${members.length === 0 ? '' : html`<ul class="nearby" id="conversation-alerts">${members.map(
    (row) => html`<li>${timeHtml(row.occurred_at.toISOString())} ${statusBadge(row.status)} <span>${row.host}</span> ${alertLink(row.id, commandHtml(row.command, { short: true }))}</li>`,
  )}</ul>`}
</section>`;
}

/** The conversation's other alerts, oldest first. */
function conversationMembers(db: Kysely<Database>, alert: AlertRow): Promise<AlertRow[]> {
  return db
    .selectFrom('alerts')
    .selectAll()
    .where('conversation_id', '=', alert.conversation_id)
    .where('id', '!=', alert.id)
    .orderBy('occurred_at')
    .orderBy('id')
    .limit(CONVERSATION_LIMIT)
    .execute();
}

function chainBadge(check: AlertTrailCheck): Html {
  if (check.ok) return html`<p class="chain chain-ok" id="chain-check">✓ Hash chain verified (${check.steps} steps)</p>`;
  const where = check.brokenAt === null ? '' : ` at step ${check.brokenAt}`;
  return html`<p class="chain chain-broken" id="chain-check" role="alert">✗ Hash chain broken${where}: ${check.reason ?? 'unknown'}</p>`;
}

const ACTION_LABELS: Record<string, string> = {
  created: 'Created', asked: 'Asked the owner', reminded: 'Reminded', confirm_clicked: 'Owner said it was them', justified: 'Owner gave a reason',
  push_sent: 'Push sent', verified: 'Verified', escalated: 'Escalated', security_notified: 'Posted to the security channel',
  suppressed: 'Suppressed', reviewed: 'Reviewed', reopened: 'Re-opened (ask again)', assigned: 'Assigned', suppressed_similar: 'Suppression made from it',
  repeated: 'Seen again', left_conversation: 'Left its conversation', stale_answer_ignored: 'Click on an earlier round ignored', foreign_answer_ignored: 'Answer from someone else ignored', job_abandoned: 'Gave up on a job',
};

function detailHtml(detail: Record<string, unknown>): Html {
  const entries = Object.entries(detail).filter(([, value]) => value !== null && value !== undefined && value !== '');
  if (entries.length === 0) return html``;
  return html`<dl class="step-detail">${entries.map(([key, value]) => html`<dt>${key.replace(/_/g, ' ')}</dt><dd>${typeof value === 'string' ? value : JSON.stringify(value)}</dd>`)}</dl>`;
}

function timeline(trail: readonly AuditTrailRow[]): Html {
  if (trail.length === 0) return html`<p class="empty">No steps recorded.</p>`;
  return html`<ol class="timeline" id="timeline">${trail.map(
    (step) => html`<li data-action="${step.action}"><div class="step-head">${timeHtml(step.at.toISOString())} <strong>${ACTION_LABELS[step.action] ?? step.action}</strong> <span class="actor">by ${step.actor}</span></div>${detailHtml(step.detail)}</li>`,
  )}</ol>`;
}

/** The latest `assigned` step's assignee, or null. */
function assigneeOf(trail: readonly AuditTrailRow[]): string | null {
  for (let i = trail.length - 1; i >= 0; i -= 1) {
    const step = trail[i] as AuditTrailRow;
    if (step.action === 'assigned') return typeof step.detail.to === 'string' ? step.detail.to : null;
  }
  return null;
}

function reviewList(reviews: readonly ReviewRow[]): Html {
  if (reviews.length === 0) return html`<p class="empty" id="reviews">Not reviewed yet.</p>`;
  return html`<ul class="reviews" id="reviews">${reviews.map(
    (review) => html`<li>${timeHtml(review.at.toISOString())} <strong class="reviewer">${review.actor}</strong>${review.note ? html`: <span class="note">${review.note}</span>` : ''}</li>`,
  )}</ul>`;
}

function csrfField(session: ConsoleSession): Html {
  return html`<input type="hidden" name="csrf" value="${session.csrfToken}">`;
}

function actions(alert: AlertRow, session: ConsoleSession, assignees: readonly string[], current: string | null): Html {
  const base = `/review/alerts/${encodeURIComponent(alert.id)}`;
  const finished = FINISHED_STATUSES.includes(alert.status as AlertStatus);
  const review = finished
    ? html`<form method="post" action="${base}/review" class="action-form">${csrfField(session)}
<label for="review-note">Note</label><textarea id="review-note" name="note" rows="3" maxlength="${MAX_NOTE_LENGTH}"></textarea>
<button type="submit" class="button primary">Mark reviewed</button></form>`
    : html`<p class="hint">It can be reviewed once it is finished (verified, escalated or suppressed).</p>`;
  const askAgain = finished && alert.owner !== null
    ? html`<form method="post" action="${base}/ask-again" class="action-form inline-form" data-confirm="Ask ${alert.owner} again about this command?">${csrfField(session)}
<button type="submit" class="button">Ask again</button></form>`
    : '';
  // The person it is with now first, else the reviewer looking at it.
  const chosen = (current ?? session.identity.actor).toLowerCase();
  const assign = html`<form method="post" action="${base}/assign" class="action-form inline-form">${csrfField(session)}
<label for="assign-to">Assign to</label><select id="assign-to" name="to">
<option value="">Nobody</option>
${assignees.map((person) => html`<option value="${person}"${person.toLowerCase() === chosen ? html` selected` : ''}>${person}</option>`)}
</select>
<button type="submit" class="button">Assign</button></form>`;
  const suppress = session.identity.admin
    ? html`<details class="suppress" id="suppress-similar"><summary>Suppress similar</summary>
${suppressionForm({ action: '/review/suppressions', csrfToken: session.csrfToken, rule: alert.rule_id, user: alert.owner, host: alert.host, command: alert.command, fromAlert: alert.id })}</details>`
    : html`<p class="hint">Only admins can suppress similar alerts.</p>`;
  return html`${review}${askAgain}${assign}${suppress}`;
}

async function nearbyAlerts(db: Kysely<Database>, alert: AlertRow): Promise<AlertRow[]> {
  const from = new Date(alert.occurred_at.getTime() - NEARBY_WINDOW_MS);
  const to = new Date(alert.occurred_at.getTime() + NEARBY_WINDOW_MS);
  return db
    .selectFrom('alerts')
    .selectAll()
    .where('id', '!=', alert.id)
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<=', to)
    .where((eb) => (alert.owner === null ? eb('host', '=', alert.host) : eb.or([eb('owner', '=', alert.owner), eb('host', '=', alert.host)])))
    .orderBy('occurred_at', 'desc')
    .limit(NEARBY_LIMIT)
    .execute();
}

function nearbyList(rows: readonly AlertRow[]): Html {
  if (rows.length === 0) return html`<p class="empty">None.</p>`;
  return html`<ul class="nearby" id="nearby">${rows.map(
    (row) => html`<li>${timeHtml(row.occurred_at.toISOString())} ${statusBadge(row.status)} <span>${row.owner ?? '—'}@${row.host}</span> ${alertLink(row.id, commandHtml(row.command, { short: true }))}</li>`,
  )}</ul>`;
}
