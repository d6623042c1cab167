import { redactCommand } from '../alerts/redact.js';
import { localHostName } from '../config/load-config.js';
import type { CompiledRuleSet } from '../detect/compile-rules.js';
import { VouchError } from '../errors.js';
import { openLog } from '../sources/read-log.js';
import { terminalText } from '../terminal-text.js';
import { checkLogFormat } from './check-log-format.js';
import { countLines, describeFormat, loadOptionalConfig, loadRules, plural, shorten, uidResolver, type CommandIo } from './scan-command.js';

/** Options of `vouch rules test` as commander passes them. */
export interface RulesTestOptions {
  format: string;
  rules?: string;
  /** Sample commands per rule, as typed (a number from 0 to 100). */
  samples: string;
  json?: boolean;
  config?: string;
}

/** One rule's result of a replay. */
export interface RuleReplay {
  id: string;
  name: string;
  severity: string;
  mode: 'alert' | 'observe';
  /** Events the rule matched (exceptions applied). */
  hits: number;
  /** Events the rule's conditions matched but one of its exceptions suppressed. */
  suppressed: number;
  /** Up to N distinct matched commands, secrets redacted. */
  samples: string[];
}

/** The `--json` output of `vouch rules test`. */
export interface RulesTestResult {
  file: string;
  format: string;
  events: number;
  /** Events at least one rule matched. */
  matched_events: number;
  /** Malformed lines per reason. */
  malformed: Record<string, number>;
  /** Every rule, most hits first, then in file order (rules with no hits included). */
  rules: RuleReplay[];
}

/** Longest sample command kept. */
export const SAMPLE_COMMAND_CHARS = 300;

/**
 * `vouch rules test FILE`: replays a log through every rule (not just the one that would drive an
 * alert, as scan does), so operators see how noisy a rule would be before it goes live: hits and
 * exception-suppressed hits per rule, with sample commands (redacted, escaped for the terminal).
 * Returns the text (or `--json`) to print.
 */
export async function rulesTestCommand(file: string, options: RulesTestOptions, io: CommandIo = {}): Promise<string> {
  const sampleCount = parseSampleCount(options.samples);
  const config = await loadOptionalConfig(options.config, io.env);
  const rules = loadRules(options.rules, config);
  const result = await replay(file, rules, { format: options.format, sampleCount, resolveUid: uidResolver(config), io });
  return options.json ? JSON.stringify(result, null, 2) + '\n' : renderReplay(result);
}

function parseSampleCount(text: string): number {
  const count = Number(text);
  if (!Number.isInteger(count) || count < 0 || count > 100) {
    throw new VouchError('request_invalid', `--samples: "${text}" is not a number from 0 to 100`);
  }
  return count;
}

async function replay(
  file: string,
  rules: CompiledRuleSet,
  options: { format: string; sampleCount: number; resolveUid: ReturnType<typeof uidResolver>; io: CommandIo },
): Promise<RulesTestResult> {
  const log = await openLog(file, {
    format: options.format,
    parser: { defaultHost: localHostName(), resolveUid: options.resolveUid },
    clock: options.io.clock,
    stdin: options.io.stdin,
  });
  const byId = new Map<string, RuleReplay & { order: number; seen: Set<string> }>();
  rules.specs.forEach((spec, order) => {
    byId.set(spec.id, { id: spec.id, name: spec.name, severity: spec.severity, mode: spec.mode, hits: 0, suppressed: 0, samples: [], order, seen: new Set() });
  });
  const malformed = new Map<string, number>();
  let events = 0;
  let matchedEvents = 0;
  for await (const batch of log) {
    for (const event of batch.events) {
      events += 1;
      let matched = false;
      for (const evaluation of rules.explain(event)) {
        const entry = byId.get(evaluation.rule.ruleId);
        if (!entry) continue;
        if (evaluation.suppressedBy !== null) {
          entry.suppressed += 1;
          continue;
        }
        matched = true;
        entry.hits += 1;
        if (entry.samples.length < options.sampleCount) addSample(entry, event.argv);
      }
      if (matched) matchedEvents += 1;
    }
    for (const item of batch.malformed) malformed.set(item.reason, (malformed.get(item.reason) ?? 0) + 1);
  }
  checkLogFormat(log, options.format, { events, malformed });
  const ordered = [...byId.values()].sort((a, b) => b.hits - a.hits || a.order - b.order);
  return {
    file,
    format: log.format,
    events,
    matched_events: matchedEvents,
    malformed: Object.fromEntries(malformed),
    rules: ordered.map(({ id, name, severity, mode, hits, suppressed, samples }) => ({ id, name, severity, mode, hits, suppressed, samples })),
  };
}

/** Keeps distinct commands only: ten copies of the same cron job say less than three different ones. */
function addSample(entry: { samples: string[]; seen: Set<string> }, argv: readonly string[]): void {
  const command = shorten(redactCommand(argv).command, SAMPLE_COMMAND_CHARS);
  if (entry.seen.has(command)) return;
  entry.seen.add(command);
  entry.samples.push(command);
}

/** The readable form: a header, one block per rule with hits, then the silent rules in one list. */
export function renderReplay(result: RulesTestResult): string {
  const lines = [
    `${terminalText(result.file)} (${describeFormat(result.format)}): ${plural(result.events, 'command event')}, ` +
      `${result.matched_events} matched by at least one rule`,
    '',
  ];
  const width = Math.max(4, ...result.rules.map((rule) => String(rule.hits).length));
  const active = result.rules.filter((rule) => rule.hits > 0 || rule.suppressed > 0);
  const silent = result.rules.filter((rule) => rule.hits === 0 && rule.suppressed === 0);
  if (active.length > 0) lines.push(`${'hits'.padStart(width)}  rule`);
  for (const rule of active) {
    const notes = [rule.severity, ...(rule.mode === 'observe' ? ['observe only'] : []), ...(rule.suppressed > 0 ? [`${rule.suppressed} suppressed by exceptions`] : [])];
    lines.push(`${String(rule.hits).padStart(width)}  ${terminalText(rule.id)}: ${terminalText(rule.name)} (${notes.join(', ')})`);
    for (const sample of rule.samples) lines.push(`${' '.repeat(width)}      ${terminalText(sample)}`);
  }
  if (silent.length > 0) {
    if (active.length > 0) lines.push('');
    lines.push(`${plural(silent.length, 'rule')} with no hits: ${silent.map((rule) => terminalText(rule.id)).join(', ')}`);
  }
  const malformed = new Map(Object.entries(result.malformed));
  const malformedTotal = [...malformed.values()].reduce((sum, count) => sum + count, 0);
  lines.push('', `totals: ${plural(result.rules.length, 'rule')}, ${plural(active.filter((rule) => rule.hits > 0).length, 'rule')} with hits, ` +
    `${plural(result.rules.reduce((sum, rule) => sum + rule.hits, 0), 'hit')}, ${plural(malformedTotal, 'malformed line')}`);
  if (malformed.size > 0) lines.push('malformed lines by reason:', ...countLines(malformed));
  return lines.join('\n') + '\n';
}
