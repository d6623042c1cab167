import type { DigestCadence } from '../digest/digest-period.js';
import type { WorkingHours } from '../workflow/working-hours.js';

/** The validated configuration the service runs on; built once at start-up by loadConfig(). */
export interface VouchConfig {
  server: { port: number; host: string; publicUrl: string | null };
  database: DatabaseConfig;
  /** null: no credentials, so the built-in Slack simulator serves the sandbox. */
  slack: SlackConfig | null;
  /** null: no credentials, so the built-in Duo simulator serves the sandbox. */
  duo: DuoConfig | null;
  identity: IdentityConfig;
  sources: SourceConfig[];
  /** A rule file replacing the default pack; null uses the default pack. */
  rules: string | null;
  workflow: WorkflowConfig;
  jobs: JobsConfig;
  review: ReviewConfig;
  health: HealthConfig;
  /** `pagerduty:`; null when no routing key is set (critical escalations are then not paged). */
  pagerduty: PagerDutyConfig | null;
  /** True when both chat and second factor run on the built-in simulators. */
  sandbox: boolean;
  /**
   * Keys only a live service reads (the security channel, the Slack and Duo API URLs, and once
   * settleSandboxMode has seen the review console, its SSO and a public URL) that are set while
   * Slack and Duo have no credentials: they mark a deployment, so start refuses to run the
   * sandbox for them unless asked. Empty when the credentials are there.
   */
  liveOnlyKeys: readonly LiveOnlyKey[];
}

/** A configuration key and its environment variable, as refusals name them. */
export interface LiveOnlyKey {
  key: string;
  variable: string;
}

/** `review`: the review API's shared token and the console's sign-in. */
export interface ReviewConfig {
  /** `review.token` (VOUCH_REVIEW_TOKEN); null: one is generated and kept in the database. */
  token: string | null;
  /**
   * `review.public_url` (VOUCH_PUBLIC_URL, else `server.public_url`): where browsers reach the
   * service; the OpenID redirect URI is `<public_url>/review/callback`. Without a trailing slash.
   */
  publicUrl: string | null;
  /** `review.oidc`; null: no SSO configured (the sandbox then runs its own OpenID provider). */
  oidc: OidcConfig | null;
  /** Who may review: emails (compared without case) or `group:<name>` (the `groups` claim). */
  reviewers: string[];
  /** Who may also manage API tokens and settings; admins may review too. */
  admins: string[];
  /** `review.session_idle_timeout`: a session unused this long ends. */
  sessionIdleMs: number;
  /** `review.session_max_age`: a session ends this long after sign-in however active it is. */
  sessionMaxAgeMs: number;
}

/** The console's OpenID Connect client registration at the company's identity provider. */
export interface OidcConfig {
  /** The issuer URL; discovery at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
}

export interface DatabaseConfig {
  url: string | null;
  dataDir: string;
  /** `database.statement_timeout`: Postgres cancels a statement running longer; 0 disables. */
  statementTimeoutMs: number;
  /** `database.lock_timeout`: a statement waiting longer for a lock fails; 0 disables. */
  lockTimeoutMs: number;
}

export interface SlackConfig {
  botToken: string;
  signingSecret: string;
  apiUrl: string;
  securityChannel: string;
}

export interface DuoConfig {
  integrationKey: string;
  secretKey: string;
  apiHost: string;
  apiUrl: string;
}

export interface IdentityUser {
  email?: string;
  /** Duo username, when it differs from the login. */
  duo?: string;
  /** Slack user id, skipping the email lookup. */
  slack?: string;
  /** Who is told when this person does not answer (`workflow.escalation_contact: manager`): a login or a Slack user id. */
  manager?: string;
}

/** PagerDuty Events API v2: critical escalations trigger an incident keyed by the alert id. */
export interface PagerDutyConfig {
  /** The integration's 32-character routing key (PAGERDUTY_ROUTING_KEY). */
  routingKey: string;
  /** Base URL, default https://events.pagerduty.com (PAGERDUTY_API_URL). */
  apiUrl: string;
}

/** Who hears of an unanswered question before the security channel does. */
export type EscalationContact = { kind: 'user_group'; id: string } | { kind: 'manager' };

