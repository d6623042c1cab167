import type { DigestCadence } from '../digest/digest-period.js';

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
  review: { token: string | null };
  health: HealthConfig;
  /** True when both chat and second factor run on the built-in simulators. */
  sandbox: boolean;
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
}

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
