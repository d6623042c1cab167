import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { AlertStatus, EscalationReason, Severity } from '../alerts/alert.js';
import type { Attribution, HostBinding, StoredProvenance, Transport } from '../sources/provenance.js';
import type { JobKind } from './queries/jobs.js';

/** Row types of every table, as migrations/ creates them. */
export interface Database {
  command_events: CommandEventsTable;
  alerts: AlertsTable;
  audit_trail: AuditTrailTable;
  audit_chain_heads: AuditChainHeadsTable;
  jobs: JobsTable;
  source_checkpoints: SourceCheckpointsTable;
  source_malformed: SourceMalformedTable;
  identities: IdentitiesTable;
  settings: SettingsTable;
  suppressions: SuppressionsTable;
  second_factor_pushes: SecondFactorPushesTable;
  second_factor_pauses: SecondFactorPausesTable;
  system_digests: SystemDigestsTable;
  system_digest_entries: SystemDigestEntriesTable;
  health_notices: HealthNoticesTable;
  host_activity: HostActivityTable;
  console_sessions: ConsoleSessionsTable;
  console_sign_ins: ConsoleSignInsTable;
  api_tokens: ApiTokensTable;
  reviews: ReviewsTable;
  push_txids: PushTxidsTable;
  ingest_held_lines: IngestHeldLinesTable;
}

type Json<T> = ColumnType<T, string, string>;

export interface CommandEventsTable {
  id: Generated<number>;
  source: string;
  event_key: string;
  occurred_at: Date;
  host: string;
  login_user: string | null;
  login_uid: number | null;
  run_as: string | null;
  argv: Json<string[]>;
  command: string;
  exe: string | null;
  cwd: string | null;
  pid: number | null;
  ppid: number | null;
  source_format: string;
  sudo_denied: Generated<boolean>;
  extra: Json<Record<string, string> | null>;
  rule_id: string | null;
  ingested_at: Date;
  /** How the event was attributed; set on every event (the migration derived it for older ones). */
  attribution: Attribution | null;
  /** Whether an unprivileged local user could have written the record. */
  forgeable: boolean | null;
  /** 'file' or 'http'; null for events stored before transports were recorded. */
  transport: Transport | null;
  /** 'bound' or 'unbound' for HTTP events; null for files (and events stored before). */
  host_binding: HostBinding | null;
}

