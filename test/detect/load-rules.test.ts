import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RuleError } from '../../src/errors.js';
import { defaultRulesPath, loadDefaultRules, loadRuleFile, parseRules } from '../../src/detect/load-rules.js';
import { makeEvent } from './make-event.js';

const RULE = '  - id: shadow-read\n    name: Read of password hashes\n    severity: high\n';

function errorOf(yaml: string): RuleError {
  try {
    parseRules(yaml, 'rules.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(RuleError);
    return error as RuleError;
  }
  throw new Error('expected a RuleError');
}

describe('rule file validation', () => {
  it.each([
    ['an invalid regex', `rules:\n${RULE}    match:\n      command: 'a(b'\n`, /^rules\.yml: rule "shadow-read": match\.command: invalid regex "a\(b": .*missing closing \)/],
    ['an invalid regex in a list', `rules:\n${RULE}    match:\n      command: [ok, '[z-a]']\n`, /^rules\.yml: rule "shadow-read": match\.command\[1\]: invalid regex/],
    ['list entries that clash when joined', `rules:\n${RULE}    match:\n      command: ['(?P<a>x)', '(?P<a>y)']\n`, /^rules\.yml: rule "shadow-read": match\.command: invalid regex list: .*duplicate capture group name/],
    ['a lookahead re2 cannot run in linear time', `rules:\n${RULE}    match:\n      any_arg_regex: '(?=x)'\n`, /rule "shadow-read": match\.any_arg_regex: invalid regex "\(\?=x\)"/],
    ['an unknown condition', `rules:\n${RULE}    match:\n      argv: [cat]\n`, /^rules\.yml: rule "shadow-read": match\.argv: unknown condition; the known ones are argv0, exe/],
    ['an unknown rule field', `rules:\n${RULE}    match: { argv0: [cat] }\n    exception: []\n`, /^rules\.yml: rule "shadow-read": exception: unknown field/],
    ['a missing name', 'rules:\n  - id: x\n    severity: high\n    match: { argv0: [cat] }\n', /^rules\.yml: rule "x": name: required/],
    ['a bad severity', 'rules:\n  - id: x\n    name: X\n    severity: severe\n    match: { argv0: [cat] }\n', /rule "x": severity: required: one of low, medium, high, critical/],
    ['a bad mode', `rules:\n${RULE}    mode: loud\n    match: { argv0: [cat] }\n`, /rule "shadow-read": mode: must be alert or observe/],
    ['a bad ATT&CK id', `rules:\n${RULE}    attack: [T1003.8]\n    match: { argv0: [cat] }\n`, /rule "shadow-read": attack\[0\]: "T1003.8" is not an ATT&CK technique id/],
    ['a missing id', 'rules:\n  - name: X\n    severity: high\n    match: { argv0: [cat] }\n', /^rules\.yml: rules\[0\]\.id: required/],
    ['a bad id', 'rules:\n  - id: Shadow_Read\n    name: X\n    severity: high\n    match: { argv0: [cat] }\n', /rules\[0\]\.id: "Shadow_Read" must be lower-case/],
    ['a duplicate id', `rules:\n${RULE}    match: { argv0: [cat] }\n${RULE}    match: { argv0: [less] }\n`, /rule "shadow-read": id: duplicate rule id/],
    ['no match and no any', `rules:\n${RULE}`, /rule "shadow-read": match: required: a `match` block or an `any` list/],
    ['an empty block', `rules:\n${RULE}    match: {}\n`, /rule "shadow-read": match: is empty/],
    ['a number where a string belongs', `rules:\n${RULE}    match: { any_arg: [0755] }\n`, /rule "shadow-read": match\.any_arg\[0\]: 755 must be a string \(quote numbers/],
    ['a non-boolean sudo_denied', `rules:\n${RULE}    match: { sudo_denied: 'yes' }\n`, /match\.sudo_denied: must be true or false/],
    ['a non-boolean interactive', `rules:\n${RULE}    match: { argv0: cmp, interactive: 1 }\n`, /match\.interactive: must be true or false/],
    ['a non-boolean system_actor', `rules:\n${RULE}    match: { argv0: cmp, system_actor: 'yes' }\n`, /match\.system_actor: must be true or false/],
    ['an empty list', `rules:\n${RULE}    match: { argv0: [] }\n`, /match\.argv0: must be a string or a non-empty list/],
    ['a bad exception', `rules:\n${RULE}    match: { argv0: [cat] }\n    exceptions:\n      - { users: [x] }\n`, /rule "shadow-read": exceptions\[0\]\.users: unknown condition/],
    ['a bad any block', `rules:\n${RULE}    any:\n      - { argv0: [cat] }\n      - { command: '*' }\n`, /rule "shadow-read": any\[1\]\.command: invalid regex/],
    ['no rules list', 'rule:\n  - id: x\n', /^rules\.yml: expected a mapping with a `rules:` list/],
    ['an empty rules list', 'rules: []\n', /^rules\.yml: rules: the list is empty/],
    ['invalid YAML', 'rules:\n  - id: [unclosed\n', /^rules\.yml: invalid YAML: /],
    ['duplicate keys', `rules:\n${RULE}    severity: low\n    match: { argv0: [cat] }\n`, /^rules\.yml: invalid YAML: .*[Mm]ap keys must be unique/],
    ['an empty document', '', /^rules\.yml: expected a mapping/],
  ])('rejects %s with a message naming file, rule and field', (_what, yaml, message) => {
    expect(errorOf(yaml).message).toMatch(message);
    expect(errorOf(yaml).code).toBe('rule_invalid');
  });

  it('accepts a single string where a list is allowed, and ATT&CK ids as one string', () => {
    const rules = parseRules(`rules:\n${RULE}    attack: T1003.008\n    match: { argv0: cat, any_arg: /etc/shadow }\n`, 'rules.yml');
    expect(rules.match(makeEvent('cat /etc/shadow'))).toEqual({
      ruleId: 'shadow-read',
      ruleName: 'Read of password hashes',
      severity: 'high',
      attack: ['T1003.008'],
      mode: 'alert',
    });
  });

  it('resolves YAML anchors and aliases but refuses alias bombs', () => {
    const rules = parseRules('rules:\n  - { id: a, name: A, severity: low, match: { argv0: &tools [x, y] } }\n  - { id: b, name: B, severity: low, match: { argv0: *tools } }\n', 'r.yml');
    expect(rules.matchAll(makeEvent('y')).map((hit) => hit.ruleId)).toEqual(['a', 'b']);
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    expect(() => parseRules(`${lines.join('\n')}\nrules: []\n`, 'bomb.yml')).toThrow(RuleError);
  });
});

describe('rule files on disk', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a file and names it in errors', () => {
    const good = path.join(dir, 'good.yml');
    writeFileSync(good, `rules:\n${RULE}    match: { argv0: [cat], any_arg: [/etc/shadow] }\n`);
    expect(loadRuleFile(good).match(makeEvent('cat /etc/shadow'))?.ruleId).toBe('shadow-read');
    const bad = path.join(dir, 'bad.yml');
    writeFileSync(bad, `rules:\n${RULE}    match: { command: '(' }\n`);
    expect(() => loadRuleFile(bad)).toThrow(/^bad\.yml: rule "shadow-read": match\.command: invalid regex/);
  });

  it('reports a missing file as a RuleError', () => {
    expect(() => loadRuleFile(path.join(dir, 'missing.yml'))).toThrow(/^missing\.yml: cannot read rule file .*missing\.yml/);
  });

  it('finds the default pack next to the source and from compiled output', () => {
    const sourcePath = defaultRulesPath();
    expect(sourcePath.endsWith(path.join('src', 'detect', 'default-rules.yml'))).toBe(true);
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
    const compiled = pathToFileURL(path.join(root, 'dist', 'src', 'detect', 'load-rules.js')).href;
    expect(defaultRulesPath(compiled)).toBe(path.join(root, 'src', 'detect', 'default-rules.yml'));
    expect(loadDefaultRules().size).toBeGreaterThan(0);
  });

  it('fails clearly when the default pack cannot be found', () => {
    const stray = pathToFileURL(path.join(dir, 'nested', 'load-rules.js')).href;
    expect(() => defaultRulesPath(stray)).toThrow(/default-rules\.yml: the default rule pack was not found/);
  });
});
