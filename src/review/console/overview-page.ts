/** The overview (GET /review/overview?days=30): what a reviewer would rather look at than read. */
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import { RequestError } from '../../errors.js';
import type { Database } from '../../store/schema.js';
import type { ReviewerIdentity } from './console-auth.js';
import { consolePage } from './console-page.js';
import { html, queryString, type Html } from './html.js';
import { TUNING_MIN_HITS, TUNING_MIN_VERIFIED_SHARE, overviewStats } from './overview-stats.js';
import { horizontalBars, stackedBarChart } from './svg-charts.js';

const PERIODS = [7, 30, 90] as const;
const MAX_DAYS = 366;

const OUTCOMES = [
  { key: 'verified', label: 'verified' },
  { key: 'escalated', label: 'escalated' },
  { key: 'suppressed', label: 'suppressed' },
  { key: 'open', label: 'still open' },
];

export function overviewDays(url: URL): number {
  for (const key of url.searchParams.keys()) if (key !== 'days') throw new RequestError(400, `${key}: unknown parameter; the overview takes days`);
  const text = url.searchParams.get('days');
  const days = text === null || text === '' ? 30 : Number(text);
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw new RequestError(400, `days: a whole number from 1 to ${MAX_DAYS}`);
  return days;
}

const DAY_MS = 86_400_000;

/**
 * "The last N days": N whole UTC days ending with today (so far), so the chart draws N bars, its
 * first bar holds its whole day, and every figure counts the same days. `since` is the first
 * day's midnight, `until` the next midnight after today (exclusive).
 */
export function overviewRange(days: number, now: Date): { since: Date; until: Date; firstDay: string; lastDay: string } {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const since = new Date(today - (days - 1) * DAY_MS);
  return { since, until: new Date(today + DAY_MS), firstDay: since.toISOString().slice(0, 10), lastDay: new Date(today).toISOString().slice(0, 10) };
}

/** A span such as `42s`, `3m 05s` or `2h 10m`. */
export function spanText(value: number | null): string {
  if (value === null) return '—';
  const total = Math.round(value);
  if (total < 60) return `${total}s`;
  if (total < 3600) return `${Math.floor(total / 60)}m ${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(total / 3600)}h ${String(Math.floor((total % 3600) / 60)).padStart(2, '0')}m`;
}

export async function renderOverviewPage(options: { db: Kysely<Database>; clock: Clock; identity: ReviewerIdentity; url: URL }): Promise<Html> {
  const days = overviewDays(options.url);
  const { since, until, firstDay, lastDay } = overviewRange(days, options.clock.now());
  const stats = await overviewStats(options.db, since, until);
  const bars = stats.days.map((day) => {
    const open = Object.entries(day.byStatus).filter(([status]) => !['verified', 'escalated', 'suppressed'].includes(status)).reduce((sum, [, count]) => sum + count, 0);
    return { label: day.day, values: { ...day.byStatus, open } };
  });
  const periodLinks = PERIODS.map((period) => html`<a href="/review/overview?days=${period}"${period === days ? html` aria-current="page"` : ''}>${period} days</a>`);
  const content = html`<h1>Overview</h1>
<p class="periods">Last ${days === 1 ? 'day' : `${days} days`}: <span id="overview-range">${days === 1 ? lastDay : `${firstDay} to ${lastDay}`}</span> (UTC, today so far) · ${periodLinks}</p>
<div class="overview-grid">
<section class="panel wide" aria-labelledby="per-day-title"><h2 id="per-day-title">Alerts per day by outcome</h2>
${stackedBarChart({ title: 'Alerts per day', bars, series: OUTCOMES })}</section>
<section class="panel" aria-labelledby="answer-title"><h2 id="answer-title">Time to answer</h2>
<dl class="figures"><dt>Median</dt><dd id="answer-median">${spanText(stats.answerMedianSeconds)}</dd><dt>90th percentile</dt><dd id="answer-p90">${spanText(stats.answerP90Seconds)}</dd><dt>Answered</dt><dd>${stats.answered}</dd></dl>
<p class="hint">From the question in Slack to the owner's answer, once per conversation (one question may cover several commands).</p></section>
<section class="panel" aria-labelledby="reasons-title"><h2 id="reasons-title">Escalations by reason</h2>
<p class="hint">Conversations escalated: one question about several commands escalates once.</p>
${horizontalBars(stats.escalationsByReason.map((row) => ({ label: row.key, value: row.count, href: `/review${queryString({ status: 'escalated', reason: row.key === 'unknown' ? null : row.key, since: firstDay })}` })))}</section>
<section class="panel" aria-labelledby="rules-title"><h2 id="rules-title">Noisiest rules</h2>
<p class="hint">Alerts per rule: every command counts.</p>
${horizontalBars(stats.noisiestRules.map((row) => ({ label: row.key, value: row.count, href: `/review${queryString({ rule: row.key, since: firstDay })}` })))}</section>
<section class="panel" aria-labelledby="people-title"><h2 id="people-title">Noisiest people</h2>
<p class="hint">Conversations per person: one question about several commands counts once.</p>
${horizontalBars(stats.noisiestPeople.map((row) => ({ label: row.key, value: row.count, href: `/review${queryString({ user: row.key, since: firstDay })}` })))}</section>
<section class="panel wide" aria-labelledby="tuning-title"><h2 id="tuning-title">Almost always vouched for</h2>
<p class="hint">Rules with at least ${TUNING_MIN_HITS} hits of which ${Math.round(TUNING_MIN_VERIFIED_SHARE * 100)}% or more were verified: candidates for a rule exception, or a suppression for now.</p>
${stats.tuning.length === 0 ? html`<p class="empty">None in this period.</p>` : html`<ul class="tuning" id="tuning">${stats.tuning.map(
    (row) => html`<li><code>${row.rule}</code>: ${row.verified} of ${row.hits} verified · <a href="/review/suppress${queryString({ rule: row.rule })}">Suppress…</a></li>`,
  )}</ul>`}</section>
</div>`;
  return consolePage({ title: 'Overview', identity: options.identity, section: 'overview' }, content);
}
