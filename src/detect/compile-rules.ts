import { RE2JS, RE2Set } from 're2js';
import type { Severity } from '../alerts/alert.js';
import type { CommandEvent } from '../sources/command-event.js';
import { containsAnyLiteral, requiredLiterals } from './required-literal.js';
import type { RuleMatch, RuleSet } from './rule.js';
import { compilePattern, ruleError, type MatchSpec, type RuleSpec } from './rule-schema.js';

/**
 * How much of a command line (and of each argument) a rule regex sees: the first 64 KiB. re2 is
 * linear in its input, so this bounds the worst case per event at a few milliseconds no matter
 * what an attacker puts on the command line. Exact conditions (argv0, any_arg, globs) always see
 * the whole value; only regexes are capped, so a rule that must not be evaded by padding should
 * prefer argv0/any_arg conditions.
 */
export const MAX_REGEX_INPUT = 64 * 1024;

/** Multi-call binaries whose first argument names the tool actually run (`busybox nc -l`). */
const MULTI_CALL = new Set(['busybox', 'toybox']);

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** One rule whose conditions held for an event, and whether an exception suppressed it. */
export interface RuleEvaluation {
  rule: RuleMatch;
  /** Index of the first exception that matched (the hit is suppressed), or null. */
  suppressedBy: number | null;
}

/** What a condition check sees of an event, computed once per event and shared by every rule. */
interface EventFacts {
  event: CommandEvent;
  /** Names argv0 conditions compare with: basename of argv[0], of exe, and a busybox applet. */
  names: string[];
  /** The executable path: `exe`, or argv[0] when it is absolute. */
  exePath: string | null;
  /** The command line, capped at MAX_REGEX_INPUT for regexes. */
  regexCommand: string;
  /** Command patterns run on their own so far for this event (see CommandPatterns). */
  singleTests: number;
  /** Which command patterns match, once the combined set has run for this event. */
  commandHits: Set<number> | null;
  /** What is remembered of this command's patterns (see CommandPatterns.answersFor); undefined until looked up. */
  answers?: CommandAnswers | null;
}

interface CompiledRule {
  spec: RuleSpec;
  /** File position, kept for tie-breaking and for matchAll's order. */
  order: number;
  /**
   * When every way of matching needs one of these argv0 names, the rule is skipped for any event
   * without one: most events are then rejected by a single Set lookup.
   */
  gate: Set<string> | null;
  match: BlockMatcher | null;
  any: BlockMatcher[];
  exceptions: BlockMatcher[];
}

/**
 * A compiled rule set. `match` returns the rule that should drive the alert: alert-mode rules
 * outrank observe-mode ones (a rule on trial must never hide an alert), then higher severity,
 * then file order. `matchAll` returns every unsuppressed hit in file order; `explain` also
 * reports hits that an exception suppressed, for rule authoring tools.
 */
export class CompiledRuleSet implements RuleSet {
  /** Rules in precedence order, so `match` can stop at the first unsuppressed hit. */
  private readonly byPrecedence: RuleIndex;
  private readonly inFileOrder: RuleIndex;

  constructor(private readonly rules: readonly CompiledRule[]) {
    this.byPrecedence = new RuleIndex([...rules].sort(comparePrecedence));
    this.inFileOrder = new RuleIndex(rules);
  }

  get size(): number {
    return this.rules.length;
  }

  /** The rule specs in file order (for listing tools). */
  get specs(): RuleSpec[] {
    return this.rules.map((rule) => rule.spec);
  }

  /** The highest-precedence unsuppressed hit, or null. */
  match(event: CommandEvent): RuleMatch | null {
    const facts = eventFacts(event);
    for (const rule of this.byPrecedence.candidates(facts.names)) {
      if (conditionsHold(rule, facts) && exceptionIndex(rule, facts) === null) return ruleMatch(rule.spec);
    }
    return null;
  }

  /** Every unsuppressed hit, in file order. */
  matchAll(event: CommandEvent): RuleMatch[] {
    return this.explain(event)
      .filter((evaluation) => evaluation.suppressedBy === null)
      .map((evaluation) => evaluation.rule);
  }

  /** Every rule whose conditions hold, in file order, with the exception that suppressed it. */
  explain(event: CommandEvent): RuleEvaluation[] {
    const facts = eventFacts(event);
    const hits: RuleEvaluation[] = [];
    for (const rule of this.inFileOrder.candidates(facts.names)) {
      if (conditionsHold(rule, facts)) hits.push({ rule: ruleMatch(rule.spec), suppressedBy: exceptionIndex(rule, facts) });
    }
    return hits;
  }
}

