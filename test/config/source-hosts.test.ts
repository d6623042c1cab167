import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { HostAllowList } from '../../src/sources/host-allow-list.js';

const TOKEN = '0123456789abcdef0123';

function load(yaml: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-hosts-'));
  const file = path.join(dir, 'vouch.yml');
  writeFileSync(file, yaml);
  return loadConfig({ file, env });
}

describe('sources[].hosts', () => {
  it('binds an HTTP source to a list of host globs', () => {
    const config = load(`sources:\n  - { name: fleet, type: auditd, token: ${TOKEN}, hosts: ['web-*', 'db-1', 'ip-10-0-?-1.ec2.internal'] }\n`);
    expect(config.sources[0]).toMatchObject({ name: 'fleet', token: TOKEN, hosts: ['web-*', 'db-1', 'ip-10-0-?-1.ec2.internal'] });
  });

  it('takes the token from the environment and still accepts hosts', () => {
    const config = load("sources:\n  - { name: fleet-1, type: json, hosts: ['web-*'] }\n", { VOUCH_INGEST_TOKEN_FLEET_1: TOKEN });
    expect(config.sources[0]?.hosts).toEqual(['web-*']);
  });

  it('leaves hosts unset when the key is absent', () => {
    const config = load(`sources:\n  - { name: fleet, type: json, token: ${TOKEN} }\n`);
    expect(config.sources[0]?.hosts).toBeUndefined();
  });

  const failures: Array<[string, string, RegExp]> = [
    ['hosts on a file source', "sources: [{ name: a, type: auditd, path: /var/log/audit/audit.log, hosts: ['web-*'] }]\n", /sources\[0\]\.hosts: binds an HTTP source .*remove hosts/],
    ['a single string', `sources: [{ name: a, type: json, token: ${TOKEN}, hosts: 'web-*' }]\n`, /sources\[0\]\.hosts: must be a list of host names or globs, such as \['web-\*', 'db-1'\]/],
    ['an empty list', `sources: [{ name: a, type: json, token: ${TOKEN}, hosts: [] }]\n`, /sources\[0\]\.hosts: must be a list .*leave it out to accept any host/],
    ['no value (its last entry commented out)', `sources:\n  - name: a\n    type: json\n    token: ${TOKEN}\n    hosts:\n    # - db-1\n`, /sources\[0\]\.hosts: is empty: list the hosts .*remove the key to accept any host/],
    ['null', `sources: [{ name: a, type: json, token: ${TOKEN}, hosts: ~ }]\n`, /sources\[0\]\.hosts: is empty/],
    ['a number', `sources: [{ name: a, type: json, token: ${TOKEN}, hosts: ['web-1', 42] }]\n`, /sources\[0\]\.hosts\[1\]: must be a host name or glob/],
    ['a regular expression', `sources: [{ name: a, type: json, token: ${TOKEN}, hosts: ['web-(a|b)+'] }]\n`, /sources\[0\]\.hosts\[0\]: must be a host name or glob \(letters, digits/],
    ['an empty glob', `sources: [{ name: a, type: json, token: ${TOKEN}, hosts: [''] }]\n`, /sources\[0\]\.hosts\[0\]: must be a host name or glob/],
    ['a path glob', `sources: [{ name: a, type: json, token: ${TOKEN}, hosts: ['web/*'] }]\n`, /sources\[0\]\.hosts\[0\]/],
  ];
  it.each(failures)('names the key and the fix for %s', (_name, yaml, message) => {
    expect(() => load(yaml)).toThrow(ConfigError);
    expect(() => load(yaml)).toThrow(message);
  });
});

describe('HostAllowList', () => {
  it('matches whole host names by glob, without regard to case', () => {
    const list = new HostAllowList(['web-*', 'db-?']);
    expect(['web-1', 'WEB-eu-2', 'web-', 'db-1'].map((host) => list.allows(host))).toEqual([true, true, true, true]);
    expect(['xweb-1', 'db-12', 'db-', 'mail-1', 'web-1\nmail-1', 'web-1 mail-1', 'web-\u00e9'].map((host) => list.allows(host))).toEqual([false, false, false, false, false, false, false]);
  });

  it('refuses an empty or invalid list with a ConfigError', () => {
    expect(() => new HostAllowList([])).toThrow(ConfigError);
    expect(() => new HostAllowList(['web-(1|2)'])).toThrow(/sources\[\]\.hosts: "web-\(1\|2\)" is not a host name or glob/);
  });

  it('stays linear on a long hostile host name', () => {
    const list = new HostAllowList(['*a*a*a*a*a*b']);
    const started = performance.now();
    expect(list.allows('a'.repeat(200_000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('sources[].start_at', () => {
  it('takes start or end on a file source, and leaves it unset when absent', () => {
    const config = load('sources:\n  - { name: a, type: auditd, path: /var/log/audit/audit.log, start_at: end }\n  - { name: b, type: auditd, path: /var/log/b.log }\n');
    expect(config.sources.map((source) => source.startAt)).toEqual(['end', undefined]);
  });

  it.each([
    ['another word', 'sources: [{ name: a, type: auditd, path: /x.log, start_at: beginning }]\n', /sources\[0\]\.start_at: "beginning": use start .* or end/],
    ['an HTTP source', `sources: [{ name: a, type: json, token: ${TOKEN}, start_at: end }]\n`, /sources\[0\]\.start_at: .*remove start_at/],
  ])('refuses %s, naming the key', (_what, yaml, message) => {
    expect(() => load(yaml)).toThrow(ConfigError);
    expect(() => load(yaml)).toThrow(message);
  });
});

describe('sources[].time_zone', () => {
  it('takes an IANA zone, and leaves it unset when absent', () => {
    const config = load(`sources:\n  - { name: a, type: sudo, path: /var/log/auth.log, time_zone: Europe/Berlin }\n  - { name: b, type: sudo, token: ${TOKEN}, time_zone: America/New_York }\n  - { name: c, type: sudo, path: /var/log/c.log }\n`);
    expect(config.sources.map((source) => source.timeZone)).toEqual(['Europe/Berlin', 'America/New_York', undefined]);
  });

  it('refuses a zone the runtime does not know, naming the key and the fix', () => {
    const yaml = 'sources: [{ name: a, type: sudo, path: /x.log, time_zone: Mars/Olympus }]\n';
    expect(() => load(yaml)).toThrow(ConfigError);
    expect(() => load(yaml)).toThrow(/sources\[0\]\.time_zone: "Mars\/Olympus" is not a time zone: .*Europe\/Berlin/);
  });
});
