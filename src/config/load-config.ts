import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { isTimeZone } from '../sources/parsers/zone-time.js';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import { SOURCE_TYPES, type IdentityUser, type LiveOnlyKey, type SourceConfig, type SourceType, type VouchConfig } from './config.js';
import { isHostGlob } from '../sources/host-allow-list.js';
import { assertKnownKeys } from './config-schema.js';
import { DEFAULTS, MIN_JOB_LEASE_MS, MIN_REVIEW_TOKEN_LENGTH } from './defaults.js';
import { formatDuration, parseDuration, parsePositiveDuration } from './duration.js';
import { DIGEST_CADENCES, type DigestCadence } from '../digest/digest-period.js';
import { isLoopbackHost, sandboxFlag, sandboxRequested, settleSandboxMode } from './sandbox-mode.js';
import { ladderConfig, pagerDutyConfig } from './ladder-config.js';

type Env = Record<string, string | undefined>;
type Section = Record<string, unknown>;

export interface LoadConfigOptions {
  /** The YAML file (`--config` or VOUCH_CONFIG); optional: everything has a default or an env var. */
  file?: string | null;
  env?: Env;
  /** `--sandbox`: run on the built-in simulators even with a database or sources configured. */
  sandbox?: boolean;
}

/**
 * Reads the YAML file and the environment, validates everything once, and returns the config.
 * Throws ConfigError naming the key and the fix. Secrets never appear in messages.
 */
