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
  const base = { ...process.env, VOUCH_DATA_DIR: dir, VOUCH_PORT: '0', DATABASE_URL: '', VOUCH_CONFIG: '', VOUCH_HOST: '', VOUCH_SANDBOX: '', SLACK_BOT_TOKEN: '', SLACK_SIGNING_SECRET: '', DUO_IKEY: '', DUO_SKEY: '', DUO_API_HOST: '', VOUCH_OIDC_ISSUER: '', VOUCH_OIDC_CLIENT_ID: '', VOUCH_OIDC_CLIENT_SECRET: '', VOUCH_PUBLIC_URL: '' };
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

  it('a sandbox asked to listen beyond loopback', () => {
    const run = start({ VOUCH_HOST: '0.0.0.0' }, '--sandbox');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/server\.host.*loopback only/);
  });
});
