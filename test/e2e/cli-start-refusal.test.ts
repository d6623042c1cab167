import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(root, 'bin', 'vouch');
const built = existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'));

/** `vouch start` on a deployment without credentials exits 2 and says what to set, never runs simulators. */
describe.skipIf(!built)('vouch start refuses to fall open to the sandbox', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-refusal-'));
  const file = path.join(dir, 'vouch.yml');
  writeFileSync(file, `sources:\n  - { name: audit, type: auditd, path: ${path.join(dir, 'audit.log')} }\n`);
  const base = { ...process.env, VOUCH_DATA_DIR: dir, VOUCH_PORT: '0', DATABASE_URL: '', VOUCH_CONFIG: '', VOUCH_HOST: '', VOUCH_SANDBOX: '', SLACK_BOT_TOKEN: '', SLACK_SIGNING_SECRET: '', SLACK_SECURITY_CHANNEL: '', SLACK_API_URL: '', DUO_API_URL: '', PAGERDUTY_ROUTING_KEY: '', PAGERDUTY_API_URL: '', DUO_IKEY: '', DUO_SKEY: '', DUO_API_HOST: '', VOUCH_OIDC_ISSUER: '', VOUCH_OIDC_CLIENT_ID: '', VOUCH_OIDC_CLIENT_SECRET: '', VOUCH_PUBLIC_URL: '' };
  const start = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, [bin, 'start', ...args], { env: { ...base, ...env }, encoding: 'utf8', timeout: 30_000 });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('with a database URL or real sources but no Slack and Duo credentials', () => {
    for (const run of [start({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }), start({}, '--config', file)]) {
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('slack.bot_token (SLACK_BOT_TOKEN)');
      expect(run.stderr).toContain('or run with --sandbox');
    }
  });

  it('with the console\'s SSO configured only in part, naming the missing key', () => {
    const run = start({ VOUCH_OIDC_ISSUER: 'https://sso.example.com', VOUCH_OIDC_CLIENT_ID: 'vouch', VOUCH_PUBLIC_URL: 'https://vouch.example.com' }, '--config', file);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('review.oidc.client_secret: missing: set it or VOUCH_OIDC_CLIENT_SECRET');
  });

  it('with the company\'s SSO and a public URL but no Slack and Duo credentials, never running simulators beside a real identity provider', () => {
    const sso = { VOUCH_OIDC_ISSUER: 'https://sso.example.com', VOUCH_OIDC_CLIENT_ID: 'vouch', VOUCH_OIDC_CLIENT_SECRET: 'sso-secret', VOUCH_PUBLIC_URL: 'https://vouch.example.com' };
    const run = start(sso);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      'config slack: live mode (review.oidc and review.public_url configured) needs Slack and Duo credentials: set slack.bot_token (SLACK_BOT_TOKEN), slack.signing_secret (SLACK_SIGNING_SECRET), duo.integration_key (DUO_IKEY)',
    );
    expect(run.stderr).toContain('or remove review.oidc (VOUCH_OIDC_ISSUER, VOUCH_OIDC_CLIENT_ID, VOUCH_OIDC_CLIENT_SECRET) and review.public_url (VOUCH_PUBLIC_URL) to try Vouch on simulators');
    expect(run.stderr).not.toContain(sso.VOUCH_OIDC_CLIENT_SECRET);
    expect(run.stdout).not.toContain('sandbox is running');
  });

  it('a sandbox asked to listen beyond loopback', () => {
    const run = start({ VOUCH_HOST: '0.0.0.0' }, '--sandbox');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/server\.host.*loopback only/);
  });

  it('with a PagerDuty routing key but no Slack and Duo credentials, and never pages from a sandbox', () => {
    const paging = { PAGERDUTY_ROUTING_KEY: '0123456789abcdef0123456789abcdef', PAGERDUTY_API_URL: 'http://127.0.0.1:18490' };
    const live = start(paging);
    expect(live.status).toBe(2);
    expect(live.stderr).toContain('live mode (a PagerDuty routing key configured) needs Slack and Duo credentials: set slack.bot_token (SLACK_BOT_TOKEN)');
    expect(live.stderr).toContain('or remove pagerduty.routing_key (PAGERDUTY_ROUTING_KEY) to try Vouch on simulators');
    const sandbox = start(paging, '--sandbox');
    expect(sandbox.status).toBe(2);
    expect(sandbox.stderr).toContain('config pagerduty.routing_key: the sandbox never pages a real PagerDuty');
    for (const run of [live, sandbox]) expect(run.stderr).not.toContain(paging.PAGERDUTY_ROUTING_KEY);
  });

  it('with only the security channel set, naming every credential still missing', () => {
    const run = start({ SLACK_SECURITY_CHANNEL: 'C1' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      'config slack: live mode (slack.security_channel configured) needs Slack and Duo credentials: set slack.bot_token (SLACK_BOT_TOKEN), slack.signing_secret (SLACK_SIGNING_SECRET), duo.integration_key (DUO_IKEY)',
    );
    expect(run.stderr).toContain('or remove slack.security_channel (SLACK_SECURITY_CHANNEL) to try Vouch on simulators');
    expect(run.stdout).not.toContain('sandbox is running');
  });
});
