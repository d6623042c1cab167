import { RE2JS } from 're2js';
import { SEVERITIES, type Severity } from '../alerts/alert.js';
import { RuleError } from '../errors.js';

/**
 * The YAML rule file format, validated into plain specs. Validation is strict (unknown fields are
 * errors, so a typo such as `exception:` can never silently disable a suppression or a condition)
 * and every message names the file, the rule id and the field:
 * `rules.yml: rule "shadow-read": match.command: invalid regex ...`.
 */

/** The condition keys a match block (or an exception) may use, in YAML spelling. */
export const CONDITION_KEYS = [
  'argv0',
  'exe',
  'command',
  'any_arg',
  'any_arg_regex',
  'user',
  'run_as',
  'host',
  'cwd',
  'format',
  'sudo_denied',
  'system_actor',
  'interactive',
] as const;
export type ConditionKey = (typeof CONDITION_KEYS)[number];

/** Condition keys whose values are re2 regular expressions. */
const REGEX_KEYS: readonly ConditionKey[] = ['command', 'any_arg_regex'];

const RULE_KEYS = ['id', 'name', 'description', 'severity', 'attack', 'mode', 'always_ask', 'match', 'any', 'exceptions'] as const;
const RULE_MODES = ['alert', 'observe'] as const;
const RULE_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const ATTACK_ID = /^T\d{4}(\.\d{3})?$/;

/**
 * One block of conditions; every given condition must hold (AND), list entries are alternatives
 * (OR). Absent conditions are not checked.
 */
export interface MatchSpec {
  /** Basename of argv[0] or of the executable, compared exactly. */
  argv0?: string[];
  /** Full executable path; `*` matches any run of characters, `?` one character. */
  exe?: string[];
  /** re2 patterns searched (unanchored) in the command line. */
  command?: string[];
  /** Some argument after argv[0] equals one of these exactly. */
  anyArg?: string[];
  /** Some argument after argv[0] contains a match of one of these re2 patterns. */
  anyArgRegex?: string[];
  /** The login user, exactly. */
  user?: string[];
  /** The account the command ran as, exactly. */
  runAs?: string[];
  /** Host name globs. */
  host?: string[];
  /** Working directory globs. */
  cwd?: string[];
  /** The parser that produced the event (auditd, sudo, ...). */
  format?: string[];
  /** Whether sudo refused the command. */
  sudoDenied?: boolean;
  /**
   * Whether the command ran with no login user (auid unset: a daemon, cron or a systemd unit).
   * Exceptions for stock maintenance jobs say `true`, so the same command typed by a person, whose
   * login user is always set, still alerts.
   */
  systemActor?: boolean;
  /**
   * Whether the command ran on a terminal. `false` holds only for kernel audit records (auditd,
   * go-audit, laurel), which always say: a format that does not record terminals never matches
   * `interactive: false`, so an exception bound to it fails closed.
   */
  interactive?: boolean;
}

/** A validated rule as written in the file, before compilation. */
export interface RuleSpec {
  id: string;
  name: string;
  description: string | null;
  severity: Severity;
  attack: string[];
  mode: 'alert' | 'observe';
  /**
   * A hit is always asked about: an earlier verification in the same session never covers it.
   * Default true for critical rules.
   */
  alwaysAsk: boolean;
  /** Conditions that must all hold; null when the rule only has `any` alternatives. */
  match: MatchSpec | null;
  /** Alternatives: when non-empty, at least one must hold (in addition to `match`). */
  any: MatchSpec[];
  /** Any exception that holds suppresses the hit. */
  exceptions: MatchSpec[];
}

/** Builds the RuleError every validation failure uses, so messages share one shape. */
export function ruleError(source: string, ruleId: string | null, field: string | null, message: string): RuleError {
  const parts = [source];
  if (ruleId !== null) parts.push(`rule "${ruleId}"`);
  if (field !== null) parts.push(field);
  return new RuleError(`${parts.join(': ')}: ${message}`);
}

/**
 * Patterns already compiled: validation compiles each one, and the compiler then reuses it
 * (an RE2JS is immutable and safe to share). Compiling is most of the cost of loading rules.
 */
