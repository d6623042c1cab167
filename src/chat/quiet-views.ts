/**
 * What the security channel is told besides escalations: the digest of system-actor alerts and
 * pipeline health notices. Plain data, not escaped: hosts and commands are attacker-controlled,
 * and each renderer escapes for its own medium.
 */
import type { Severity } from '../alerts/alert.js';

/** One line of a digest: identical commands on one host under one rule. */
export interface DigestLine {
  host: string;
  ruleName: string;
  severity: Severity;
  /** Redacted, not escaped. */
  command: string;
  runAs: string | null;
  /** Alerts this line stands for, and the commands they counted (folded repeats included). */
  alerts: number;
  runs: number;
  firstAt: Date;
  lastAt: Date;
}

/** One period's digest of commands that ran with no login user. */
export interface SystemDigestView {
  cadence: 'daily' | 'hourly';
  startsAt: Date;
  endsAt: Date;
  /** Alerts listed in the period, all of them (lines may show fewer). */
  total: number;
  /** Commands they counted. */
  runs: number;
  /** The most frequent lines, at most a screenful. */
  lines: DigestLine[];
}

/** The kinds of pipeline trouble a health notice reports. */
export const HEALTH_KINDS = [
  'auditd_stopped',
  'audit_disabled',
  'audit_rules_removed',
  'events_lost',
  'sequence_gap',
  'host_silent',
  'malformed_spike',
] as const;
export type HealthKind = (typeof HEALTH_KINDS)[number];

/** One open (or recovered) health notice. */
export interface HealthNoticeView {
  id: number;
  /** The host (or, for malformed spikes, the source) it is about; attacker-influenced text. */
  host: string;
  kind: HealthKind;
  /** What was seen, in a sentence; may quote log text. */
  detail: string;
  openedAt: Date;
  lastSeenAt: Date;
  occurrences: number;
  recoveredAt: Date | null;
  recoveryDetail: string | null;
}