export interface AlertsTable {
  id: string;
  event_id: number | null;
  status: AlertStatus;
  owner: string | null;
  host: string;
  command: string;
  run_as: string | null;
  cwd: string | null;
  occurred_at: Date;
  rule_id: string;
  rule_name: string;
  severity: Severity;
  attack: Json<string[]>;
  dedupe_key: string;
  occurrences: Generated<number>;
  chat_user_id: string | null;
  dm_channel: string | null;
  dm_ts: string | null;
  asked_at: Date | null;
  reminded_at: Date | null;
  answered_at: Date | null;
  justification: string | null;
  second_factor_user: string | null;
  /** Unique among alerts: one Duo transaction answers exactly one alert. */
  push_txid: string | null;
  push_started_at: Date | null;
  second_factor: string | null;
  escalation_reason: EscalationReason | null;
  escalation_detail: string | null;
  escalation_channel: string | null;
  escalation_ts: string | null;
  resolved_at: Date | null;
  reviewed_by: string | null;
  reviewed_at: Date | null;
  review_note: string | null;
  created_at: Date;
  updated_at: Date;
  /** The provenance of the event that raised the alert; null for alerts raised before it existed. */
  provenance: ColumnType<StoredProvenance | null, string | null | undefined, string | null>;
  /** When a DM, reminder, channel post or Duo push was about to be sent (reconciled on re-run). */
  dm_requested_at: Date | null;
  reminder_requested_at: Date | null;
  escalation_requested_at: Date | null;
  push_requested_at: Date | null;
  /** The conversation's lead alert (its first); the lead's own id on the lead. */
  conversation_id: string;
  /** Host and audit session (or terminal) the command ran in, when the log says. */
  session_key: string | null;
  /** Person, rule and program: what a fleet deploy shares across hosts. */
  shape_key: string | null;
  /** On the lead: when a hit last joined the conversation. */
  last_joined_at: Date | null;
  /** On the lead: members already reported in the escalation's thread. */
  repeats_posted: Generated<number>;
  /** When repeats were last noted in the escalation's thread (migration 0014). */
  repeats_noted_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** 0, then one more at each "Ask again" (migration 0015); chat metadata carries it. */
  round: Generated<number>;
  /** The justification modal Vouch opened (Slack view id); only its submission is an answer. */
  justify_view_id: string | null;
  /** The chat user the modal was opened for. */
  justify_view_user: string | null;
  justify_opened_at: Date | null;
  /**
   * A random key minted for each form Vouch opens and carried in its private_metadata: it binds
   * a submission to this opening even in the instant before views.open has returned the view id.
   */
  justify_form_key: string | null;
  /** An out-of-hours low or medium question waits until then (migration 0009). */
  deferred_until: Date | null;
  reminders_sent: Generated<number>;
  /** Where each reminder was posted, so they can say the conversation ended. */
  reminder_refs: ColumnType<Array<{ channel: string; ts: string }>, string | undefined, string>;
  contact_requested_at: Date | null;
  contact_channel: string | null;
  contact_ts: string | null;
  /** A critical alert's heads-up in the security channel, and the outcome reply in its thread. */
  announce_requested_at: Date | null;
  announce_channel: string | null;
  announce_ts: string | null;
  outcome_requested_at: Date | null;
  outcome_ts: string | null;
  paged_at: Date | null;
  page_resolved_at: Date | null;
}

export interface AuditTrailTable {
  id: Generated<number>;
  /** `alert:<id>` for an alert's steps, `system` for steps of no alert. */
  chain: string;
  /** 1-based position in its chain; hashed, so removals and reorderings show. */
  seq: number;
  alert_id: string | null;
  at: Date;
  actor: string;
  action: string;
  detail: Json<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
}

/** The last step of each chain (count and hash), so removing a chain's last rows is caught. */
export interface AuditChainHeadsTable {
  chain: string;
  seq: number;
  hash: string;
}

export interface JobsTable {
  id: Generated<number>;
  alert_id: string;
  kind: JobKind;
  run_at: Date;
  locked_by: string | null;
  locked_until: Date | null;
  attempts: Generated<number>;
  last_error: string | null;
  /** Grows with every reschedule; a finished run deletes only the version it ran. */
  version: Generated<number>;
  /** Set when the job used up its attempts; it stays, parked for a slow retry. */
  failed_at: Date | null;
}

export interface SourceCheckpointsTable {
  source: string;
  file_path: string;
  file_id: string;
  offset: number;
  /** `LENGTH:SHA256` of the file's first bytes (see migration 0013); null in rows stored before. */
  fingerprint: ColumnType<string | null, string | null | undefined, string | null>;
  /** How far the file was read and committed (migration 0016); null in rows stored before. */
  read_offset: ColumnType<number | null, number | null | undefined, number | null>;
  updated_at: Date;
}

/** Lines of events a `POST /ingest` request ended inside, per source and shipper host (migration 0017). */
export interface IngestHeldLinesTable {
  id: string;
  source: string;
  host_key: string;
  lines: Buffer;
  held_since: Date;
}

export interface SourceMalformedTable {
  source: string;
  reason: string;
  count: number;
  sample: string;
  last_seen: Date;
}