const compiledPatterns = new Map<string, RE2JS>();
const MAX_COMPILED_PATTERNS = 2000;

/**
 * Compiles a re2 pattern, turning a syntax error into a RuleError naming the field. Exported so
 * the compiler and the validator agree on flags: patterns are case-sensitive unless they say
 * `(?i)`, and `.` does not match newlines unless they say `(?s)`.
 */
export function compilePattern(pattern: string, where: { source: string; ruleId: string; field: string }): RE2JS {
  const known = compiledPatterns.get(pattern);
  if (known) return known;
  try {
    const compiled = RE2JS.compile(pattern);
    // Bounded: rule files are small, but the service may reload them for as long as it runs.
    if (compiledPatterns.size >= MAX_COMPILED_PATTERNS) compiledPatterns.clear();
    compiledPatterns.set(pattern, compiled);
    return compiled;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw ruleError(where.source, where.ruleId, where.field, `invalid regex ${JSON.stringify(pattern)}: ${reason}`);
  }
}

/** Validates a parsed YAML document (`{ rules: [...] }`) into rule specs, in file order. */
export function validateRuleDocument(doc: unknown, source: string): RuleSpec[] {
  if (!isRecord(doc) || !Array.isArray(doc.rules)) {
    throw ruleError(source, null, null, 'expected a mapping with a `rules:` list at the top level');
  }
  for (const key of Object.keys(doc)) {
    if (key !== 'rules') throw ruleError(source, null, key, 'unknown top-level field; only `rules` is allowed');
  }
  if (doc.rules.length === 0) {
    throw ruleError(source, null, 'rules', 'the list is empty; add rules or leave the rules setting unset to use the default pack');
  }
  const seen = new Set<string>();
  return doc.rules.map((raw, index) => {
    const rule = validateRule(raw, index, source);
    if (seen.has(rule.id)) throw ruleError(source, rule.id, 'id', 'duplicate rule id; ids must be unique');
    seen.add(rule.id);
    return rule;
  });
}

function validateRule(raw: unknown, index: number, source: string): RuleSpec {
  if (!isRecord(raw)) throw ruleError(source, null, `rules[${index}]`, 'expected a mapping with id, name, severity and match');
  const id = ruleId(raw.id, index, source);
  const fail = (field: string, message: string): RuleError => ruleError(source, id, field, message);
  for (const key of Object.keys(raw)) {
    if (!(RULE_KEYS as readonly string[]).includes(key)) throw fail(key, `unknown field; the known ones are ${RULE_KEYS.join(', ')}`);
  }
  const name = raw.name;
  if (typeof name !== 'string' || name.trim() === '') throw fail('name', 'required: a short human-readable title');
  const description = raw.description;
  if (description !== undefined && description !== null && typeof description !== 'string') throw fail('description', 'must be a string');
  const severity = raw.severity;
  if (typeof severity !== 'string' || !(SEVERITIES as readonly string[]).includes(severity)) {
    throw fail('severity', `required: one of ${SEVERITIES.join(', ')}`);
  }
  const mode = raw.mode ?? 'alert';
  if (typeof mode !== 'string' || !(RULE_MODES as readonly string[]).includes(mode)) throw fail('mode', 'must be alert or observe');
  const alwaysAsk = raw.always_ask ?? severity === 'critical';
  if (typeof alwaysAsk !== 'boolean') throw fail('always_ask', 'must be true or false');
  const match = raw.match === undefined || raw.match === null ? null : matchBlock(raw.match, 'match', source, id);
  const any = blockList(raw.any, 'any', source, id);
  if (match === null && any.length === 0) throw fail('match', 'required: a `match` block or an `any` list of match blocks');
  return {
    id,
    name: name.trim(),
    description: typeof description === 'string' ? description.trim() : null,
    severity: severity as Severity,
    attack: attackIds(raw.attack, fail),
    mode: mode as RuleSpec['mode'],
    alwaysAsk,
    match,
    any,
    exceptions: blockList(raw.exceptions, 'exceptions', source, id),
  };
}

