import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/duration.js';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';

function configFile(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-config-'));
  const file = path.join(dir, 'vouch.yml');
  writeFileSync(file, yaml);
  return file;
}

const live = {
  SLACK_BOT_TOKEN: 'xoxb-secret-token',
  SLACK_SIGNING_SECRET: 'signing-secret-value',
  SLACK_SECURITY_CHANNEL: 'C0SECURITY',
  DUO_IKEY: 'DIXXXXXXXXXXXXXXXXXX',
  DUO_SKEY: 'duo-secret-key-value',
  DUO_API_HOST: 'api-12345678.duosecurity.com',
};

describe('loadConfig', () => {
  it('runs the sandbox on embedded defaults with no file and no credentials', () => {
    const config = loadConfig({ env: {} });
    expect(config.sandbox).toBe(true);
    expect(config.slack).toBeNull();
    expect(config.duo).toBeNull();
    expect(config.database.url).toBeNull();
    expect(config.server).toMatchObject({ port: 8080, host: '127.0.0.1' });
    expect(config.workflow).toMatchObject({ remindAfterMs: 30 * 60_000, escalateAfterMs: 2 * 3_600_000 });
  });

  it('reads the per-person push limit, with defaults, and names the key of a bad one', () => {
    expect(loadConfig({ env: {} }).workflow).toMatchObject({ maxPushesPerPerson: 3, pushRateWindowMs: 600_000 });
    const set = loadConfig({ file: configFile('duo: { max_pushes_per_person: 5, push_rate_window: 1h }\n'), env: {} });
    expect(set.workflow).toMatchObject({ maxPushesPerPerson: 5, pushRateWindowMs: 3_600_000 });
    expect(() => loadConfig({ file: configFile('duo: { max_pushes_per_person: 0 }\n'), env: {} })).toThrow(/duo\.max_pushes_per_person/);
    expect(() => loadConfig({ file: configFile('duo: { max_pushes_per_person: lots }\n'), env: {} })).toThrow(/duo\.max_pushes_per_person/);
    expect(() => loadConfig({ file: configFile('duo: { push_rate_window: 0s }\n'), env: {} })).toThrow(/duo\.push_rate_window/);
  });

  it('reads the Duo request timeout, with a default, and names the key of a bad one', () => {
    expect(loadConfig({ env: {} }).workflow.duoRequestTimeoutMs).toBe(10_000);
    expect(loadConfig({ file: configFile('duo: { request_timeout: 3s }\n'), env: {} }).workflow.duoRequestTimeoutMs).toBe(3000);
    expect(() => loadConfig({ file: configFile('duo: { request_timeout: 0s }\n'), env: {} })).toThrow(/duo\.request_timeout/);
  });

  it('reads the database timeouts, with defaults, and names the key of a bad one', () => {
    expect(loadConfig({ env: {} }).database).toMatchObject({ statementTimeoutMs: 30_000, lockTimeoutMs: 10_000 });
    const set = loadConfig({ file: configFile('database: { statement_timeout: 2m, lock_timeout: 500ms }\n'), env: {} });
    expect(set.database).toMatchObject({ statementTimeoutMs: 120_000, lockTimeoutMs: 500 });
    expect(() => loadConfig({ file: configFile('database: { lock_timeout: soon }\n'), env: {} })).toThrow(/database\.lock_timeout/);
  });

  it('takes postgres:// and postgresql:// database URLs, Unix sockets included', () => {
    for (const url of [
      'postgres://user:p%40ss@db.internal:5432/vouch?sslmode=require',
      'postgresql://vouch@db.internal/vouch',
      'postgres:///vouch?host=/var/run/postgresql',
      'postgres://%2Fvar%2Frun%2Fpostgresql/vouch',
    ]) {
      expect(loadConfig({ env: { DATABASE_URL: url } }).database.url).toBe(url);
      expect(loadConfig({ file: configFile(`database: { url: "${url}" }\n`), env: {} }).database.url).toBe(url);
    }
  });

  it('refuses a database URL that is not a postgres URL, naming the key and the expected form, never the value', () => {
    for (const url of ['notaurl', '127.0.0.1:5432/db', 'localhost:5432/db', 'postgres:vouch', 'mysql://db/vouch', 'host=x dbname=y password=hunter2']) {
      let refusal: unknown;
      try {
        loadConfig({ env: { DATABASE_URL: url } });
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(ConfigError);
      const message = (refusal as Error).message;
      expect(message).toMatch(/^config database\.url: DATABASE_URL is .*: write it as postgres:\/\/user@host:5432\/dbname \(postgresql:\/\/ also works; for a Unix socket, postgres:\/\/\/dbname\?host=\/var\/run\/postgresql\)/);
      expect(message).not.toContain(url);
    }
    expect(() => loadConfig({ env: { DATABASE_URL: 'host=x dbname=y' } })).toThrow(/DATABASE_URL is a key=value connection string, which is not read/);
    expect(() => loadConfig({ file: configFile('database: { url: notaurl }\n'), env: {} })).toThrow(/^config database\.url: not a postgres URL: write it as postgres:/);
  });

  it('reads every contract key from YAML', () => {
    const file = configFile(`
server: { port: 9090 }
database: { url: postgres://db.internal/vouch }
slack:
  bot_token: xoxb-1
  signing_secret: s3
  api_url: http://127.0.0.1:4000/api
  security_channel: C0SEC
duo:
  integration_key: DI1
  secret_key: sk
  api_host: API-1.duosecurity.com
  api_url: http://127.0.0.1:4001/
identity:
  email_domain: example.com
  users: { alice: { email: alice@corp.example, duo: alice.smith } }
  uids: { 1000: alice }
sources:
  - { name: audit, type: auditd, path: ./audit.log }
rules: ./rules.yml
workflow: { remind_after: 90s, escalate_after: 1h30m }
`);
    const config = loadConfig({ file, env: {} });
    expect(config.sandbox).toBe(false);
    expect(config.server.port).toBe(9090);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.database.url).toBe('postgres://db.internal/vouch');
    expect(config.slack).toEqual({ botToken: 'xoxb-1', signingSecret: 's3', apiUrl: 'http://127.0.0.1:4000/api/', securityChannel: 'C0SEC' });
    expect(config.duo).toEqual({ integrationKey: 'DI1', secretKey: 'sk', apiHost: 'api-1.duosecurity.com', apiUrl: 'http://127.0.0.1:4001' });
    expect(config.identity.users.alice).toEqual({ email: 'alice@corp.example', duo: 'alice.smith' });
    expect(config.identity.uids).toEqual({ '1000': 'alice' });
    expect(config.sources).toEqual([{ name: 'audit', type: 'auditd', path: path.join(path.dirname(file), 'audit.log'), token: null, host: null }]);
    expect(config.rules).toBe(path.join(path.dirname(file), 'rules.yml'));
    expect(config.workflow.remindAfterMs).toBe(90_000);
    expect(config.workflow.escalateAfterMs).toBe(5_400_000);
  });

  it('lets the environment supply every secret and override the file', () => {
    const file = configFile('server: { port: 9090 }\n');
    const config = loadConfig({ file, env: { ...live, VOUCH_PORT: '7070', DATABASE_URL: 'postgres://env/db' } });
    expect(config.server.port).toBe(7070);
    expect(config.database.url).toBe('postgres://env/db');
    expect(config.slack?.botToken).toBe('xoxb-secret-token');
    expect(config.duo?.apiUrl).toBe('https://api-12345678.duosecurity.com');
  });

  const failures: Array<[string, string, Record<string, string>, RegExp]> = [
    ['an unknown section', 'slak: {}\n', {}, /config slak: unknown key/],
    ['a bad duration', 'workflow: { remind_after: soon }\n', {}, /workflow\.remind_after: "soon" is not a duration/],
    ['a reminder after the deadline', 'workflow: { remind_after: 3h }\n', {}, /workflow\.remind_after: must be shorter/],
    ['a bad port', '', { VOUCH_PORT: 'http' }, /server\.port: must be a port number/],
    ['Slack without Duo', '', { SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 'y', SLACK_SECURITY_CHANNEL: 'C1' }, /config duo: Slack and Duo go live together/],
    ['a missing signing secret', '', { SLACK_BOT_TOKEN: 'xoxb-1' }, /slack\.signing_secret: missing: set it or SLACK_SIGNING_SECRET/],
    ['a Duo host given as a URL', '', { ...live, DUO_API_HOST: 'https://api-1.duosecurity.com' }, /duo\.api_host: must be a host name/],
    ['a source without a path', 'sources: [{ name: a, type: auditd }]\n', {}, /sources\[0\]\.path: required/],
    ['a short ingest token', 'sources: [{ name: a, type: json, token: abc }]\n', {}, /sources\[0\]\.token: must be at least 16 characters/],
    ['a source with path and token', 'sources: [{ name: a, path: /x, token: 0123456789abcdef0 }]\n', {}, /sources\[0\]\.token: a source either follows a file/],
    ['an unknown source type', 'sources: [{ name: a, type: syslog, path: /x }]\n', {}, /sources\[0\]\.type: "syslog" is not a known format/],
    ['duplicate source names', 'sources: [{ name: a, path: /x }, { name: a, path: /y }]\n', {}, /sources\[1\]\.name: "a" is used by another source/],
    ['an unknown identity key', 'identity: { users: { alice: { mail: a@b.c } } }\n', {}, /identity\.users\.alice\.mail: unknown key/],
    ['invalid YAML', 'server: [\n', {}, /--config: .* is not valid YAML/],
  ];
  it.each(failures)('names the key and the fix for %s', (_name, yaml, env, message) => {
    const file = configFile(yaml);
    expect(() => loadConfig({ file, env })).toThrow(ConfigError);
    expect(() => loadConfig({ file, env })).toThrow(message);
  });

  it('never prints a secret in an error', () => {
    const file = configFile('');
    try {
      loadConfig({ file, env: { ...live, DUO_API_HOST: 'not a host!' } });
      expect.unreachable();
    } catch (error) {
      const text = (error as Error).message;
      for (const secret of [live.SLACK_BOT_TOKEN, live.SLACK_SIGNING_SECRET, live.DUO_SKEY]) expect(text).not.toContain(secret);
    }
  });

  it('says plainly that a missing config file does not exist', () => {
    expect(() => loadConfig({ file: './x.yml', env: {} })).toThrow(/config file \.\/x\.yml does not exist/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['0', 0],
    [0, 0],
  ] as const)('%s', (input, ms) => expect(parseDuration(input, 'k')).toBe(ms));

  it.each(['', '2 hours', 'h', '-5s', '1x', '99999999999999999999d'])('rejects %j', (input) => {
    expect(() => parseDuration(input, 'workflow.escalate_after')).toThrow(/workflow\.escalate_after/);
  });
});

describe('configuration strict at every depth', () => {
  it.each([
    ['workflow: { remindAfter: 5m }\n', /config workflow\.remindAfter: unknown key: did you mean workflow\.remind_after\?/],
    ['server: { prot: 9090 }\n', /config server\.prot: unknown key: did you mean server\.port\?/],
    ['database: { urll: postgres://x }\n', /database\.urll: unknown key: did you mean database\.url\?/],
    ['slack: { bot-token: xoxb-1 }\n', /slack\.bot-token: unknown key: did you mean slack\.bot_token\?/],
    ['duo: { ikey: DI1 }\n', /duo\.ikey: unknown key/],
    ['review: { tokn: x }\n', /review\.tokn: unknown key: did you mean review\.token\?/],
    ['identity: { emaildomain: example.com }\n', /identity\.emaildomain: unknown key: did you mean identity\.email_domain\?/],
    ['identity: { users: { alice: { mail: a@b.c } } }\n', /identity\.users\.alice\.mail: unknown key: did you mean identity\.users\.alice\.email\?/],
    ['sources: [{ name: a, path: /x, hots: [a] }]\n', /sources\[0\]\.hots: unknown key: did you mean sources\[0\]\.hosts\?/],
    ['worklow: {}\n', /config worklow: unknown key: did you mean workflow\?/],
  ])('refuses %j naming the nearest key', (yaml, message) => {
    expect(() => loadConfig({ file: configFile(yaml), env: {} })).toThrow(message);
  });

  it('names no key when nothing known is close', () => {
    expect(() => loadConfig({ file: configFile('workflow: { colour: blue }\n'), env: {} })).toThrow(/workflow\.colour: unknown key: the known keys here are remind_after,/);
  });

  it('refuses a duration without a unit, with the fix', () => {
    expect(() => loadConfig({ file: configFile('workflow: { escalate_after: 7200 }\n'), env: {} })).toThrow(
      /workflow\.escalate_after: "7200" has no unit: write 7200s for seconds, 7200m for minutes/,
    );
  });

  it.each(['remind_after', 'push_timeout', 'push_poll_interval', 'poll_interval'])('refuses a zero workflow.%s', (key) => {
    expect(() => loadConfig({ file: configFile(`workflow: { ${key}: 0s }\n`), env: {} })).toThrow(new RegExp(`workflow\\.${key}: must be more than zero`));
  });

  it('reads jobs.lease, shortens the default to a third of a short push timeout, and refuses a lease the renewal cannot keep', () => {
    const lease = (yaml: string) => loadConfig({ file: configFile(yaml), env: {} }).jobs.leaseMs;
    expect(loadConfig({ env: {} }).jobs.leaseMs).toBe(30_000);
    expect(lease('jobs: { lease: 5s }\n')).toBe(5000);
    expect(lease('workflow: { push_timeout: 30s }\n')).toBe(10_000);
    // A third of 12 s would be 4 s: the default stays at the shortest lease.
    expect(lease('workflow: { push_timeout: 12s }\n')).toBe(5000);
    for (const short of ['1ms', '10ms', '100ms', '4s']) {
      expect(() => lease(`jobs: { lease: ${short} }\n`), short).toThrow(
        new RegExp(`config jobs\\.lease: must be at least 5s, got "${short}": .* set 5s or more, or leave it unset \\(30s\\)`),
      );
    }
    expect(() => lease('jobs: { lease: 50s }\n')).toThrow(/config jobs\.lease: must be at most half of workflow\.push_timeout \(90s\)/);
    expect(() => lease('workflow: { push_timeout: 8s }\n')).toThrow(/config workflow\.push_timeout: must be at least 10s, twice the shortest jobs\.lease \(5s\)/);
  });

  it('reads the system-actor digest and health settings, with defaults, and names the key of a bad one', () => {
    const defaults = loadConfig({ env: {} });
    expect(defaults.workflow).toMatchObject({ systemActor: 'digest', systemDigest: 'daily' });
    expect(defaults.health).toEqual({ silentAfterMs: 30 * 60_000, malformedSpike: 100, quietAfterMs: 30 * 60_000 });
    const set = loadConfig({
      file: configFile('workflow: { system_actor: escalate, system_digest: hourly }\nhealth: { silent_after: 0, malformed_spike: 20, quiet_after: 1h }\n'),
      env: {},
    });
    expect(set.workflow).toMatchObject({ systemActor: 'escalate', systemDigest: 'hourly' });
    expect(set.health).toEqual({ silentAfterMs: 0, malformedSpike: 20, quietAfterMs: 3_600_000 });
    expect(() => loadConfig({ file: configFile('workflow: { system_digest: weekly }\n'), env: {} })).toThrow(/workflow\.system_digest: must be daily or hourly/);
    expect(() => loadConfig({ file: configFile('workflow: { system_actor: post }\n'), env: {} })).toThrow(/workflow\.system_actor: must be digest/);
    expect(() => loadConfig({ file: configFile("health: { malformed_spike: '10' }\n"), env: {} })).toThrow(/health\.malformed_spike: must be a whole number/);
    expect(() => loadConfig({ file: configFile('health: { silent_afterr: 1h }\n'), env: {} })).toThrow(/did you mean health\.silent_after/);
  });

  it('keeps zero where it means "disabled"', () => {
    const config = loadConfig({ file: configFile('database: { statement_timeout: 0, lock_timeout: 0s }\nworkflow: { dedupe_window: 0s }\n'), env: {} });
    expect(config.database).toMatchObject({ statementTimeoutMs: 0, lockTimeoutMs: 0 });
    expect(config.workflow.dedupeWindowMs).toBe(0);
  });

  it('requires a review token of at least 32 characters and says how to make one', () => {
    expect(() => loadConfig({ env: { VOUCH_REVIEW_TOKEN: 'short-token' } })).toThrow(/review\.token: must be at least 32 characters.*openssl rand -hex 32/);
    expect(() => loadConfig({ file: configFile(`review: { token: ${'a'.repeat(31)} }\n`), env: {} })).toThrow(/review\.token/);
    expect(loadConfig({ env: { VOUCH_REVIEW_TOKEN: 'a'.repeat(32) } }).review.token).toBe('a'.repeat(32));
  });

  it('refuses a review token no Authorization header could carry', () => {
    for (const token of [`${'a'.repeat(20)} ${'b'.repeat(20)}`, ' '.repeat(32), `${'a'.repeat(32)}\t`, `${'é'.repeat(32)}`]) {
      expect(() => loadConfig({ env: { VOUCH_REVIEW_TOKEN: token } })).toThrow(/review\.token: must be printable ASCII without spaces/);
    }
    const safe = 'Az09-._~+/='.repeat(3);
    expect(loadConfig({ env: { VOUCH_REVIEW_TOKEN: safe } }).review.token).toBe(safe);
  });

  it('resolves relative paths against the config file\'s directory', () => {
    const file = configFile('rules: ./rules.yml\ndatabase: { data_dir: data }\nsources: [{ name: a, path: logs/audit.log }]\n');
    const config = loadConfig({ file, env: {} });
    const dir = path.dirname(file);
    expect(config.rules).toBe(path.join(dir, 'rules.yml'));
    expect(config.database.dataDir).toBe(path.join(dir, 'data'));
    expect(config.sources[0]?.path).toBe(path.join(dir, 'logs/audit.log'));
  });

  it('refuses two sources sharing one ingest token, naming both and the fix', () => {
    const token = 'shared-ingest-token-0123456789';
    const inFile = configFile(`sources:\n  - { name: web, type: auditd, token: ${token} }\n  - { name: db, type: auditd, token: ${token} }\n`);
    const fromFile = (() => {
      try {
        loadConfig({ file: inFile, env: {} });
      } catch (error) {
        return error as Error;
      }
      throw new Error('expected a refusal');
    })();
    expect(fromFile).toBeInstanceOf(ConfigError);
    expect(fromFile.message).toMatch(/^config sources\[1\]\.token: source "db" has the same ingest token as source "web" \(sources\[0\]\.token or VOUCH_INGEST_TOKEN_WEB\), so "db" would never receive anything/);
    expect(fromFile.message).toContain('Give each HTTP source its own token (openssl rand -hex 24) in sources[1].token or VOUCH_INGEST_TOKEN_DB');
    expect(fromFile.message).not.toContain(token);
    // The same through the environment, and a file source beside them is no conflict.
    const mixed = configFile('sources:\n  - { name: web-fleet, type: auditd }\n  - { name: audit, path: /var/log/audit/audit.log }\n  - { name: db.fleet, type: auditd }\n');
    expect(() => loadConfig({ file: mixed, env: { VOUCH_INGEST_TOKEN_WEB_FLEET: token, VOUCH_INGEST_TOKEN_DB_FLEET: token } })).toThrow(
      /sources\[2\]\.token: source "db\.fleet" has the same ingest token as source "web-fleet"/,
    );
    const distinct = loadConfig({ file: mixed, env: { VOUCH_INGEST_TOKEN_WEB_FLEET: token, VOUCH_INGEST_TOKEN_DB_FLEET: `${token}-db` } });
    expect(distinct.sources.map((source) => source.token)).toEqual([token, null, `${token}-db`]);
  });

  it('listens on an IPv6 literal written bare or bracketed', () => {
    expect(loadConfig({ env: { VOUCH_HOST: '::1' } }).server.host).toBe('::1');
    expect(loadConfig({ env: { VOUCH_HOST: '[::1]' } }).server.host).toBe('::1');
    expect(loadConfig({ file: configFile("server: { host: '[::1]' }\n"), env: {} }).server.host).toBe('::1');
    expect(loadConfig({ env: { VOUCH_HOST: '127.0.0.2' } }).server.host).toBe('127.0.0.2');
    // An empty variable is unset: the sandbox stays on loopback, live listens on its default.
    expect(loadConfig({ env: { VOUCH_HOST: '', VOUCH_PORT: '' } }).server).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(loadConfig({ env: { ...live, VOUCH_HOST: '' } }).server.host).toBe('0.0.0.0');
  });
});