/**
 * Which rules can possibly hit an event, from its argv0 names alone. Most rules are gated on
 * argv0, so an everyday command (ls, git, kubectl) is checked against only the few ungated rules.
 * Lists keep the order the index was built with.
 */
class RuleIndex {
  private readonly ungated: CompiledRule[];
  private readonly byName = new Map<string, CompiledRule[]>();
  private readonly position = new Map<CompiledRule, number>();

  constructor(rules: readonly CompiledRule[]) {
    rules.forEach((rule, i) => this.position.set(rule, i));
    this.ungated = rules.filter((rule) => rule.gate === null);
    const names = new Set(rules.flatMap((rule) => [...(rule.gate ?? [])]));
    for (const name of names) this.byName.set(name, rules.filter((rule) => rule.gate === null || rule.gate.has(name)));
  }

  candidates(names: readonly string[]): readonly CompiledRule[] {
    // Most events: one name (argv0 and exe agree), so one lookup and nothing allocated.
    if (names.length <= 1) return (names.length === 1 && this.byName.get(names[0] as string)) || this.ungated;
    const lists = names.map((name) => this.byName.get(name) ?? this.ungated);
    const first = lists[0] ?? this.ungated;
    if (lists.every((list) => list === first)) return first;
    // Different names (argv0 and exe disagree, or a busybox applet): merge, keeping the order.
    const merged = [...new Set(lists.flat())];
    return merged.sort((a, b) => (this.position.get(a) ?? 0) - (this.position.get(b) ?? 0));
  }
}

/** How compileRules treats regexes. */
export interface CompileOptions {
  /**
   * Compile each regex when a command first needs it instead of now. Only for specs whose
   * regexes are known to compile (the default pack, checked when it was precompiled): a rule
   * file's errors must show when it is loaded, not in the middle of a log.
   */
  lazy?: boolean;
}

/** Compiles validated specs (see rule-schema.ts); `source` names the file in error messages. */
export function compileRules(specs: readonly RuleSpec[], source: string, options: CompileOptions = {}): CompiledRuleSet {
  const lazy = options.lazy === true;
  const commands = new CommandPatterns();
  const rules = specs.map((spec, order) => compileRule(spec, order, { source, commands, lazy }));
  return new CompiledRuleSet(rules);
}

/**
 * A regex list compiled (as one alternation, see patternUnion) on first use, or at once. Its
 * source is known without compiling, which is all the combined command set needs.
 */
class LazyRegex {
  private compiled: RE2JS | null = null;

  constructor(
    readonly source: string,
    private readonly compile: () => RE2JS,
    /** Literals one of which every match contains, or null (see requiredLiterals). */
    readonly literals: readonly string[] | null = null,
  ) {}

  get(): RE2JS {
    return (this.compiled ??= this.compile());
  }
}

/**
 * Every `command` condition of a rule set. A pattern whose required literals the command lacks is
 * rejected by native searches alone. The few that get past them (on a typical log, a handful of
 * patterns ever do, on a few percent of commands) run on their own, each compiled when first
 * needed; past SINGLE_TESTS_PER_EVENT for one command, the rest are answered by an RE2Set that
 * runs every pattern as one automaton, so text built to hold every literal still costs a bounded
 * number of passes. The set is built for the first command that needs it, so a log that never
 * needs it never pays for building it. Falls back to one test per pattern if the combined
 * automaton is too large to build.
 */
class CommandPatterns {
  private readonly set = new RE2Set(RE2Set.UNANCHORED, 0);
  private readonly patterns: LazyRegex[] = [];
  /** Per pattern, literals one of which every match contains (see requiredLiterals), or null. */
  private readonly literals: (readonly string[] | null)[] = [];
  private combined = true;
  private built = false;
  /** Answers by command (see answersFor). */
  private readonly remembered = new Map<string, CommandAnswers>();

  add(pattern: LazyRegex): number {
    this.literals.push(pattern.literals);
    return this.patterns.push(pattern) - 1;
  }

