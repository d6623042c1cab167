import { ConfigError } from '../errors.js';
import type { LiveOnlyKey, ReviewConfig, VouchConfig } from './config.js';

/** What decides whether a start runs the sandbox. */
export interface SandboxModeInputs {
  /** `--sandbox` on the command line, or VOUCH_SANDBOX=1. */
  requested: boolean;
  hasChatCredentials: boolean;
  databaseUrl: string | null;
  sourceCount: number;
  /** A PagerDuty routing key is set: it pages a real on-call, so it belongs to a deployment. */
  pagingConfigured: boolean;
  /**
   * Keys only live mode reads, set without credentials (see VouchConfig.liveOnlyKeys), the review
   * console's too (reviewLiveOnlyKeys).
   */
  liveOnlyKeys: readonly LiveOnlyKey[];
}

/**
 * The sandbox runs only when asked for, or for a newcomer's bare `npm start`: no credentials, no
 * database URL, no sources, no paging and no other key only live mode reads. Anything that looks
 * like a deployment (a database, real logs, a real on-call, a security channel, the company's SSO
 * or a public URL) is never quietly served by simulators that let anyone approve a push.
 */
export function sandboxRequested(inputs: SandboxModeInputs): boolean {
  if (inputs.requested) return true;
  const deployment = inputs.databaseUrl !== null || inputs.sourceCount > 0 || inputs.pagingConfigured || inputs.liveOnlyKeys.length > 0;
  return !inputs.hasChatCredentials && !deployment;
}

/**
 * The review console's keys that only a deployment sets: the company's SSO client (review.oidc,
 * whose secret is a real credential) and a public URL browsers reach beyond this machine. A
 * loopback public URL is not one: it is where a sandbox is reached anyway.
 */
export function reviewLiveOnlyKeys(review: ReviewConfig): LiveOnlyKey[] {
  const keys: LiveOnlyKey[] = [];
  if (review.oidc !== null) keys.push({ key: 'review.oidc', variable: 'VOUCH_OIDC_ISSUER, VOUCH_OIDC_CLIENT_ID, VOUCH_OIDC_CLIENT_SECRET' });
  if (review.publicUrl !== null && !isLoopbackHost(new URL(review.publicUrl).hostname)) keys.push({ key: 'review.public_url', variable: 'VOUCH_PUBLIC_URL' });
  return keys;
}

/**
 * The loaded configuration with the sandbox decided on all of it: loading decides before the
 * review console's keys are read, so a bare start with the company's SSO or a public URL (and no
 * Slack or Duo credentials) becomes live here, and start refuses it naming the missing keys. A
 * sandbox that was asked for (`requested`: --sandbox, VOUCH_SANDBOX) still runs, but never on the
 * company's SSO nor at its public URL: its console is reached on loopback (the Host check refuses
 * any other name) and signs in at the sandbox's own simulated provider, so a real client secret
 * is never used by a sandbox.
 */
export function settleSandboxMode(config: VouchConfig, requested: boolean): VouchConfig {
  const reviewKeys = reviewLiveOnlyKeys(config.review);
  // As for the Slack and Duo keys: only without credentials do they tell a deployment from the sandbox.
  const liveOnlyKeys = config.slack === null ? [...config.liveOnlyKeys, ...reviewKeys] : config.liveOnlyKeys;
  const sandbox = sandboxRequested({
    requested,
    hasChatCredentials: config.slack !== null,
    databaseUrl: config.database.url,
    sourceCount: config.sources.length,
    pagingConfigured: config.pagerduty !== null,
    liveOnlyKeys,
  });
  if (!sandbox) return { ...config, sandbox, liveOnlyKeys };
  const publicUrl = reviewKeys.some(({ key }) => key === 'review.public_url') ? null : config.review.publicUrl;
  return { ...config, sandbox, liveOnlyKeys, review: { ...config.review, oidc: null, publicUrl } };
}

/** `VOUCH_SANDBOX`: 1, true or yes turn it on; anything else (or absent) leaves it off. */
export function sandboxFlag(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

/** 127.0.0.0/8, ::1 and localhost: the only addresses a sandbox may listen on. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/**
 * Refuses a start that could not be safe: live mode without Slack and Duo credentials, or a
 * sandbox listening beyond loopback or able to page a real PagerDuty. Commands that never talk to
 * Slack or Duo (scan, report, migrate) do not call this, so they keep working on a
 * half-configured deployment; `vouch doctor` reports its refusal as a failed check.
 */
export function assertStartable(config: VouchConfig): void {
  if (config.sandbox) {
    assertSafeSandbox(config);
    return;
  }
  const missing: string[] = [];
  if (config.slack === null) missing.push('slack.bot_token (SLACK_BOT_TOKEN)', 'slack.signing_secret (SLACK_SIGNING_SECRET)');
  if (config.duo === null) missing.push('duo.integration_key (DUO_IKEY)', 'duo.secret_key (DUO_SKEY)', 'duo.api_host (DUO_API_HOST)');
  if (missing.length === 0) return;
  throw new ConfigError(
    config.slack === null ? 'slack' : 'duo',
    `live mode${liveReasons(config)} needs Slack and Duo credentials: set ${missing.join(', ')}, ${sandboxAdvice(config)}`,
  );
}

function assertSafeSandbox(config: VouchConfig): void {
  if (!isLoopbackHost(config.server.host)) {
    throw new ConfigError(
      'server.host',
      `the sandbox listens on loopback only (its simulated Duo lets anyone approve a push), got "${config.server.host}"; ` +
        'use 127.0.0.1 (VOUCH_HOST), or configure Slack and Duo to run live',
    );
  }
  // Its alerts are made up and anyone may answer them: a page would wake a real on-call for nothing.
  if (config.pagerduty !== null) {
    throw new ConfigError(
      'pagerduty.routing_key',
      'the sandbox never pages a real PagerDuty (its alerts are simulated); ' +
        'remove pagerduty.routing_key (unset PAGERDUTY_ROUTING_KEY) to run the sandbox, or configure Slack and Duo to run live',
    );
  }
}

/** What made this start a deployment rather than the sandbox, e.g. ` (log sources configured)`. */
function liveReasons(config: VouchConfig): string {
  const reasons: string[] = [];
  if (config.database.url !== null) reasons.push('a database URL');
  if (config.sources.length > 0) reasons.push('log sources');
  if (config.pagerduty !== null) reasons.push('a PagerDuty routing key');
  reasons.push(...config.liveOnlyKeys.map(({ key }) => key));
  return reasons.length > 0 ? ` (${reasons.join(' and ')} configured)` : '';
}

/**
 * The way back to the sandbox. Without a database or sources, removing the keys that made the
 * start live is enough; a routing key must go in any case, as the sandbox never pages.
 */
function sandboxAdvice(config: VouchConfig): string {
  const paging: LiveOnlyKey[] = config.pagerduty === null ? [] : [{ key: 'pagerduty.routing_key', variable: 'PAGERDUTY_ROUTING_KEY' }];
  const bare = config.database.url === null && config.sources.length === 0;
  const removable = bare ? [...paging, ...config.liveOnlyKeys] : paging;
  if (removable.length === 0) return 'or run with --sandbox (VOUCH_SANDBOX=1) to try Vouch on simulators';
  const remove = `or remove ${removable.map(({ key, variable }) => `${key} (${variable})`).join(' and ')}`;
  return bare ? `${remove} to try Vouch on simulators` : `${remove} and run with --sandbox (VOUCH_SANDBOX=1) to try Vouch on simulators`;
}
