import { ConfigError } from '../errors.js';
import type { VouchConfig } from './config.js';

/** What decides whether a start runs the sandbox. */
export interface SandboxModeInputs {
  /** `--sandbox` on the command line, or VOUCH_SANDBOX=1. */
  requested: boolean;
  hasChatCredentials: boolean;
  databaseUrl: string | null;
  sourceCount: number;
}

/**
 * The sandbox runs only when asked for, or for a newcomer's bare `npm start`: no credentials, no
 * database URL and no sources. Anything that looks like a deployment (a database, real logs) is
 * never quietly served by simulators that let anyone approve a push.
 */
export function sandboxRequested(inputs: SandboxModeInputs): boolean {
  if (inputs.requested) return true;
  return !inputs.hasChatCredentials && inputs.databaseUrl === null && inputs.sourceCount === 0;
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
 * sandbox listening beyond loopback. Commands that never talk to Slack or Duo (scan, report,
 * migrate) do not call this, so they keep working on a half-configured deployment.
 */
export function assertStartable(config: VouchConfig): void {
  if (config.sandbox) {
    if (!isLoopbackHost(config.server.host)) {
      throw new ConfigError(
        'server.host',
        `the sandbox listens on loopback only (its simulated Duo lets anyone approve a push), got "${config.server.host}"; ` +
          'use 127.0.0.1 (VOUCH_HOST), or configure Slack and Duo to run live',
      );
    }
    return;
  }
  const missing: string[] = [];
  if (config.slack === null) missing.push('slack.bot_token (SLACK_BOT_TOKEN)', 'slack.signing_secret (SLACK_SIGNING_SECRET)');
  if (config.duo === null) missing.push('duo.integration_key (DUO_IKEY)', 'duo.secret_key (DUO_SKEY)', 'duo.api_host (DUO_API_HOST)');
  if (missing.length === 0) return;
  throw new ConfigError(
    config.slack === null ? 'slack' : 'duo',
    `live mode (a database URL or log sources are configured) needs Slack and Duo credentials: set ${missing.join(', ')}, ` +
      'or run with --sandbox (VOUCH_SANDBOX=1) to try Vouch on simulators',
  );
}