export interface IdentitiesTable {
  login: string;
  email: string | null;
  chat_user_id: string | null;
  resolved_at: Date;
  /** The person's IANA time zone from chat (Slack `tz`), cached like the rest of the identity. */
  time_zone: Generated<string | null>;
  time_zone_resolved_at: Generated<Date | null>;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface SuppressionsTable {
  id: string;
  /** Conditions; null means any. At least one of rule_id and command is set. */
  rule_id: string | null;
  owner: string | null;
  host_glob: string | null;
  command: string | null;
  reason: string;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  revoked_by: string | null;
  revoked_at: Date | null;
}

/** One push Vouch sent (or was about to send) to a Duo account; the rate limit counts these. */
export interface SecondFactorPushesTable {
  id: Generated<number>;
  username: string;
  alert_id: string;
  sent_at: Date;
}

/** Pushes to a Duo account stopped (after a fraud report) until a reviewer resumes them. */
export interface SecondFactorPausesTable {
  id: Generated<number>;
  username: string;
  /** The login of the alert that caused the pause, so reviewers can name the person either way. */
  login: string | null;
  alert_id: string;
  reason: string;
  paused_at: Date;
  resumed_by: string | null;
  resumed_at: Date | null;
  resume_note: string | null;
}

export type SecondFactorPauseRow = Selectable<SecondFactorPausesTable>;

/** One digest period of system-actor alerts (see migrations/0008_quiet.ts). */
export interface SystemDigestsTable {
  /** `daily:YYYY-MM-DD` or `hourly:YYYY-MM-DDTHH` (UTC). */
  period: string;
  starts_at: Date;
  ends_at: Date;
  claimed_by: string | null;
  claimed_until: Date | null;
  channel: string | null;
  ts: string | null;
  posted_at: Date | null;
  alert_count: number | null;
}

export interface SystemDigestEntriesTable {
  alert_id: string;
  period: string;
  created_at: Date;
}

/** A problem with the audit pipeline of one host; at most one open row per (host, kind). */
export interface HealthNoticesTable {
  id: Generated<number>;
  host: string;
  kind: string;
  detail: string;
  opened_at: Date;
  last_seen_at: Date;
  occurrences: Generated<number>;
  claimed_by: string | null;
  claimed_until: Date | null;
  channel: string | null;
  ts: string | null;
  recovered_at: Date | null;
  recovery_detail: string | null;
  recovery_ts: string | null;
}

export interface HostActivityTable {
  host: string;
  source: string;
  last_seen_at: Date;
}

export type SystemDigestRow = Selectable<SystemDigestsTable>;
export type HealthNoticeRow = Selectable<HealthNoticesTable>;

/** What a session remembers of the person; roles are worked out again from the config on each use. */
export interface StoredSignedInPerson {
  actor: string;
  name: string;
  groups: string[];
}

/** A signed-in browser; `id_hash` is the sha256 of the cookie's random id. */
export interface ConsoleSessionsTable {
  id_hash: string;
  identity: Json<StoredSignedInPerson>;
  csrf_token: string;
  created_at: Date;
  last_seen_at: Date;
  /** The absolute end, however active the session is. */
  expires_at: Date;
}

/** A sign-in under way: what the callback needs to finish it (PKCE verifier, state, nonce). */
export interface ConsoleSignInsTable {
  id_hash: string;
  state: string;
  nonce: string;
  code_verifier: string;
  return_to: string;
  expires_at: Date;
}

/** A named machine token; only the sha256 of the token is kept. */
export interface ApiTokensTable {
  name: string;
  hash: string;
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

/** One review of one alert; reviews append. */
export interface ReviewsTable {
  id: Generated<number>;
  alert_id: string;
  actor: string;
  note: string | null;
  at: Date;
}

export type SuppressionRow = Selectable<SuppressionsTable>;
export type ConsoleSessionRow = Selectable<ConsoleSessionsTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type ReviewRow = Selectable<ReviewsTable>;

export type AlertRow = Selectable<AlertsTable>;
export type NewAlertRow = Insertable<AlertsTable>;
export type AlertUpdate = Updateable<AlertsTable>;
export type CommandEventRow = Selectable<CommandEventsTable>;
export type AuditTrailRow = Selectable<AuditTrailTable>;
export type JobRow = Selectable<JobsTable>;

/** Every Duo txid ever bound to an alert (migration 0015): one txid answers one question, once. */
export interface PushTxidsTable {
  txid: string;
  alert_id: string;
  round: number;
  bound_at: Date;
}
