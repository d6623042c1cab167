import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';

function configFile(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-review-config-'));
  const file = path.join(dir, 'vouch.yml');
  writeFileSync(file, yaml);
  return file;
}

const OIDC_ENV = { VOUCH_OIDC_ISSUER: 'https://sso.example.com', VOUCH_OIDC_CLIENT_ID: 'vouch', VOUCH_OIDC_CLIENT_SECRET: 'secret-value', VOUCH_PUBLIC_URL: 'https://vouch.example.com' };

describe('review console configuration', () => {
  it('reads review.* from the file and the environment', () => {
    const file = configFile(
      [
        'review:',
        '  public_url: https://vouch.example.com/',
        '  oidc: { issuer: https://sso.example.com/realms/corp, client_id: vouch, client_secret: from-file }',
        '  reviewers: [dana@example.com, "group:security"]',
        '  admins: [erin@example.com]',
        '  session_idle_timeout: 30m',
        '  session_max_age: 8h',
      ].join('\n'),
    );
    const review = loadConfig({ file, env: { VOUCH_OIDC_CLIENT_SECRET: 'from-env' } }).review;
    expect(review).toMatchObject({
      publicUrl: 'https://vouch.example.com',
      oidc: { issuer: 'https://sso.example.com/realms/corp', clientId: 'vouch', clientSecret: 'from-env' },
      reviewers: ['dana@example.com', 'group:security'],
      admins: ['erin@example.com'],
      sessionIdleMs: 30 * 60_000,
      sessionMaxAgeMs: 8 * 3_600_000,
    });
    expect(loadConfig({ env: OIDC_ENV }).review.oidc).toEqual({ issuer: 'https://sso.example.com', clientId: 'vouch', clientSecret: 'secret-value' });
  });

  it.each([
    ['VOUCH_OIDC_ISSUER', /review\.oidc\.issuer: missing: set it or VOUCH_OIDC_ISSUER/],
    ['VOUCH_OIDC_CLIENT_ID', /review\.oidc\.client_id: missing: set it or VOUCH_OIDC_CLIENT_ID/],
    ['VOUCH_OIDC_CLIENT_SECRET', /review\.oidc\.client_secret: missing: set it or VOUCH_OIDC_CLIENT_SECRET/],
    ['VOUCH_PUBLIC_URL', /review\.public_url: missing: set it or VOUCH_PUBLIC_URL/],
  ])('refuses review.oidc set in part, naming the missing key (%s unset)', (missing, message) => {
    expect(() => loadConfig({ env: { ...OIDC_ENV, [missing]: undefined } })).toThrow(message);
  });

  it('never names a secret in its messages', () => {
    expect(() => loadConfig({ env: { ...OIDC_ENV, VOUCH_OIDC_ISSUER: undefined } })).not.toThrow(/secret-value/);
  });

  it('refuses plain http beyond loopback, where Secure cookies would never come back', () => {
    expect(() => loadConfig({ env: { ...OIDC_ENV, VOUCH_PUBLIC_URL: 'http://vouch.example.com' } })).toThrow(/review\.public_url: .*must be https/);
    expect(() => loadConfig({ env: { ...OIDC_ENV, VOUCH_OIDC_ISSUER: 'http://sso.example.com' } })).toThrow(/review\.oidc\.issuer: .*must be https/);
    expect(loadConfig({ env: { ...OIDC_ENV, VOUCH_PUBLIC_URL: 'http://127.0.0.1:8080' } }).review.publicUrl).toBe('http://127.0.0.1:8080');
  });

  it.each([
    ['review: { reviewers: dana@example.com }\n', /review\.reviewers: must be a list/],
    ['review: { admins: ["group:"] }\n', /review\.admins\[0\]: must be an email/],
    ['review: { session_idle_timeout: 13h }\n', /review\.session_idle_timeout: must not be longer than review\.session_max_age/],
    ['review: { oidc: { isuer: x } }\n', /review\.oidc\.isuer: unknown key: did you mean review\.oidc\.issuer\?/],
  ])('refuses %j', (yaml, message) => {
    expect(() => loadConfig({ file: configFile(yaml), env: {} })).toThrow(message);
  });

  it('takes server.public_url as the public URL when review.public_url is not set', () => {
    expect(loadConfig({ file: configFile('server: { public_url: https://vouch.example.com }\n'), env: {} }).review.publicUrl).toBe('https://vouch.example.com');
  });
});