  test(index: number, facts: EventFacts): boolean {
    // A command without the pattern's literals cannot match: native searches, no automaton run.
    if (!containsAnyLiteral(facts.regexCommand, this.literals[index] ?? null)) return false;
    if (facts.commandHits !== null) return facts.commandHits.has(index);
    const answers = this.answersFor(facts);
    if (answers?.all) {
      facts.commandHits = answers.all;
      return answers.all.has(index);
    }
    const known = answers?.single.get(index);
    if (known !== undefined) return known;
    if (facts.singleTests < SINGLE_TESTS_PER_EVENT) {
      facts.singleTests++;
      const hit = this.single(index, facts);
      answers?.single.set(index, hit);
      return hit;
    }
    if (!this.built) this.build();
    if (!this.combined) return this.single(index, facts);
    facts.commandHits = new Set(this.set.match(facts.regexCommand));
    if (answers) answers.all = facts.commandHits;
    return facts.commandHits.has(index);
  }

  /**
   * What is known of the patterns on this command, remembered across events: whether a pattern
   * matches is a pure function of the command, and commands repeat all day (the same scripts,
   * cron jobs and deploys on every host), so each is run by the automaton once. Null for a command
   * too long to be worth a key.
   */
  private answersFor(facts: EventFacts): CommandAnswers | null {
    if (facts.answers !== undefined) return facts.answers;
    const command = facts.regexCommand;
    let answers: CommandAnswers | null = null;
    if (command.length <= REMEMBERED_COMMAND_CHARS) {
      answers = this.remembered.get(command) ?? null;
      if (answers === null) {
        if (this.remembered.size >= REMEMBERED_COMMANDS) this.remembered.clear();
        answers = { all: null, single: new Map() };
        this.remembered.set(command, answers);
      }
    }
    facts.answers = answers;
    return answers;
  }

  private single(index: number, facts: EventFacts): boolean {
    return this.patterns[index]?.get().test(facts.regexCommand) ?? false;
  }

  /** Adds every pattern to the set (each parsed there) and compiles the combined automaton. */
  private build(): void {
    this.built = true;
    try {
      for (const pattern of this.patterns) this.set.add(pattern.source);
      this.set.compile();
    } catch {
      this.combined = false;
    }
  }
}

/** Which command patterns match one command: every one (once the combined set ran on it), or those run on their own so far. */
interface CommandAnswers {
  all: Set<number> | null;
  single: Map<number, boolean>;
}

/** Most commands whose pattern answers are remembered; past it the memory starts over. */
const REMEMBERED_COMMANDS = 4096;
/** Longest command whose answers are remembered: a longer key costs a pass of its own. */
const REMEMBERED_COMMAND_CHARS = 4096;

/**
 * Patterns run on their own for one command before the combined set answers the rest: one or two
 * passes are cheaper than the set's, whose automaton tracks every pattern at once.
 */
const SINGLE_TESTS_PER_EVENT = 2;

/** What every block of one compilation shares. */
interface CompileContext {
  source: string;
  commands: CommandPatterns;
  lazy: boolean;
}

function compileRule(spec: RuleSpec, order: number, context: CompileContext): CompiledRule {
  const block = (field: string) => (block: MatchSpec) => new BlockMatcher(block, { source: context.source, ruleId: spec.id, field }, context);
  return {
    spec,
    order,
    gate: argv0Gate(spec),
    match: spec.match === null ? null : block('match')(spec.match),
    any: spec.any.map((b, i) => block(`any[${i}]`)(b)),
    exceptions: spec.exceptions.map((b, i) => block(`exceptions[${i}]`)(b)),
  };
}

function argv0Gate(spec: RuleSpec): Set<string> | null {
  if (spec.match?.argv0) return new Set(spec.match.argv0);
  if (spec.any.length === 0 || spec.any.some((block) => !block.argv0)) return null;
  return new Set(spec.any.flatMap((block) => block.argv0 ?? []));
}

function comparePrecedence(a: CompiledRule, b: CompiledRule): number {
  const mode = (rule: CompiledRule) => (rule.spec.mode === 'alert' ? 0 : 1);
  return mode(a) - mode(b) || SEVERITY_RANK[b.spec.severity] - SEVERITY_RANK[a.spec.severity] || a.order - b.order;
}

/** The rule's conditions, for a rule the index already let through on argv0. */
function conditionsHold(rule: CompiledRule, facts: EventFacts): boolean {
  if (rule.match !== null && !rule.match.test(facts)) return false;
  if (rule.any.length === 0) return true;
  for (const block of rule.any) if (block.test(facts)) return true;
  return false;
}

function exceptionIndex(rule: CompiledRule, facts: EventFacts): number | null {
  for (let i = 0; i < rule.exceptions.length; i++) if (rule.exceptions[i]?.test(facts)) return i;
  return null;
}

