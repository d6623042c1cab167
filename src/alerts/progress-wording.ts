/**
 * Where an alert's question stands, in sentences: why it is not asked yet, the reminders, the
 * escalation contact, a critical alert's heads-up and page, its conversation, why it escalated and
 * how far its attribution can be trusted. The sandbox page shows these beside each alert, so a
 * newcomer can follow an engine that is quiet by design. Plain text: renderers escape for their
 * medium, and command previews here are attacker-controlled text like any command.
 */
import { describeProvenance, type Provenance } from '../sources/provenance.js';
import type { AlertStatus, EscalationReason } from './alert.js';
import { alertShortCode } from './short-code.js';
import { escalationReasonText, humanDuration, plural, secondFactorSentence } from './wording.js';

/** Which fact a note tells; the page marks each note with it. */
export type ProgressKind = 'waiting' | 'reminders' | 'next-step' | 'contact' | 'heads-up' | 'page' | 'conversation' | 'escalation' | 'provenance';

export interface ProgressNote {
  kind: ProgressKind;
  text: string;
}

/** Another alert a note points at (a conversation's lead, or the open question ahead). */
export interface QuestionRef {
  id: string;
  command: string;
  host: string;
}

/** The ladder steps that wait on a question that is asked and not answered. */
export type LadderStepKind = 'remind' | 'contact' | 'deadline';

/** What the store knows of one alert's progress; absent facts are null. */
export interface ProgressFacts {
  id: string;
  status: AlertStatus;
  owner: string | null;
  /** The owner's time zone when Vouch knows it; times are shown in it, else in UTC. */
  timeZone: string | null;
  /** On a conversation's lead (of more than one alert): how many alerts on how many hosts. */
  conversation: { size: number; hostCount: number } | null;
  /** On a member: the conversation's lead. */
  partOf: QuestionRef | null;
  /** Held for working hours: until when, the setting and the zone recorded with the decision. */
  deferral: { until: Date; workingHours: string | null; timeZone: string | null } | null;
  /** The owner's open question this one waits behind (one question at a time per person). */
  waitingBehind: QuestionRef | null;
  remindersSent: number;
  lastReminderAt: Date | null;
  /** The earliest ladder step scheduled, while the question is asked. */
  nextStep: { kind: LadderStepKind; at: Date } | null;
  /** Who was told between the reminders and the channel: `who` names the manager or the group. */
  contact: { kind: 'manager' | 'user_group'; who: string; at: Date } | null;
  /** Why the contact was not told (no manager known), when it was skipped. */
  contactSkipped: string | null;
  /** A critical alert's heads-up in the security channel. */
  headsUp: { at: Date | null; outcomePosted: boolean } | null;
  page: { triggeredAt: Date; resolvedAt: Date | null } | null;
  escalationReason: EscalationReason | null;
  escalationDetail: string | null;
  secondFactor: string | null;
  /** Null for alerts raised before provenance was kept. */
  provenance: Provenance | null;
}

/** Command previews inside a sentence stay short; the full command is beside them on the page. */
const PREVIEW_LENGTH = 60;

/** The notes for one alert, in the order a reader follows the question: wait, ladder, outcome, trust. */
export function progressNotes(facts: ProgressFacts, now: Date): ProgressNote[] {
  const zone = facts.timeZone ?? 'UTC';
  const notes: Array<ProgressNote | null> = [
    waitingNote(facts, now),
    facts.remindersSent > 0 ? { kind: 'reminders', text: remindersText(facts.remindersSent, facts.lastReminderAt, zone) } : null,
    facts.status === 'asked' && facts.nextStep ? { kind: 'next-step', text: nextStepText(facts.nextStep, facts.remindersSent, zone, now) } : null,
    contactNote(facts, zone),
    facts.headsUp ? { kind: 'heads-up', text: headsUpText(facts.headsUp, zone) } : null,
    facts.page ? { kind: 'page', text: pageText(facts.page, zone) } : null,
    conversationNote(facts),
    facts.status === 'escalated' ? { kind: 'escalation', text: escalationText(facts) } : null,
    { kind: 'provenance', text: provenanceText(facts.provenance) },
  ];
  return notes.filter((note): note is ProgressNote => note !== null);
}

/** Why a question is not asked yet: the person's working hours, or their other open question. */
function waitingNote(facts: ProgressFacts, now: Date): ProgressNote | null {
  if (facts.status !== 'new' || facts.partOf) return null;
  const who = facts.owner ?? 'the owner';
  const deferral = facts.deferral;
  if (deferral && deferral.until.getTime() > now.getTime()) {
    const hours = deferral.workingHours ? ` (${deferral.workingHours})` : '';
    const when = zonedTimeText(deferral.until, deferral.timeZone ?? facts.timeZone ?? 'UTC');
    return { kind: 'waiting', text: `Not asked yet: waiting for ${who}'s working hours${hours}; asked ${when} (${inTime(deferral.until, now)})` };
  }
  if (facts.waitingBehind) {
    return { kind: 'waiting', text: `Not asked yet: waiting behind ${who}'s open ${questionText(facts.waitingBehind)}; Vouch asks one question at a time` };
  }
  return null;
}

