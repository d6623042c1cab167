import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertStartable, isLoopbackHost } from '../../src/config/sandbox-mode.js';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vouch-sandbox-mode-'));
const withSources = path.join(dir, 'vouch.yml');
writeFileSync(withSources, 'sources:\n  - { name: audit, type: auditd, path: /var/log/audit/audit.log }\n');
const SLACK = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret', SLACK_SECURITY_CHANNEL: 'C0SEC' };
const DUO = { DUO_IKEY: 'DIXXXXXXXXXXXXXXXXXX', DUO_SKEY: 'duo-secret', DUO_API_HOST: 'api-1.duosecurity.com' };
const ROUTING_KEY = '0123456789abcdef0123456789abcdef';
const withPaging = path.join(dir, 'paging.yml');
writeFileSync(withPaging, `pagerduty: { routing_key: ${ROUTING_KEY} }\n`);
const CREDENTIALS = /slack\.bot_token \(SLACK_BOT_TOKEN\), slack\.signing_secret \(SLACK_SIGNING_SECRET\), duo\.integration_key \(DUO_IKEY\), duo\.secret_key \(DUO_SKEY\),? (and )?duo\.api_host \(DUO_API_HOST\)/;

function refusal(run: () => void): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('sandbox or live', () => {
  it('runs the sandbox for a bare start: no credentials, no database URL, no sources', () => {
    const config = loadConfig({ env: {} });
    expect(config.sandbox).toBe(true);
    expect(config.server.host).toBe('127.0.0.1');
    expect(() => assertStartable(config)).not.toThrow();
  });

  it('refuses a database URL without credentials, naming the keys and --sandbox', () => {
    const config = loadConfig({ env: { DATABASE_URL: 'postgres://db/vouch' } });
    expect(config.sandbox).toBe(false);
    const error = refusal(() => assertStartable(config));
    expect(error.message).toContain('slack.bot_token (SLACK_BOT_TOKEN)');
    expect(error.message).toContain('duo.integration_key (DUO_IKEY)');
    expect(error.message).toContain('--sandbox');
  });

  it('refuses real log sources without credentials', () => {
    const config = loadConfig({ file: withSources, env: {} });
    expect(config.sandbox).toBe(false);
    expect(() => assertStartable(config)).toThrow(/SLACK_SIGNING_SECRET.*or run with --sandbox/);
  });

  it('runs the sandbox on a database and sources when asked: --sandbox or VOUCH_SANDBOX=1', () => {
    expect(loadConfig({ file: withSources, env: { DATABASE_URL: 'postgres://db/vouch' }, sandbox: true }).sandbox).toBe(true);
    const byEnv = loadConfig({ file: withSources, env: { VOUCH_SANDBOX: '1' } });
    expect(byEnv.sandbox).toBe(true);
    expect(() => assertStartable(byEnv)).not.toThrow();
    expect(loadConfig({ file: withSources, env: { VOUCH_SANDBOX: '0' } }).sandbox).toBe(false);
  });

  it('refuses a live configuration missing one credential, naming the key', () => {
    expect(() => loadConfig({ env: { ...SLACK, DUO_IKEY: DUO.DUO_IKEY, DUO_API_HOST: DUO.DUO_API_HOST } })).toThrow(/duo\.secret_key/);
    expect(() => loadConfig({ env: { ...DUO, SLACK_BOT_TOKEN: 'xoxb-1' } })).toThrow(/slack\.signing_secret/);
    const live = loadConfig({ file: withSources, env: { ...SLACK, ...DUO } });
    expect(live.sandbox).toBe(false);
    expect(() => assertStartable(live)).not.toThrow();
  });

  it('keeps the sandbox on loopback', () => {
    const exposed = loadConfig({ env: { VOUCH_SANDBOX: '1', VOUCH_HOST: '0.0.0.0' } });
    expect(refusal(() => assertStartable(exposed))).toMatchObject({ message: expect.stringMatching(/server\.host.*loopback only.*0\.0\.0\.0/) });
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'localhost.attacker.example', '127.0.0.1.nip.io']) expect(isLoopbackHost(host)).toBe(false);
  });

  it('refuses a PagerDuty routing key without Slack and Duo credentials, naming the keys and the fix', () => {
    for (const config of [loadConfig({ env: { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_API_URL: 'http://127.0.0.1:18490' } }), loadConfig({ file: withPaging, env: {} })]) {
      expect(config.sandbox).toBe(false);
      const error = refusal(() => assertStartable(config));
      expect(error.message).toContain('live mode (a PagerDuty routing key configured) needs Slack and Duo credentials');
      expect(error.message).toMatch(CREDENTIALS);
      expect(error.message).toContain('or remove pagerduty.routing_key (PAGERDUTY_ROUTING_KEY) to try Vouch on simulators');
      expect(error.message).not.toContain(ROUTING_KEY);
    }
    const deployment = loadConfig({ file: withPaging, env: { DATABASE_URL: 'postgres://db/vouch' } });
    expect(refusal(() => assertStartable(deployment)).message).toContain('remove pagerduty.routing_key (PAGERDUTY_ROUTING_KEY) and run with --sandbox');
    expect(() => assertStartable(loadConfig({ file: withPaging, env: { ...SLACK, ...DUO } }))).not.toThrow();
  });

  it('never lets a sandbox that was asked for page a real PagerDuty', () => {
    for (const config of [
      loadConfig({ env: { PAGERDUTY_ROUTING_KEY: ROUTING_KEY }, sandbox: true }),
      loadConfig({ file: withPaging, env: { VOUCH_SANDBOX: '1' } }),
    ]) {
      expect(config.sandbox).toBe(true);
      expect(refusal(() => assertStartable(config)).message).toMatch(/^config pagerduty\.routing_key: the sandbox never pages a real PagerDuty .*remove pagerduty\.routing_key \(unset PAGERDUTY_ROUTING_KEY\)/);
    }
  });

  it('refuses the company\'s SSO or a public URL without Slack and Duo credentials, naming the keys to set or remove', () => {
    const SSO = { VOUCH_OIDC_ISSUER: 'https://sso.example.com', VOUCH_OIDC_CLIENT_ID: 'vouch', VOUCH_OIDC_CLIENT_SECRET: 'sso-secret' };
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ ...SSO, VOUCH_PUBLIC_URL: 'https://vouch.example.com' }, 'review.oidc and review.public_url', 'review.oidc (VOUCH_OIDC_ISSUER, VOUCH_OIDC_CLIENT_ID, VOUCH_OIDC_CLIENT_SECRET) and review.public_url (VOUCH_PUBLIC_URL)'],
      [{ ...SSO, VOUCH_PUBLIC_URL: 'http://127.0.0.1:8080' }, 'review.oidc', 'review.oidc (VOUCH_OIDC_ISSUER, VOUCH_OIDC_CLIENT_ID, VOUCH_OIDC_CLIENT_SECRET)'],
      [{ VOUCH_PUBLIC_URL: 'https://vouch.example.com' }, 'review.public_url', 'review.public_url (VOUCH_PUBLIC_URL)'],
    ];
    for (const [env, keys, remove] of cases) {
      const config = loadConfig({ env });
      expect(config.sandbox).toBe(false);
      const error = refusal(() => assertStartable(config));
      expect(error.message).toContain(`config slack: live mode (${keys} configured) needs Slack and Duo credentials`);
      expect(error.message).toMatch(CREDENTIALS);
      expect(error.message).toContain(`or remove ${remove} to try Vouch on simulators`);
      expect(error.message).not.toContain('sso-secret');
    }
    // A public URL on loopback is where a sandbox is reached anyway; with credentials the keys are simply live.
    expect(loadConfig({ env: { VOUCH_PUBLIC_URL: 'http://127.0.0.1:8080' } }).sandbox).toBe(true);
    const live = loadConfig({ env: { ...SLACK, ...DUO, ...SSO, VOUCH_PUBLIC_URL: 'https://vouch.example.com' } });
    expect(live).toMatchObject({ sandbox: false, liveOnlyKeys: [], review: { oidc: { clientSecret: 'sso-secret' }, publicUrl: 'https://vouch.example.com' } });
    expect(() => assertStartable(live)).not.toThrow();
  });

  it('runs a sandbox asked for beside the company\'s SSO on its own simulated SSO, on loopback, never with the real client', () => {
    const env = { VOUCH_OIDC_ISSUER: 'https://sso.example.com', VOUCH_OIDC_CLIENT_ID: 'vouch', VOUCH_OIDC_CLIENT_SECRET: 'sso-secret', VOUCH_PUBLIC_URL: 'https://vouch.example.com' };
    for (const config of [loadConfig({ env, sandbox: true }), loadConfig({ env: { ...env, VOUCH_SANDBOX: '1' } })]) {
      expect(config.sandbox).toBe(true);
      expect(config.review).toMatchObject({ oidc: null, publicUrl: null });
      expect(config.liveOnlyKeys.map(({ key }) => key)).toEqual(['review.oidc', 'review.public_url']);
      expect(() => assertStartable(config)).not.toThrow();
    }
    const loopback = loadConfig({ env: { ...env, VOUCH_PUBLIC_URL: 'http://127.0.0.1:8080' }, sandbox: true });
    expect(loopback.review).toMatchObject({ oidc: null, publicUrl: 'http://127.0.0.1:8080' });
  });

  it('refuses a live-only Slack or Duo key set alone, naming every credential still to set', () => {
    const alone: Array<[Record<string, string>, string, string]> = [
      [{ SLACK_SECURITY_CHANNEL: 'C1' }, '', 'slack.security_channel'],
      [{}, 'slack: { security_channel: C1 }\n', 'slack.security_channel'],
      [{ SLACK_API_URL: 'http://127.0.0.1:1/api/' }, '', 'slack.api_url'],
      [{ DUO_API_URL: 'http://127.0.0.1:1' }, '', 'duo.api_url'],
    ];
    for (const [env, yaml, key] of alone) {
      const file = path.join(dir, 'alone.yml');
      writeFileSync(file, yaml);
      const config = loadConfig({ file, env });
      expect(config.sandbox).toBe(false);
      const error = refusal(() => assertStartable(config));
      expect(error.message).toContain(`config slack: live mode (${key} configured) needs Slack and Duo credentials`);
      expect(error.message).toMatch(CREDENTIALS);
      expect(error.message).toMatch(new RegExp(`or remove ${key.replace('.', '\\.')} \\([A-Z_]+\\) to try Vouch on simulators$`));
      // Asked for, the sandbox runs: it builds its own Slack and Duo and never reads these.
      expect(() => assertStartable(loadConfig({ file, env, sandbox: true }))).not.toThrow();
    }
    const both = loadConfig({ env: { SLACK_SECURITY_CHANNEL: 'C1', DUO_API_URL: 'http://127.0.0.1:1', PAGERDUTY_ROUTING_KEY: ROUTING_KEY } });
    expect(refusal(() => assertStartable(both)).message).toMatch(
      /live mode \(a PagerDuty routing key and slack\.security_channel and duo\.api_url configured\).*or remove pagerduty\.routing_key \(PAGERDUTY_ROUTING_KEY\) and slack\.security_channel \(SLACK_SECURITY_CHANNEL\) and duo\.api_url \(DUO_API_URL\) to try Vouch on simulators$/,
    );
    // Beside real sources the way out is --sandbox; with Duo configured, the channel alone is Slack set in part.
    expect(refusal(() => assertStartable(loadConfig({ file: withSources, env: { SLACK_SECURITY_CHANNEL: 'C1' } }))).message).toMatch(
      /live mode \(log sources and slack\.security_channel configured\).*or run with --sandbox/,
    );
    expect(() => loadConfig({ env: { ...DUO, SLACK_SECURITY_CHANNEL: 'C1' } })).toThrow(/Slack and Duo go live together: set slack\.bot_token and slack\.signing_secret/);
    expect(loadConfig({ env: { ...SLACK, ...DUO } }).liveOnlyKeys).toEqual([]);
  });
});