function ruleMatch(spec: RuleSpec): RuleMatch {
  return { ruleId: spec.id, ruleName: spec.name, severity: spec.severity, attack: [...spec.attack], mode: spec.mode, alwaysAsk: spec.alwaysAsk };
}

/** Literal values as a Set lookup, wildcard globs as one anchored linear-time pattern. */
interface Glob {
  literals: Set<string>;
  wild: LazyRegex | null;
}

/**
 * One compiled block. A class with straight-line checks rather than a list of closures: this runs
 * for every candidate rule of every event, so it stays monomorphic. Checks run cheapest first
 * (flags and Set lookups, then the shared command scan, then globs, then argument scans) and stop
 * at the first that fails.
 */
class BlockMatcher {
  private readonly sudoDenied: boolean | null;
  private readonly systemActor: boolean | null;
  private readonly interactive: boolean | null;
  private readonly format: Set<string> | null;
  private readonly user: Set<string> | null;
  private readonly runAs: Set<string> | null;
  private readonly argv0: Set<string> | null;
  private readonly command: number;
  private readonly exe: Glob | null;
  private readonly host: Glob | null;
  private readonly cwd: Glob | null;
  private readonly anyArg: Set<string> | null;
  private readonly anyArgRegex: LazyRegex | null;
  private readonly commands: CommandPatterns;

  constructor(block: MatchSpec, where: { source: string; ruleId: string; field: string }, context: CompileContext) {
    const set = (values: string[] | undefined) => (values ? new Set(values) : null);
    const regex = (patterns: string[], field: string) => {
      const compiled = new LazyRegex(
        unionSource(patterns),
        () => patternUnion(patterns, { ...where, field: `${where.field}.${field}` }),
        requiredLiterals(patterns),
      );
      if (!context.lazy) compiled.get();
      return compiled;
    };
    this.commands = context.commands;
    this.sudoDenied = block.sudoDenied ?? null;
    this.systemActor = block.systemActor ?? null;
    this.interactive = block.interactive ?? null;
    this.format = set(block.format);
    this.user = set(block.user);
    this.runAs = set(block.runAs);
    this.argv0 = set(block.argv0);
    this.command = block.command ? this.commands.add(regex(block.command, 'command')) : -1;
    this.exe = block.exe ? compileGlob(block.exe, context.lazy) : null;
    this.host = block.host ? compileGlob(block.host, context.lazy) : null;
    this.cwd = block.cwd ? compileGlob(block.cwd, context.lazy) : null;
    this.anyArg = set(block.anyArg);
    this.anyArgRegex = block.anyArgRegex ? regex(block.anyArgRegex, 'any_arg_regex') : null;
  }

  test(f: EventFacts): boolean {
    if (this.sudoDenied !== null && (f.event.sudoDenied === true) !== this.sudoDenied) return false;
    if (this.systemActor !== null && (f.event.user === null) !== this.systemActor) return false;
    if (this.interactive !== null && onTerminal(f.event) !== this.interactive) return false;
    if (this.format !== null && !this.format.has(f.event.sourceFormat)) return false;
    if (this.user !== null && (f.event.user === null || !this.user.has(f.event.user))) return false;
    if (this.runAs !== null && (f.event.runAs === null || !this.runAs.has(f.event.runAs))) return false;
    if (this.argv0 !== null && !hasAny(this.argv0, f.names)) return false;
    if (this.command >= 0 && !this.commands.test(this.command, f)) return false;
    if (this.exe !== null && !globMatches(this.exe, f.exePath)) return false;
    if (this.host !== null && !globMatches(this.host, f.event.host)) return false;
    if (this.cwd !== null && !globMatches(this.cwd, f.event.cwd)) return false;
    if (this.anyArg !== null && !anyArgIn(this.anyArg, f.event.argv)) return false;
    if (this.anyArgRegex !== null && !anyArgMatches(this.anyArgRegex, f.event.argv)) return false;
    return true;
  }
}

/** Formats built from kernel audit records, whose `tty=` field is always there (`(none)` is dropped). */
const TERMINAL_FORMATS = new Set(['auditd', 'go-audit', 'laurel']);

/** True on a terminal, false with none, null when the format does not say. */
function onTerminal(event: CommandEvent): boolean | null {
  if (event.extra?.tty !== undefined) return true;
  // sudo's USER_CMD record (audit-userspace) names a terminal its own way: no answer.
  return TERMINAL_FORMATS.has(event.sourceFormat) && event.attribution !== 'audit-userspace' ? false : null;
}

