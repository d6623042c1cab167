import { describe, expect, it } from 'vitest';
import { progressNotes, provenanceText, questionText, zonedTimeText, type ProgressFacts } from '../../src/alerts/progress-wording.js';
import { alertShortCode } from '../../src/alerts/short-code.js';

const NOW = new Date('2026-11-24T09:00:00Z');
const SHADOW = { id: 'al_lead', command: 'cat /etc/shadow', host: 'db-1' };
const KERNEL = { format: 'auditd', attribution: 'kernel', forgeable: false, transport: 'file', hostBinding: null } as const;

function facts(overrides: Partial<ProgressFacts> = {}): ProgressFacts {
  return {
    id: 'al_one',
    status: 'asked',
    owner: 'alice',
    timeZone: null,
    conversation: null,
    partOf: null,
    deferral: null,
    waitingBehind: null,
    remindersSent: 0,
    lastReminderAt: null,
    nextStep: null,
    contact: null,
    contactSkipped: null,
    headsUp: null,
    page: null,
    escalationReason: null,
    escalationDetail: null,
    secondFactor: null,
    provenance: KERNEL,
    ...overrides,
  };
}

const textOf = (all: ReturnType<typeof progressNotes>, kind: string) => all.filter((note) => note.kind === kind).map((note) => note.text);