function remindersText(sent: number, lastAt: Date | null, zone: string): string {
  const count = sent === 1 ? '1 reminder sent' : `${sent} reminders sent`;
  return lastAt ? `${count}, the last ${zonedTimeText(lastAt, zone)}` : count;
}

function nextStepText(step: { kind: LadderStepKind; at: Date }, remindersSent: number, zone: string, now: Date): string {
  const when = `${zonedTimeText(step.at, zone)} (${inTime(step.at, now)})`;
  switch (step.kind) {
    case 'remind':
      return `Next: reminder ${remindersSent + 1} ${when}`;
    case 'contact':
      return `Next: the escalation contact is told ${when}`;
    case 'deadline':
      return `Next: escalated to the security team ${when} if still unanswered`;
  }
}

function contactNote(facts: ProgressFacts, zone: string): ProgressNote | null {
  const contact = facts.contact;
  if (contact) {
    const who = contact.kind === 'manager' ? `manager ${contact.who}, by direct message` : `user group ${contact.who}, in the security channel`;
    return { kind: 'contact', text: `Escalation contact told: ${who}, ${zonedTimeText(contact.at, zone)}` };
  }
  return facts.contactSkipped ? { kind: 'contact', text: `Escalation contact not told: ${facts.contactSkipped}` } : null;
}

function headsUpText(headsUp: { at: Date | null; outcomePosted: boolean }, zone: string): string {
  const when = headsUp.at ? ` ${zonedTimeText(headsUp.at, zone)}` : '';
  const outcome = headsUp.outcomePosted ? '; the outcome is in its thread' : '';
  return `Critical: heads-up posted in the security channel${when}${outcome}`;
}

function pageText(page: { triggeredAt: Date; resolvedAt: Date | null }, zone: string): string {
  const triggered = `PagerDuty incident triggered ${zonedTimeText(page.triggeredAt, zone)}`;
  return page.resolvedAt ? `${triggered}; resolved ${zonedTimeText(page.resolvedAt, zone)}, after review` : `${triggered}; open until a reviewer marks the alert reviewed`;
}

function conversationNote(facts: ProgressFacts): ProgressNote | null {
  if (facts.partOf) return { kind: 'conversation', text: `Part of ${questionText(facts.partOf)}` };
  const conversation = facts.conversation;
  if (!conversation || conversation.size < 2) return null;
  return { kind: 'conversation', text: `${conversation.size} commands on ${plural(conversation.hostCount, 'host')}, asked as one question` };
}

function escalationText(facts: ProgressFacts): string {
  const reason =
    facts.escalationReason === 'second_factor_failed'
      ? `${escalationReasonText(facts.escalationReason)}: ${secondFactorSentence(facts.secondFactor)}`
      : escalationReasonText(facts.escalationReason);
  return facts.escalationDetail ? `Escalated: ${reason} (${facts.escalationDetail})` : `Escalated: ${reason}`;
}

/** How far "who ran it" can be trusted, from the record that raised the alert. */
export function provenanceText(provenance: Provenance | null): string {
  if (!provenance) return 'Attribution: not recorded (raised before Vouch kept provenance)';
  const caution = provenance.forgeable ? '; the user named is only a claim' : '';
  return `Attribution: ${describeProvenance(provenance)}${caution}`;
}

/** "question KXTP (cat /etc/shadow on db-1)": the code the DM and the Duo push show. */
export function questionText(ref: QuestionRef): string {
  const command = ref.command.length > PREVIEW_LENGTH ? `${ref.command.slice(0, PREVIEW_LENGTH)}…` : ref.command;
  return `question ${alertShortCode(ref.id)} (${command} on ${ref.host})`;
}

/** "Tue 24 Nov, 09:00 America/New_York": a moment as the clock on the person's wall shows it. */
export function zonedTimeText(at: Date, timeZone: string): string {
  let zone = timeZone;
  let format: Intl.DateTimeFormat;
  try {
    format = wallClock(zone);
  } catch {
    // A zone this runtime does not know (chat said something odd): UTC, and saying so.
    zone = 'UTC';
    format = wallClock(zone);
  }
  return `${format.format(at)} ${zone}`;
}

function wallClock(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}

/** "in 30 minutes": to the minute once a minute away, since the page re-reads it every second. */
function inTime(at: Date, now: Date): string {
  const ms = at.getTime() - now.getTime();
  if (ms < 1000) return 'due now';
  return `in ${humanDuration(ms < 60_000 ? ms : Math.round(ms / 60_000) * 60_000)}`;
}