function ruleId(raw: unknown, index: number, source: string): string {
  if (typeof raw !== 'string' || raw === '') throw ruleError(source, null, `rules[${index}].id`, 'required: lower-case letters, digits and dashes');
  if (!RULE_ID.test(raw) || raw.length > 100) {
    throw ruleError(source, null, `rules[${index}].id`, `${JSON.stringify(raw)} must be lower-case letters, digits and single dashes (at most 100 characters)`);
  }
  return raw;
}

function attackIds(raw: unknown, fail: (field: string, message: string) => RuleError): string[] {
  if (raw === undefined || raw === null) return [];
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list)) throw fail('attack', 'must be a list of ATT&CK technique ids such as T1003.008');
  return list.map((value, i) => {
    if (typeof value !== 'string' || !ATTACK_ID.test(value)) {
      throw fail(`attack[${i}]`, `${JSON.stringify(value)} is not an ATT&CK technique id (T1234 or T1234.567)`);
    }
    return value;
  });
}

function blockList(raw: unknown, field: string, source: string, id: string): MatchSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw ruleError(source, id, field, 'must be a list of match blocks');
  return raw.map((block, i) => matchBlock(block, `${field}[${i}]`, source, id));
}

function matchBlock(raw: unknown, field: string, source: string, id: string): MatchSpec {
  if (!isRecord(raw)) throw ruleError(source, id, field, `must be a mapping of conditions (${CONDITION_KEYS.join(', ')})`);
  const keys = Object.keys(raw);
  if (keys.length === 0) throw ruleError(source, id, field, 'is empty; an empty block would match every command');
  const spec: MatchSpec = {};
  for (const key of keys) {
    if (!(CONDITION_KEYS as readonly string[]).includes(key)) {
      throw ruleError(source, id, `${field}.${key}`, `unknown condition; the known ones are ${CONDITION_KEYS.join(', ')}`);
    }
    setCondition(spec, key as ConditionKey, raw[key], { source, ruleId: id, field: `${field}.${key}` });
  }
  return spec;
}

function setCondition(spec: MatchSpec, key: ConditionKey, value: unknown, where: { source: string; ruleId: string; field: string }): void {
  if (key === 'sudo_denied' || key === 'system_actor' || key === 'interactive') {
    if (typeof value !== 'boolean') throw ruleError(where.source, where.ruleId, where.field, 'must be true or false');
    if (key === 'sudo_denied') spec.sudoDenied = value;
    else if (key === 'system_actor') spec.systemActor = value;
    else spec.interactive = value;
    return;
  }
  const list = stringList(value, where);
  if (REGEX_KEYS.includes(key)) {
    list.forEach((pattern, i) => compilePattern(pattern, { ...where, field: Array.isArray(value) ? `${where.field}[${i}]` : where.field }));
  }
  switch (key) {
    case 'argv0': spec.argv0 = list; break;
    case 'exe': spec.exe = list; break;
    case 'command': spec.command = list; break;
    case 'any_arg': spec.anyArg = list; break;
    case 'any_arg_regex': spec.anyArgRegex = list; break;
    case 'user': spec.user = list; break;
    case 'run_as': spec.runAs = list; break;
    case 'host': spec.host = list; break;
    case 'cwd': spec.cwd = list; break;
    case 'format': spec.format = list; break;
  }
}

/**
 * A string or a non-empty list of strings. Numbers are refused rather than converted: YAML reads
 * `0755` as the integer 755, so converting back would silently change the value.
 */
function stringList(value: unknown, where: { source: string; ruleId: string; field: string }): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw ruleError(where.source, where.ruleId, where.field, 'must be a string or a non-empty list of strings');
  }
  return list.map((item, i) => {
    if (typeof item !== 'string') {
      throw ruleError(where.source, where.ruleId, `${where.field}[${i}]`, `${JSON.stringify(item)} must be a string (quote numbers and booleans, e.g. '0')`);
    }
    if (item === '') throw ruleError(where.source, where.ruleId, `${where.field}[${i}]`, 'must not be empty');
    return item;
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
