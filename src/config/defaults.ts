/** Every default in one place. */
export const DEFAULTS = {
  port: 8080,
  host: '0.0.0.0',
  dataDir: '.vouch',
  /** Longest a single statement may run before Postgres cancels it (and the work is retried). */
  statementTimeout: '30s',
  /** Longest a statement waits for a lock before giving up (and the work is retried). */
  lockTimeout: '10s',
  slackApiUrl: 'https://slack.com/api/',
  remindAfter: '30m',
  escalateAfter: '2h',
  /** How long a Duo push may go unanswered before the alert escalates. */
  pushTimeout: '90s',
  /** Pushes one Duo account may get within pushRateWindow; a push over the limit waits. */
  maxPushesPerPerson: 3,
  pushRateWindow: '10m',
  /** How long one Duo request may take before it is abandoned. */
  duoRequestTimeout: '10s',
  /** Pause between auth_status polls when Duo answers "waiting" without holding the request. */
  pushPollInterval: '1s',
  /** Identical commands by the same person on the same host within this window are folded. */
  dedupeWindow: '24h',
  /** A command shape seen on other hosts within this long of the last hit is one fleet activity. */
  fleetWindow: '10m',
  /** How long a verification covers later commands of the same session. */
  reuseWindow: '1h',
  /** How often file sources are read. */
  pollInterval: '1s',
  /** What happens to alerts whose actor has no login user (auid unset): escalate or ignore. */
  systemActor: 'digest',
  /** How often the digest of system-actor alerts is posted: daily or hourly (UTC periods). */
  systemDigest: 'daily',
  /** A host that sent audit records before and has been silent this long gets a health notice. */
  healthSilentAfter: '30m',
  /** Malformed lines from one source within a minute that count as a spike (a health notice). */
  healthMalformedSpike: 100,
  /** Lost events, sequence gaps and malformed spikes count as recovered after this long without another. */
  healthQuietAfter: '30m',
  /** How long a looked-up chat identity is trusted before it is looked up again. */
  identityTtl: '24h',
  /** PagerDuty's Events API v2 host. */
  pagerDutyApiUrl: 'https://events.pagerduty.com',
  /** Jobs one replica runs at once (a Duo long-poll holds one slot, nobody else). */
  jobConcurrency: 16,
  /** How long a job claim lasts unrenewed: a crashed replica's work resumes elsewhere within this. */
  jobLease: '30s',
  /** Attempts before a job is given up on and its alert escalates as delivery_failed. */
  jobMaxAttempts: 12,
  /** A console session unused this long ends (sign in again). */
  sessionIdleTimeout: '1h',
  /** A console session ends this long after sign-in, however active. */
  sessionMaxAge: '12h',
} as const;

/** The shortest review API bearer token accepted: generate one with `openssl rand -hex 32`. */
export const MIN_REVIEW_TOKEN_LENGTH = 32;

/**
 * The shortest `jobs.lease` accepted. A lease is renewed every third of itself, so this leaves a
 * renewal more than three seconds to get through a slow query or a busy event loop before another
 * replica may start the same job (and send its DM or push a second time).
 */
export const MIN_JOB_LEASE_MS = 5000;