export function loadConfig(options: LoadConfigOptions = {}): VouchConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.VOUCH_CONFIG ?? null;
  const raw = file ? readYaml(file) : {};
  const baseDir = file ? path.dirname(path.resolve(file)) : process.cwd();
  assertKnownKeys(raw);
  const server = section(raw, 'server');
  const database = section(raw, 'database');
  const slack = slackConfig(section(raw, 'slack'), env);
  const duo = duoConfig(section(raw, 'duo'), env);
  if ((slack === null) !== (duo === null)) {
    const missing = slack === null ? 'slack.bot_token and slack.signing_secret (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)' : 'duo.integration_key, duo.secret_key and duo.api_host (DUO_IKEY, DUO_SKEY, DUO_API_HOST)';
    throw new ConfigError(
      slack === null ? 'slack' : 'duo',
      `Slack and Duo go live together: set ${missing}, or remove both to run the sandbox with the built-in simulators`,
    );
  }
  const workflow = section(raw, 'workflow');
  const escalateAfterMs = parsePositiveDuration(workflow.escalate_after ?? DEFAULTS.escalateAfter, 'workflow.escalate_after');
  const ladder = ladderConfig(workflow, escalateAfterMs);
  // Sandbox or live (see sandbox-mode.ts); startService refuses live mode without credentials.
  const databaseUrl = env.DATABASE_URL
    ? postgresUrl(env.DATABASE_URL, 'DATABASE_URL')
    : postgresUrl(optionalString(database, 'url', 'database') ?? null, null);
  const sources = sourcesConfig(raw.sources, baseDir, env);
  const pagerduty = pagerDutyConfig(section(raw, 'pagerduty'), env);
  const liveOnlyKeys = slack === null && duo === null ? liveOnlyKeysSet(section(raw, 'slack'), section(raw, 'duo'), env) : [];
  const sandbox = sandboxRequested({
    requested: options.sandbox === true || sandboxFlag(env.VOUCH_SANDBOX),
    hasChatCredentials: slack !== null,
    databaseUrl,
    sourceCount: sources.length,
    pagingConfigured: pagerduty !== null,
    liveOnlyKeys,
  });
  const config: VouchConfig = {
    server: {
      // An empty variable counts as unset, as for every other key (VOUCH_HOST= must not mean "every address").
      port: port(env.VOUCH_PORT || (server.port ?? DEFAULTS.port)),
      // The sandbox lets anyone approve pushes, so it only listens on loopback unless told otherwise.
      host: listenHost(optionalString(server, 'host', 'server') ?? (env.VOUCH_HOST || (sandbox ? '127.0.0.1' : DEFAULTS.host))),
      publicUrl: optionalString(server, 'public_url', 'server') ?? env.VOUCH_PUBLIC_URL ?? null,
    },
    database: {
      url: databaseUrl,
      dataDir: path.resolve(baseDir, env.VOUCH_DATA_DIR || (optionalString(database, 'data_dir', 'database') ?? DEFAULTS.dataDir)),
      statementTimeoutMs: parseDuration(database.statement_timeout ?? DEFAULTS.statementTimeout, 'database.statement_timeout'),
      lockTimeoutMs: parseDuration(database.lock_timeout ?? DEFAULTS.lockTimeout, 'database.lock_timeout'),
    },
    slack,
    duo,
    identity: identityConfig(section(raw, 'identity')),
    sources,
    rules: rulesPath(raw.rules, baseDir),
    workflow: {
      // The first reminder; with `reminders: []` there is none, and this is only kept for older callers.
      remindAfterMs: ladder.reminderDelaysMs[0] ?? escalateAfterMs,
      escalateAfterMs,
      pushTimeoutMs: parsePositiveDuration(workflow.push_timeout ?? DEFAULTS.pushTimeout, 'workflow.push_timeout'),
      pushPollIntervalMs: parsePositiveDuration(workflow.push_poll_interval ?? DEFAULTS.pushPollInterval, 'workflow.push_poll_interval'),
      maxPushesPerPerson: positiveInteger(section(raw, 'duo').max_pushes_per_person ?? DEFAULTS.maxPushesPerPerson, 'duo.max_pushes_per_person', 100),
      pushRateWindowMs: parsePositiveDuration(section(raw, 'duo').push_rate_window ?? DEFAULTS.pushRateWindow, 'duo.push_rate_window'),
      duoRequestTimeoutMs: parsePositiveDuration(section(raw, 'duo').request_timeout ?? DEFAULTS.duoRequestTimeout, 'duo.request_timeout'),
      dedupeWindowMs: parseDuration(workflow.dedupe_window ?? DEFAULTS.dedupeWindow, 'workflow.dedupe_window'),
      fleetWindowMs: parseDuration(workflow.fleet_window ?? DEFAULTS.fleetWindow, 'workflow.fleet_window'),
      reuseWindowMs: parseDuration(workflow.reuse_window ?? DEFAULTS.reuseWindow, 'workflow.reuse_window'),
      pollIntervalMs: parsePositiveDuration(workflow.poll_interval ?? DEFAULTS.pollInterval, 'workflow.poll_interval'),
      identityTtlMs: parseDuration(workflow.identity_ttl ?? DEFAULTS.identityTtl, 'workflow.identity_ttl'),
      systemActor: systemActor(workflow.system_actor ?? DEFAULTS.systemActor),
      systemDigest: systemDigest(workflow.system_digest ?? DEFAULTS.systemDigest),
      ...ladder,
    },
    jobs: jobsConfig(section(raw, 'jobs'), parsePositiveDuration(workflow.push_timeout ?? DEFAULTS.pushTimeout, 'workflow.push_timeout')),
    health: healthConfig(section(raw, 'health')),
    pagerduty,
    review: reviewConfig(section(raw, 'review'), env, optionalString(server, 'public_url', 'server') ?? null),
    sandbox,
    liveOnlyKeys,
  };
  if (config.review.sessionIdleMs > config.review.sessionMaxAgeMs) {
    throw new ConfigError('review.session_idle_timeout', 'must not be longer than review.session_max_age, or it never applies');
  }
  // A crashed replica's poll resumes only when its lease runs out: that must happen while the push
  // is still live, or an approval would be read after its deadline.
  if (MIN_JOB_LEASE_MS * 2 > config.workflow.pushTimeoutMs) {
    throw new ConfigError(
      'workflow.push_timeout',
      `must be at least ${formatDuration(MIN_JOB_LEASE_MS * 2)}, twice the shortest jobs.lease (${formatDuration(MIN_JOB_LEASE_MS)}), so a crashed replica's push is still polled in time`,
    );
  }
  if (config.jobs.leaseMs * 2 > config.workflow.pushTimeoutMs) {
    throw new ConfigError('jobs.lease', `must be at most half of workflow.push_timeout (${config.workflow.pushTimeoutMs / 1000}s), so a crashed replica's push is still polled in time`);
  }
  // The review console's SSO and public URL are read last; they too can mark a deployment.
  return settleSandboxMode(config, options.sandbox === true || sandboxFlag(env.VOUCH_SANDBOX));
}