describe('progress wording', () => {
  it("says a question waits for the person's working hours, until when in their time zone", () => {
    const notes = progressNotes(
      facts({ status: 'new', deferral: { until: new Date('2026-11-24T14:00:00Z'), workingHours: '09:00-18:00 Mon-Fri', timeZone: 'America/New_York' } }),
      NOW,
    );
    expect(textOf(notes, 'waiting')).toEqual([
      "Not asked yet: waiting for alice's working hours (09:00-18:00 Mon-Fri); asked Tue 24 Nov, 09:00 America/New_York (in 5 hours)",
    ]);
  });

  it('names the open question a new one waits behind, by the code its DM shows', () => {
    const notes = progressNotes(facts({ status: 'new', waitingBehind: SHADOW }), NOW);
    expect(textOf(notes, 'waiting')).toEqual([
      `Not asked yet: waiting behind alice's open question ${alertShortCode('al_lead')} (cat /etc/shadow on db-1); Vouch asks one question at a time`,
    ]);
  });

  it('says nothing about waiting once the morning has come or the question is out', () => {
    const past = { until: new Date('2026-11-24T08:00:00Z'), workingHours: null, timeZone: null };
    expect(textOf(progressNotes(facts({ status: 'new', deferral: past }), NOW), 'waiting')).toEqual([]);
    expect(textOf(progressNotes(facts({ status: 'asked', waitingBehind: SHADOW }), NOW), 'waiting')).toEqual([]);
  });

  it('counts reminders and says when the next step of the ladder is due', () => {
    const notes = progressNotes(
      facts({ remindersSent: 2, lastReminderAt: new Date('2026-11-24T08:30:00Z'), nextStep: { kind: 'contact', at: new Date('2026-11-24T09:30:00Z') } }),
      NOW,
    );
    expect(textOf(notes, 'reminders')).toEqual(['2 reminders sent, the last Tue 24 Nov, 08:30 UTC']);
    expect(textOf(notes, 'next-step')).toEqual(['Next: the escalation contact is told Tue 24 Nov, 09:30 UTC (in 30 minutes)']);
    const first = progressNotes(facts({ remindersSent: 1, timeZone: 'Europe/Paris', nextStep: { kind: 'remind', at: NOW } }), NOW);
    expect(textOf(first, 'reminders')).toEqual(['1 reminder sent']);
    expect(textOf(first, 'next-step')).toEqual(['Next: reminder 2 Tue 24 Nov, 10:00 Europe/Paris (due now)']);
    const soon = progressNotes(facts({ nextStep: { kind: 'remind', at: new Date(NOW.getTime() + 29 * 60_000 + 55_000) } }), NOW);
    expect(textOf(soon, 'next-step')).toEqual(['Next: reminder 1 Tue 24 Nov, 09:29 UTC (in 30 minutes)']);
    const deadline = progressNotes(facts({ nextStep: { kind: 'deadline', at: new Date('2026-11-24T11:00:00Z') } }), NOW);
    expect(textOf(deadline, 'next-step')).toEqual(['Next: escalated to the security team Tue 24 Nov, 11:00 UTC (in 2 hours) if still unanswered']);
    // A step still scheduled for an answered question is not "next".
    expect(textOf(progressNotes(facts({ status: 'verifying', nextStep: { kind: 'deadline', at: NOW } }), NOW), 'next-step')).toEqual([]);
  });

  it('names the escalation contact told, manager or user group, and a skipped one', () => {
    const at = new Date('2026-11-24T08:45:00Z');
    expect(textOf(progressNotes(facts({ contact: { kind: 'manager', who: '@bob', at } }), NOW), 'contact')).toEqual([
      'Escalation contact told: manager @bob, by direct message, Tue 24 Nov, 08:45 UTC',
    ]);
    expect(textOf(progressNotes(facts({ contact: { kind: 'user_group', who: 'S0ONCALL', at } }), NOW), 'contact')).toEqual([
      'Escalation contact told: user group S0ONCALL, in the security channel, Tue 24 Nov, 08:45 UTC',
    ]);
    expect(textOf(progressNotes(facts({ contactSkipped: 'no manager configured for alice' }), NOW), 'contact')).toEqual([
      'Escalation contact not told: no manager configured for alice',
    ]);
  });

  it("tells a critical alert's heads-up and its PagerDuty incident", () => {
    const notes = progressNotes(
      facts({
        status: 'escalated',
        escalationReason: 'no_response',
        escalationDetail: 'no answer within 2 hours',
        headsUp: { at: new Date('2026-11-24T07:00:00Z'), outcomePosted: true },
        page: { triggeredAt: new Date('2026-11-24T08:00:00Z'), resolvedAt: null },
      }),
      NOW,
    );
    expect(textOf(notes, 'heads-up')).toEqual(['Critical: heads-up posted in the security channel Tue 24 Nov, 07:00 UTC; the outcome is in its thread']);
    expect(textOf(notes, 'page')).toEqual(['PagerDuty incident triggered Tue 24 Nov, 08:00 UTC; open until a reviewer marks the alert reviewed']);
    expect(textOf(notes, 'escalation')).toEqual(['Escalated: No answer from the owner (no answer within 2 hours)']);
    const resolved = progressNotes(facts({ page: { triggeredAt: new Date('2026-11-24T08:00:00Z'), resolvedAt: NOW } }), NOW);
    expect(textOf(resolved, 'page')).toEqual(['PagerDuty incident triggered Tue 24 Nov, 08:00 UTC; resolved Tue 24 Nov, 09:00 UTC, after review']);
  });

  it('tells a conversation lead how many commands on how many hosts, and a member which conversation', () => {
    expect(textOf(progressNotes(facts({ conversation: { size: 3, hostCount: 1 } }), NOW), 'conversation')).toEqual(['3 commands on 1 host, asked as one question']);
    expect(textOf(progressNotes(facts({ conversation: { size: 1, hostCount: 1 } }), NOW), 'conversation')).toEqual([]);
    const member = progressNotes(facts({ status: 'new', partOf: SHADOW, waitingBehind: SHADOW }), NOW);
    expect(textOf(member, 'conversation')).toEqual([`Part of question ${alertShortCode('al_lead')} (cat /etc/shadow on db-1)`]);
    // The lead explains the wait; the member only points at it.
    expect(textOf(member, 'waiting')).toEqual([]);
  });

  it('puts escalation reasons and second-factor results into words', () => {
    const failed = progressNotes(facts({ status: 'escalated', escalationReason: 'second_factor_failed', secondFactor: 'deny' }), NOW);
    expect(textOf(failed, 'escalation')).toEqual(['Escalated: Second factor failed: the Duo push was denied']);
    expect(textOf(progressNotes(facts({ status: 'escalated', escalationReason: 'denied_by_user' }), NOW), 'escalation')).toEqual(['Escalated: Owner says it was not them']);
  });

  it('says how far attribution can be trusted', () => {
    expect(provenanceText(KERNEL)).toBe('Attribution: auditd (kernel record)');
    expect(provenanceText({ format: 'sudo', attribution: 'syslog-unverified', forgeable: true, transport: 'file', hostBinding: null })).toBe(
      'Attribution: sudo syslog — any local user can write this log; the user named is only a claim',
    );
    expect(provenanceText(null)).toBe('Attribution: not recorded (raised before Vouch kept provenance)');
    expect(progressNotes(facts(), NOW)).toEqual([{ kind: 'provenance', text: 'Attribution: auditd (kernel record)' }]);
  });

  it('keeps previews short and falls back to UTC for a zone the runtime does not know', () => {
    const long = questionText({ id: 'al_x', command: `echo ${'a'.repeat(200)}`, host: 'h' });
    expect(long).toMatch(/^question [A-Z0-9]{4} \(echo a+… on h\)$/);
    expect(long.length).toBeLessThan(90);
    expect(zonedTimeText(NOW, 'Mars/Olympus')).toBe('Tue 24 Nov, 09:00 UTC');
  });
});
