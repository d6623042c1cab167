import { createHash } from 'node:crypto';
import type { AlertStatus, Severity } from '../alerts/alert.js';
import type { CommandEvent } from '../sources/command-event.js';
import type { TrustLevel } from '../sources/provenance.js';

/** What grouping needs of a conversation: its lead alert and what its members share. */
export interface ConversationLead {
  id: string;
  status: AlertStatus;
  /** The conversation's severity: its most severe hit (the lead's row carries it). */
  severity: Severity;
  /** When the lead was verified or escalated. */
  resolvedAt: Date | null;
  /** When a hit last joined. */
  lastJoinedAt: Date;
  shapeKey: string | null;
  /** Session keys of every member. */
  sessions: Set<string>;
  /** Members by dedupe key (identical commands fold into them). */
  members: Map<string, { id: string; occurrences: number }>;
  /** The exact commands of its members (person, rule, command line), whatever host they ran on. */
  commands: Set<string>;
  /** The hosts its members ran on. */
  hosts: Set<string>;
  /** How far its members' attribution can be trusted (its lead's; every member has the same). */
  trust: TrustLevel;
}

export interface GroupingPolicy {
  /** A fleet deploy: the same command shape on other hosts within this long of the last hit. */
  fleetWindowMs: number;
  /** A verification covers the same session for this long after it. */
  reuseWindowMs: number;
  /** Repeats of an escalated conversation fold into it within this long of its last hit. */
  dedupeWindowMs: number;
}

export interface HitKeys {
  dedupeKey: string;
  host: string;
  /** Person, rule and command line, without the host: the same command run across a fleet. */
  commandKey: string;
  sessionKey: string | null;
  shapeKey: string;
  /** The rule must be asked about every time (critical rules by default). */
  alwaysAsk: boolean;
  /** How far the hit's attribution can be trusted. */
  trust: TrustLevel;
}

/**
 * Where a hit goes:
 * - `join`: an open conversation (not yet verified) of the same person: the same session, the
 *   same command shape within the fleet window, or any of theirs still waiting to be asked (what
 *   arrives while a question waits joins it);
 * - `repeat`: an escalated conversation it repeats (same session or shape, within the window):
 *   no new question, a note in the escalation's thread;
 * - `covered`: a conversation the person verified, for a rule that is not `always_ask`: in the same
 *   session within the reuse window from the verification, or the very same command line on
 *   another host within the fleet window of the conversation's last hit (a deploy still rolling
 *   out when its owner answered);
 * - `new`: a conversation of its own (it waits behind the person's open question, if any).
 *
 * Only conversations of the hit's own trust level are considered: a line any local user could
 * have written in someone's name never joins (or is covered by) a conversation of kernel records,
 * where the question would show it under their provenance and one answer would vouch for both.
 */
export type Placement = { kind: 'join' | 'repeat' | 'covered'; lead: ConversationLead } | { kind: 'new' };

export function placeHit(everyLead: readonly ConversationLead[], hit: HitKeys, now: Date, policy: GroupingPolicy): Placement {
  const leads = everyLead.filter((lead) => lead.trust === hit.trust);
  const at = now.getTime();
  const sameSession = (lead: ConversationLead) => hit.sessionKey !== null && lead.sessions.has(hit.sessionKey);
  const sameShape = (lead: ConversationLead, windowMs: number) => lead.shapeKey === hit.shapeKey && at - lead.lastJoinedAt.getTime() <= windowMs;
  // Verifying counts as open: what joins while the push is out is settled when it is answered
  // (covered as a verification covers a new hit, or asked next; Workflow.settleLateMembers).
  const open = leads.filter((lead) => lead.status === 'new' || lead.status === 'asked' || lead.status === 'verifying');
  // The very same command again joins its open conversation however old it is.
  const joined =
    open.find((lead) => lead.members.has(hit.dedupeKey)) ?? open.find(sameSession) ?? open.find((lead) => sameShape(lead, policy.fleetWindowMs));
  if (joined) return { kind: 'join', lead: joined };
  const escalated = leads.find(
    (lead) => lead.status === 'escalated' && at - lead.lastJoinedAt.getTime() <= policy.dedupeWindowMs && (sameSession(lead) || sameShape(lead, policy.dedupeWindowMs)),
  );
  if (escalated) return { kind: 'repeat', lead: escalated };
  if (!hit.alwaysAsk) {
    const covering = leads.find(
      (lead) =>
        lead.status === 'verified' &&
        lead.resolvedAt !== null &&
        ((at - lead.resolvedAt.getTime() <= policy.reuseWindowMs && sameSession(lead)) ||
          (lead.commands.has(hit.commandKey) && !lead.hosts.has(hit.host) && at - lead.lastJoinedAt.getTime() <= policy.fleetWindowMs)),
    );
    if (covering) return { kind: 'covered', lead: covering };
  }
  const waiting = open.find((lead) => lead.status === 'new');
  if (waiting) return { kind: 'join', lead: waiting };
  return { kind: 'new' };
}

/**
 * The session a command ran in, qualified by host: auditd's `ses` (the login session, inherited
 * through sudo), else the terminal sudo names. Null when the log says neither.
 */
export function sessionKeyOf(event: CommandEvent): string | null {
  const ses = event.extra?.ses;
  if (ses !== undefined && ses !== '' && ses !== '4294967295' && ses !== 'unset') return `${event.host} ses:${ses}`;
  const tty = event.extra?.tty ?? event.extra?.terminal;
  if (tty !== undefined && tty !== '' && tty !== 'unknown' && tty !== '(none)') return `${event.host} tty:${tty}`;
  return null;
}

/** Person, rule and program: what one command run across a fleet shares on every host. */
export function shapeKeyOf(event: CommandEvent, ruleId: string): string {
  const program = (event.argv[0] ?? '').split('/').pop() ?? '';
  return createHash('sha256').update([event.user ?? '(system)', ruleId, program].join('\0')).digest('hex');
}

/** Person, rule and exact command line: the same command on every host of a fleet deploy. */
export function commandKeyOf(user: string | null, ruleId: string, command: string): string {
  return createHash('sha256').update([user ?? '(system)', ruleId, command].join('\0')).digest('hex');
}