function readYaml(file: string): Section {
  if (!existsSync(file)) throw new ConfigError('--config', `config file ${file} does not exist`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('--config', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError('--config', `${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('--config', `${file} must be a YAML mapping of sections (server, database, slack, ...)`);
  }
  return parsed as Section;
}

function section(raw: Section, key: string): Section {
  const value = raw[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(key, 'must be a mapping of keys');
  return value as Section;
}

function optionalString(values: Section, key: string, prefix: string): string | undefined {
  const value = values[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') throw new ConfigError(`${prefix}.${key}`, 'must be a string');
  return String(value);
}

/**
 * `jobs:`; an unset lease is the default, shortened to a third of a short push timeout but never
 * below the shortest lease.
 */
function jobsConfig(values: Section, pushTimeoutMs: number): VouchConfig['jobs'] {
  return {
    concurrency: positiveInteger(values.concurrency ?? DEFAULTS.jobConcurrency, 'jobs.concurrency', 1000),
    leaseMs:
      values.lease === undefined
        ? Math.max(MIN_JOB_LEASE_MS, Math.min(parsePositiveDuration(DEFAULTS.jobLease, 'jobs.lease'), Math.floor(pushTimeoutMs / 3)))
        : jobLease(values.lease),
    maxAttempts: positiveInteger(values.max_attempts ?? DEFAULTS.jobMaxAttempts, 'jobs.max_attempts', 100),
  };
}

/** A lease the renewal can keep: see MIN_JOB_LEASE_MS. */
function jobLease(value: unknown): number {
  const ms = parsePositiveDuration(value, 'jobs.lease');
  if (ms < MIN_JOB_LEASE_MS) {
    throw new ConfigError(
      'jobs.lease',
      `must be at least ${formatDuration(MIN_JOB_LEASE_MS)}, got ${JSON.stringify(value)}: a shorter lease can run out while its job still runs, ` +
        `and another replica would run it a second time; set ${formatDuration(MIN_JOB_LEASE_MS)} or more, or leave it unset (${DEFAULTS.jobLease})`,
    );
  }
  return ms;
}

function positiveInteger(value: unknown, key: string, max: number): number {
  const number = typeof value === 'number' || typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isInteger(number) || number < 1 || number > max) {
    throw new ConfigError(key, `must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`);
  }
  return number;
}

function port(value: unknown): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535) {
    throw new ConfigError('server.port', `must be a port number from 0 to 65535 (VOUCH_PORT), got ${JSON.stringify(value)}`);
  }
  return number;
}

/**
 * The address to listen on, as `listen()` takes it: an IPv6 literal is written bracketed in URLs
 * (`[::1]`), and either spelling is accepted here, but the socket wants it bare.
 */
function listenHost(value: string): string {
  return value.trim().replace(/^\[(.*)\]$/, '$1');
}

/**
 * Slack and Duo keys that only a live service reads (the channel, the API URLs), set without any
 * credential: the operator meant to go live, so start refuses rather than quietly running the
 * sandbox (see assertStartable).
 */
function liveOnlyKeysSet(slack: Section, duo: Section, env: Env): LiveOnlyKey[] {
  const candidates: Array<LiveOnlyKey & { value: string | undefined }> = [
    { key: 'slack.security_channel', variable: 'SLACK_SECURITY_CHANNEL', value: env.SLACK_SECURITY_CHANNEL || optionalString(slack, 'security_channel', 'slack') },
    { key: 'slack.api_url', variable: 'SLACK_API_URL', value: env.SLACK_API_URL || optionalString(slack, 'api_url', 'slack') },
    { key: 'duo.api_url', variable: 'DUO_API_URL', value: env.DUO_API_URL || optionalString(duo, 'api_url', 'duo') },
  ];
  return candidates.filter(({ value }) => value).map(({ key, variable }) => ({ key, variable }));
}

function slackConfig(values: Section, env: Env): VouchConfig['slack'] {
  const botToken = env.SLACK_BOT_TOKEN || optionalString(values, 'bot_token', 'slack');
  const signingSecret = env.SLACK_SIGNING_SECRET || optionalString(values, 'signing_secret', 'slack');
  if (!botToken && !signingSecret) return null;
  if (!botToken) throw new ConfigError('slack.bot_token', 'missing: set it or SLACK_BOT_TOKEN to the app\'s xoxb- bot token');
  if (!signingSecret) throw new ConfigError('slack.signing_secret', 'missing: set it or SLACK_SIGNING_SECRET to the app\'s signing secret (Basic Information page)');
  const securityChannel = env.SLACK_SECURITY_CHANNEL || optionalString(values, 'security_channel', 'slack');
  if (!securityChannel) throw new ConfigError('slack.security_channel', 'missing: set it to the id of the channel that receives escalations (e.g. C0SECURITY)');
  const apiUrl = env.SLACK_API_URL || optionalString(values, 'api_url', 'slack') || DEFAULTS.slackApiUrl;
  assertUrl(apiUrl, 'slack.api_url');
  return { botToken, signingSecret, securityChannel, apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` };
}

function duoConfig(values: Section, env: Env): VouchConfig['duo'] {
  const integrationKey = env.DUO_IKEY || optionalString(values, 'integration_key', 'duo');
  const secretKey = env.DUO_SKEY || optionalString(values, 'secret_key', 'duo');
  const apiHost = env.DUO_API_HOST || optionalString(values, 'api_host', 'duo');
  if (!integrationKey && !secretKey && !apiHost) return null;
  if (!integrationKey) throw new ConfigError('duo.integration_key', 'missing: set it or DUO_IKEY to the Auth API application\'s integration key');
  if (!secretKey) throw new ConfigError('duo.secret_key', 'missing: set it or DUO_SKEY to the Auth API application\'s secret key');
  if (!apiHost) throw new ConfigError('duo.api_host', 'missing: set it or DUO_API_HOST, e.g. api-xxxxxxxx.duosecurity.com');
  if (!/^[a-z0-9.-]+(:\d+)?$/i.test(apiHost)) throw new ConfigError('duo.api_host', 'must be a host name such as api-xxxxxxxx.duosecurity.com, without https://');
  const apiUrl = env.DUO_API_URL || optionalString(values, 'api_url', 'duo') || `https://${apiHost}`;
  assertUrl(apiUrl, 'duo.api_url');
  return { integrationKey, secretKey, apiHost: apiHost.toLowerCase(), apiUrl: apiUrl.replace(/\/+$/, '') };
}

function identityConfig(values: Section): VouchConfig['identity'] {
  const emailDomain = optionalString(values, 'email_domain', 'identity') ?? null;
  if (emailDomain && !/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(emailDomain)) {
    throw new ConfigError('identity.email_domain', `"${emailDomain}" is not a domain name such as example.com`);
  }
  const users: Record<string, IdentityUser> = {};
  const rawUsers = values.users ?? {};
  if (typeof rawUsers !== 'object' || Array.isArray(rawUsers)) throw new ConfigError('identity.users', 'must map login names to { email, duo, slack }');
  for (const [login, entry] of Object.entries(rawUsers as Section)) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new ConfigError(`identity.users.${login}`, 'must be a mapping such as { email: alice@example.com, duo: alice }');
    }
    const user: IdentityUser = {};
    // Unknown keys were refused by assertKnownKeys, so these are email, duo and slack.
    for (const key of Object.keys(entry as Section) as (keyof IdentityUser)[]) {
      const value = optionalString(entry as Section, key, `identity.users.${login}`);
      if (value) user[key] = value;
    }
    users[login] = user;
  }
  const uids: Record<string, string> = {};
  const rawUids = values.uids ?? {};
  if (typeof rawUids !== 'object' || Array.isArray(rawUids)) throw new ConfigError('identity.uids', 'must map numeric uids to login names, e.g. { 1000: alice }');
  for (const [uid, login] of Object.entries(rawUids as Section)) {
    if (!/^\d+$/.test(uid) || typeof login !== 'string') throw new ConfigError(`identity.uids.${uid}`, 'must map a numeric uid to a login name');
    uids[uid] = login;
  }
  return { emailDomain, users, uids };
}