export interface IdentityConfig {
  emailDomain: string | null;
  users: Record<string, IdentityUser>;
  /** Numeric uid -> login, for raw auditd logs that carry only numbers. */
  uids: Record<string, string>;
}

export const SOURCE_TYPES = ['auto', 'auditd', 'sudo', 'sudo-journald', 'sudo-json', 'go-audit', 'laurel', 'osquery', 'falco', 'json'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export interface SourceConfig {
  name: string;
  type: SourceType;
  /** A file path or glob (in the last path segment); null for a source fed over HTTP. */
  path: string | null;
  /**
   * Bearer token of an HTTP source (`POST /ingest`): the token says which source a request
   * belongs to. From the file's `token:` or VOUCH_INGEST_TOKEN_<NAME> (upper case, - and . as _).
   */
  token: string | null;
  /** Host name for events whose log does not name one; defaults to this machine's name. */
  host: string | null;
  /**
   * The hosts an HTTP source may speak for (`hosts: ['web-*', 'db-1']`, globs): an event that
   * claims another host is refused and counted as `host_not_allowed`. Null or absent: any host
   * (events are then marked `unbound`). Only for HTTP sources.
   */
  hosts?: readonly string[] | null;
  /**
   * File sources: where a file Vouch has never read starts (`start_at`): `start` (default) reads
   * what it already holds, and asks about every rule hit in it, however old; `end` reads only
   * lines written from then on. A file read before goes on from its checkpoint either way.
   */
  startAt?: 'start' | 'end';
  /**
   * `time_zone`: the IANA zone (`Europe/Berlin`) of the dates the source's log writes without a
   * zone (RFC 3164 syslog dates, sudo's own log file: the host's local time). Default UTC.
   */
  timeZone?: string;
}

/** The job engine (`jobs:`): how many jobs run at once, how long a claim lasts, when to give up. */
export interface JobsConfig {
  concurrency: number;
  /** Renewed while a job runs; bounds how long a crashed replica's job waits. Shorter than every deadline. */
  leaseMs: number;
  maxAttempts: number;
}

export interface WorkflowConfig {
  remindAfterMs: number;
  escalateAfterMs: number;
  pushTimeoutMs: number;
  pushPollIntervalMs: number;
  /** `duo.max_pushes_per_person`: pushes one Duo account may get within pushRateWindowMs. */
  maxPushesPerPerson: number;
  /** `duo.push_rate_window`. */
  pushRateWindowMs: number;
  /**
   * `duo.request_timeout`: how long one Duo request may take. A push re-sent after a crash inside
   * its start waits two of these beyond push_timeout (see SecondFactorPort.startPushWithinMs).
   */
  duoRequestTimeoutMs: number;
  /** Repeats of an escalated conversation fold into it within this long of its last hit. */
  dedupeWindowMs: number;
  /** The same command shape on other hosts within this long joins one conversation (a fleet deploy). */
  fleetWindowMs: number;
  /** A verification covers later commands of the same session for this long after it. */
  reuseWindowMs: number;
  pollIntervalMs: number;
  identityTtlMs: number;
  /**
   * Alerts whose actor has no login user: `digest` lists them in one security-channel post per
   * period (`systemDigest`), `escalate` posts each, `ignore` records nothing.
   */
  systemActor: 'digest' | 'escalate' | 'ignore';
  /** The digest's period (`workflow.system_digest`). */
  systemDigest: DigestCadence;
  /** When reminders go out, measured from the question (`workflow.reminders`, or `remind_after` alone). */
  reminderDelaysMs: number[];
  /** `workflow.escalation_contact`; null: the ladder goes from the reminders straight to the channel. */
  escalationContact: EscalationContact | null;
  /** When the contact is told, measured from the question (`workflow.contact_after`). */
  contactAfterMs: number;
  /** `workflow.working_hours`; null: questions are asked at any hour. */
  workingHours: WorkingHours | null;
}

/** Pipeline health checks (`health:`). */
export interface HealthConfig {
  /** A host heard from before and silent this long gets a notice; 0 disables the check. */
  silentAfterMs: number;
  /** Malformed lines of one source within one minute that make a spike; 0 disables the check. */
  malformedSpike: number;
  /** Events lost, sequence gaps and malformed spikes count as recovered after this long without another. */
  quietAfterMs: number;
}
