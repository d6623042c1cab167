/** The alert lifecycle's vocabulary, shared by the store, the workflow, chat rendering and reports. */
import type { Provenance } from '../sources/provenance.js';

/** `new` is internal: the alert exists but its owner has not been messaged yet. */
export const ALERT_STATUSES = ['new', 'asked', 'verifying', 'verified', 'escalated', 'suppressed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Statuses that end an alert's conversation. */
export const FINISHED_STATUSES: readonly AlertStatus[] = ['verified', 'escalated', 'suppressed'];

export const ESCALATION_REASONS = [
  'denied_by_user',
  'no_response',
  'second_factor_failed',
  'unknown_owner',
  /** Vouch could not reach the person (a DM, reminder or push kept failing): a human must. */
  'delivery_failed',
  /** The owner answered the push with "Report fraud": pushes to them pause until a reviewer resumes. */
  'fraud_reported',
  /** A push was due, but pushes to this Duo account are paused after a fraud report. */
  'second_factor_paused',
  /** No login user (a system process): listed in the security channel's digest, not posted alone. */
  'system_actor',
] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * What chat messages and reports show of an alert. `command` is already redacted but NOT escaped:
 * each renderer escapes for its own medium (Slack mrkdwn, HTML, CSV).
 */
/** What a conversation of several commands holds, as its DM and channel post list it. */
export interface ConversationSummary {
  /** Alerts in the conversation, the lead included. */
  size: number;
  /** The first few distinct commands (redacted, not escaped). */
  commands: string[];
  /** Distinct hosts, the first few; `hostCount` says how many in all. */
  hosts: string[];
  hostCount: number;
}

export interface AlertView {
  id: string;
  /** Which round of questions (0, then one more at each "Ask again"); absent: 0. */
  round?: number;
  /** Set when the alert leads a conversation of more than one command. */
  conversation?: ConversationSummary | null;
  /**
   * A critical heads-up of a conversation whose critical hit is not its lead (a reverse shell
   * that joined a tcpdump question): that hit's rule, command and host, which the heads-up names.
   */
  criticalHit?: { ruleName: string; command: string; host: string } | null;
  status: AlertStatus;
  /** The login user the alert is about (null: a system actor). */
  owner: string | null;
  host: string;
  command: string;
  runAs: string | null;
  cwd: string | null;
  occurredAt: Date;
  /** When Vouch raised it (read the command): later than occurredAt for a backlog or a replayed log. */
  raisedAt?: Date;
  ruleId: string;
  ruleName: string;
  severity: Severity;
  /** MITRE ATT&CK technique ids, e.g. T1003.008. */
  attack: string[];
  /** How many identical commands were folded into this alert. */
  occurrences: number;
  justification: string | null;
  /** The second factor's result: allow, deny, fraud, timeout, no_device, error; null before a push. */
  secondFactor: string | null;
  escalationReason: EscalationReason | null;
  /** Human-readable detail for an escalation (e.g. "Duo unreachable: ECONNREFUSED"). */
  escalationDetail: string | null;
  resolvedAt: Date | null;
  /**
   * How far the event's attribution can be trusted; null (or absent) for alerts raised before it
   * was kept.
   */
  provenance?: Provenance | null;
}

/** Bounds for an owner's justification, shared by the chat form and the workflow's check. */
export const JUSTIFICATION_LENGTH = { min: 10, max: 1000 } as const;