function sourcesConfig(value: unknown, baseDir: string, env: Env): SourceConfig[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ConfigError('sources', 'must be a list such as [{ name: audit, type: auditd, path: /var/log/audit/audit.log }]');
  const names = new Set<string>();
  const tokens = new Map<string, { name: string; key: string }>();
  return value.map((entry, index) => {
    const key = `sources[${index}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new ConfigError(key, 'must be a mapping with name, type and path');
    const values = entry as Section;
    const name = optionalString(values, 'name', key);
    if (!name || !/^[A-Za-z0-9_.-]+$/.test(name)) throw new ConfigError(`${key}.name`, 'required: letters, digits, dot, dash or underscore');
    if (names.has(name)) throw new ConfigError(`${key}.name`, `"${name}" is used by another source; names must be unique`);
    names.add(name);
    const type = optionalString(values, 'type', key) ?? 'auto';
    if (!(SOURCE_TYPES as readonly string[]).includes(type)) {
      throw new ConfigError(`${key}.type`, `"${type}" is not a known format; use one of ${SOURCE_TYPES.join(', ')}`);
    }
    const filePath = optionalString(values, 'path', key);
    const tokenVariable = `VOUCH_INGEST_TOKEN_${name.toUpperCase().replace(/[-.]/g, '_')}`;
    const token = env[tokenVariable] || optionalString(values, 'token', key) || null;
    if (!filePath && !token) {
      throw new ConfigError(`${key}.path`, 'required: the log file to follow (e.g. /var/log/audit/audit.log), or a token for a source that posts to /ingest');
    }
    if (filePath && token) throw new ConfigError(`${key}.token`, 'a source either follows a file (path) or receives HTTP posts (token), not both; split it in two');
    if (token !== null && token.length < 16) throw new ConfigError(`${key}.token`, 'must be at least 16 characters; generate one with `openssl rand -hex 24`');
    if (token !== null) {
      const where = `${key}.token or ${tokenVariable}`;
      const holder = tokens.get(token);
      // A request is routed by its token alone, so only the first of two sources sharing one would ever get anything.
      if (holder) {
        throw new ConfigError(
          `${key}.token`,
          `source "${name}" has the same ingest token as source "${holder.name}" (${holder.key}), so "${name}" would never receive anything: ` +
            `the token says which source a request belongs to. Give each HTTP source its own token (openssl rand -hex 24) in ${where}`,
        );
      }
      tokens.set(token, { name, key: where });
    }
    const source: SourceConfig = {
      name,
      type: type as SourceType,
      path: filePath ? path.resolve(baseDir, filePath) : null,
      token,
      host: optionalString(values, 'host', key) ?? null,
    };
    const hosts = hostGlobs(values.hosts, `${key}.hosts`, token !== null);
    if (hosts !== null) source.hosts = hosts;
    const startAt = optionalString(values, 'start_at', key);
    if (startAt !== undefined) {
      if (token !== null) throw new ConfigError(`${key}.start_at`, 'says where a file source starts a file it never read; an HTTP source reads what is posted, so remove start_at');
      if (startAt !== 'start' && startAt !== 'end') throw new ConfigError(`${key}.start_at`, `"${startAt}": use start (read what the file already holds) or end (only lines written from now on)`);
      source.startAt = startAt;
    }
    const timeZone = optionalString(values, 'time_zone', key);
    if (timeZone !== undefined) {
      if (!isTimeZone(timeZone)) throw new ConfigError(`${key}.time_zone`, `"${timeZone}" is not a time zone: name the zone the host's clock is set to, such as Europe/Berlin or America/New_York (timedatectl shows it), or UTC`);
      source.timeZone = timeZone;
    }
    return source;
  });
}

