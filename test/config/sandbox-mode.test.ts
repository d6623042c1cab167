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
});