function hasAny(set: Set<string>, values: readonly string[]): boolean {
  for (const value of values) if (set.has(value)) return true;
  return false;
}

/** Arguments after argv[0]. */
function anyArgIn(set: Set<string>, argv: readonly string[]): boolean {
  for (let i = 1; i < argv.length; i++) if (set.has(argv[i] as string)) return true;
  return false;
}

/** An argument without one of the pattern's literals is rejected by native searches alone. */
function anyArgMatches(regex: LazyRegex, argv: readonly string[]): boolean {
  for (let i = 1; i < argv.length; i++) {
    const arg = capped(argv[i] as string);
    if (containsAnyLiteral(arg, regex.literals) && regex.get().test(arg)) return true;
  }
  return false;
}

/**
 * Globs: `*` matches any run of characters (slashes included, so `/tmp/*` covers subdirectories),
 * `?` one character, everything else literally.
 */
function compileGlob(globs: string[], lazy: boolean): Glob {
  const wild = globs.filter((glob) => /[*?]/.test(glob));
  const source = `^(?:${wild.map(globPattern).join('|')})$`;
  const compiled = wild.length === 0 ? null : new LazyRegex(source, () => RE2JS.compile(source, RE2JS.DOTALL));
  if (!lazy) compiled?.get();
  return { literals: new Set(globs.filter((glob) => !/[*?]/.test(glob))), wild: compiled };
}

function globMatches(glob: Glob, value: string | null): boolean {
  if (value === null) return false;
  return glob.literals.has(value) || (glob.wild !== null && glob.wild.get().testExact(capped(value)));
}

function globPattern(glob: string): string {
  let pattern = '';
  let literal = '';
  const flush = () => {
    if (literal !== '') pattern += RE2JS.quote(literal);
    literal = '';
  };
  for (const ch of glob) {
    if (ch === '*' || ch === '?') {
      flush();
      pattern += ch === '*' ? '.*' : '.';
    } else {
      literal += ch;
    }
  }
  flush();
  return pattern;
}

/**
 * A list of patterns is an OR; one alternation costs one linear pass instead of one per entry.
 * Entries are compiled on their own only when the alternation fails, to name the one at fault.
 */
function patternUnion(patterns: string[], where: { source: string; ruleId: string; field: string }): RE2JS {
  if (patterns.length === 1) return compilePattern(patterns[0]!, where);
  try {
    return RE2JS.compile(unionSource(patterns));
  } catch (error) {
    patterns.forEach((pattern, i) => compilePattern(pattern, { ...where, field: `${where.field}[${i}]` }));
    // Entries valid on their own can still clash together (two groups of one name).
    const reason = error instanceof Error ? error.message : String(error);
    throw ruleError(where.source, where.ruleId, where.field, `invalid regex list: ${reason}`);
  }
}

/** The alternation of a pattern list; flags such as (?i) stay scoped to their own group. */
function unionSource(patterns: readonly string[]): string {
  return patterns.length === 1 ? patterns[0]! : patterns.map((pattern) => `(?:${pattern})`).join('|');
}

function capped(text: string): string {
  return text.length > MAX_REGEX_INPUT ? text.slice(0, MAX_REGEX_INPUT) : text;
}

function eventFacts(event: CommandEvent): EventFacts {
  const argv = event.argv;
  const names: string[] = [];
  const first = argv[0];
  addName(names, first);
  addName(names, event.exe);
  if (hasAny(MULTI_CALL, names)) addName(names, argv[1]);
  const exePath = event.exe ?? (first?.startsWith('/') ? first : null);
  return { event, names, exePath, regexCommand: capped(event.command), singleTests: 0, commandHits: null, answers: undefined };
}

/** Adds the command name of `path` to `names` unless empty or already there. */
function addName(names: string[], path: string | null | undefined): void {
  const name = path ? commandName(path) : '';
  if (name !== '' && !names.includes(name)) names.push(name);
}

/**
 * Basename, without the `-` a login shell puts in front of its name (`-bash`). By a loop: this
 * runs twice per event, and String.prototype.lastIndexOf is a call into the runtime.
 */
function commandName(path: string): string {
  let start = path.length;
  while (start > 0 && path.charCodeAt(start - 1) !== 0x2f) start--;
  if (path.charCodeAt(start) === 0x2d) start++;
  return start === 0 ? path : path.slice(start);
}