/** `sources[].hosts`: a non-empty list of host globs, only on an HTTP source. */
function hostGlobs(value: unknown, key: string, isHttp: boolean): string[] | null {
  if (value === undefined) return null;
  if (!isHttp) {
    throw new ConfigError(key, 'binds an HTTP source (one with a token) to the hosts it may speak for; a file source names its host with host:, so remove hosts');
  }
  const example = "a list of host names or globs, such as ['web-*', 'db-1']";
  // `hosts:` left with no value (its last entry commented out) must not turn the binding off.
  if (value === null) throw new ConfigError(key, `is empty: list the hosts this token may speak for, ${example}; remove the key to accept any host`);
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(key, `must be ${example}; leave it out to accept any host`);
  return value.map((glob: unknown, index) => {
    if (typeof glob !== 'string' || !isHostGlob(glob)) {
      throw new ConfigError(`${key}[${index}]`, `must be a host name or glob (letters, digits, . - _ : and the wildcards * and ?), as in ${example}`);
    }
    return glob;
  });
}

function rulesPath(value: unknown, baseDir: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new ConfigError('rules', 'must be the path of a rule file; leave it out to use the default rule pack');
  return path.resolve(baseDir, value);
}

function reviewConfig(values: Section, env: Env, serverPublicUrl: string | null): VouchConfig['review'] {
  const publicUrl = env.VOUCH_PUBLIC_URL || optionalString(values, 'public_url', 'review') || serverPublicUrl;
  const oidc = oidcConfig(section(values, 'oidc'), env);
  if (oidc !== null && !publicUrl) {
    throw new ConfigError('review.public_url', 'missing: set it or VOUCH_PUBLIC_URL to where browsers reach Vouch (e.g. https://vouch.example.com), as the redirect URI <public_url>/review/callback is built from it');
  }
  return {
    token: reviewToken(env.VOUCH_REVIEW_TOKEN ?? optionalString(values, 'token', 'review') ?? null),
    publicUrl: publicUrl ? consolePublicUrl(publicUrl) : null,
    oidc,
    reviewers: principals(values.reviewers, 'review.reviewers'),
    admins: principals(values.admins, 'review.admins'),
    sessionIdleMs: parsePositiveDuration(values.session_idle_timeout ?? DEFAULTS.sessionIdleTimeout, 'review.session_idle_timeout'),
    sessionMaxAgeMs: parsePositiveDuration(values.session_max_age ?? DEFAULTS.sessionMaxAge, 'review.session_max_age'),
  };
}

/**
 * `review.oidc`: all three keys or none. Partly set is refused naming the missing key, so a typo in
 * one environment variable never leaves the console silently without sign-in.
 */
function oidcConfig(values: Section, env: Env): VouchConfig['review']['oidc'] {
  const issuer = env.VOUCH_OIDC_ISSUER || optionalString(values, 'issuer', 'review.oidc');
  const clientId = env.VOUCH_OIDC_CLIENT_ID || optionalString(values, 'client_id', 'review.oidc');
  const clientSecret = env.VOUCH_OIDC_CLIENT_SECRET || optionalString(values, 'client_secret', 'review.oidc');
  if (!issuer && !clientId && !clientSecret) return null;
  if (!issuer) throw new ConfigError('review.oidc.issuer', 'missing: set it or VOUCH_OIDC_ISSUER to the identity provider\'s issuer URL (e.g. https://sso.example.com)');
  if (!clientId) throw new ConfigError('review.oidc.client_id', 'missing: set it or VOUCH_OIDC_CLIENT_ID to the client id of the Vouch application registered at the identity provider');
  if (!clientSecret) throw new ConfigError('review.oidc.client_secret', 'missing: set it or VOUCH_OIDC_CLIENT_SECRET to that application\'s client secret');
  assertUrl(issuer, 'review.oidc.issuer');
  const url = new URL(issuer);
  if (url.protocol !== 'https:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigError('review.oidc.issuer', `"${issuer}" must be https (only an issuer on loopback may be plain http)`);
  }
  // Kept exactly as given: the discovered metadata must name the same issuer, trailing slash and all.
  return { issuer, clientId, clientSecret };
}

/**
 * The console's public URL: http(s), no query, no trailing slash. Plain http only on loopback,
 * because session cookies are Secure everywhere else and a browser would never send them back.
 */
function consolePublicUrl(value: string): string {
  assertUrl(value, 'review.public_url');
  const url = new URL(value);
  if (url.search || url.hash) throw new ConfigError('review.public_url', `"${value}" must be a base URL without a query or fragment`);
  if (url.protocol !== 'https:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigError('review.public_url', `"${value}" must be https: session cookies are Secure (only a loopback address may be plain http)`);
  }
  return value.replace(/\/+$/, '');
}

/** `review.reviewers` / `review.admins`: a list of emails or `group:<name>` entries. */
function principals(value: unknown, key: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ConfigError(key, 'must be a list of emails or group:<name> entries, e.g. [dana@example.com, group:security]');
  return value.map((entry: unknown, index) => {
    if (typeof entry !== 'string' || entry.trim() === '' || (entry.startsWith('group:') && entry.length === 'group:'.length)) {
      throw new ConfigError(`${key}[${index}]`, 'must be an email (dana@example.com) or group:<name> matched against the groups claim');
    }
    return entry.trim();
  });
}

/** `review.token` (VOUCH_REVIEW_TOKEN): long enough that it cannot be guessed. */
function reviewToken(token: string | null): string | null {
  if (token !== null && token.length < MIN_REVIEW_TOKEN_LENGTH) {
    throw new ConfigError(
      'review.token',
      `must be at least ${MIN_REVIEW_TOKEN_LENGTH} characters (VOUCH_REVIEW_TOKEN); generate one with \`openssl rand -hex 32\`, or leave it out to have one generated`,
    );
  }
  // It travels as `Authorization: Bearer <token>`: a space or a non-ASCII character would make a
  // token no request could ever present.
  if (token !== null && !/^[\x21-\x7e]+$/.test(token)) {
    throw new ConfigError(
      'review.token',
      'must be printable ASCII without spaces (it is sent as a bearer token: letters, digits and -._~+/= are safe); generate one with `openssl rand -hex 32`',
    );
  }
  return token;
}

function systemActor(value: unknown): VouchConfig['workflow']['systemActor'] {
  if (value === 'digest' || value === 'escalate' || value === 'ignore') return value;
  throw new ConfigError(
    'workflow.system_actor',
    'must be digest (list them in one security-channel post per workflow.system_digest period), escalate (post each) or ignore',
  );
}

function systemDigest(value: unknown): DigestCadence {
  if (typeof value === 'string' && (DIGEST_CADENCES as readonly string[]).includes(value)) return value as DigestCadence;
  throw new ConfigError('workflow.system_digest', 'must be daily or hourly');
}

function healthConfig(values: Section): VouchConfig['health'] {
  const spike = values.malformed_spike ?? DEFAULTS.healthMalformedSpike;
  if (typeof spike !== 'number' || !Number.isInteger(spike) || spike < 0) {
    throw new ConfigError('health.malformed_spike', 'must be a whole number of malformed lines per minute (0 turns the check off)');
  }
  return {
    silentAfterMs: parseDuration(values.silent_after ?? DEFAULTS.healthSilentAfter, 'health.silent_after'),
    malformedSpike: spike,
    quietAfterMs: parsePositiveDuration(values.quiet_after ?? DEFAULTS.healthQuietAfter, 'health.quiet_after'),
  };
}

/**
 * `database.url` (DATABASE_URL): a postgres:// or postgresql:// URL, as the pg driver reads it
 * (user, password, host, port, database; `?host=/var/run/postgresql` for a Unix socket). Anything
 * else would reach the driver as a relative URL and fail later as a host name lookup of "base".
 * The value is never shown: it may hold a password.
 */
function postgresUrl(value: string | null, variable: string | null): string | null {
  if (value === null) return null;
  if (/^postgres(ql)?:\/\//i.test(value) && URL.canParse(value)) return value;
  const what = /^\s*\w+\s*=/.test(value) ? 'a key=value connection string, which is not read' : 'not a postgres URL';
  throw new ConfigError(
    'database.url',
    `${variable ? `${variable} is ` : ''}${what}: write it as postgres://user@host:5432/dbname ` +
      '(postgresql:// also works; for a Unix socket, postgres:///dbname?host=/var/run/postgresql), or unset it to use the embedded database',
  );
}

function assertUrl(value: string, key: string): void {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new ConfigError(key, `"${value}" is not an http(s) URL`);
  }
}

/** This machine's name, for sources that do not say which host their events come from. */
export function localHostName(): string {
  return hostname();
}
