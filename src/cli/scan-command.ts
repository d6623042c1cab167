import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import type { VouchConfig } from '../config/config.js';
import type { CompiledRuleSet } from '../detect/compile-rules.js';
import { loadDefaultRules, loadRuleFile } from '../detect/load-rules.js';
import type { RuleMatch } from '../detect/rule.js';
import type { CommandEvent } from '../sources/command-event.js';
import { uidMapResolver, type Malformed, type ParserOptions } from '../sources/parser.js';
import { openLog, type LogReader } from '../sources/read-log.js';
import { terminalText } from '../terminal-text.js';
import { checkLogFormat } from './check-log-format.js';
import { CommandRedactor } from './command-redactor.js';
import { IsoTimeFormatter } from './iso-time-formatter.js';
import { OutputBuffer } from './output-buffer.js';
import { ScanJsonLines, type ShownCommand } from './scan-json-line.js';

/** Options of `vouch scan` as commander passes them. */
export interface ScanOptions {
  /** `auto` or a parser format. */
  format: string;
  /** Print every command, not only rule hits. */
  all?: boolean;
  /** One JSON object per line instead of readable text. */
  json?: boolean;
  /** A rule file overriding the configured one. */
  rules?: string;
  /** The configuration file; default $VOUCH_CONFIG, and none when neither is set. */
  config?: string;
  /** Redact secrets in argv and command (the default); false (`--no-redact`) prints them raw. */
  redact?: boolean;
}

/** What a command reads and writes besides its arguments; the process's own by default. */
export interface CommandIo {
  stdout?: NodeJS.WritableStream;
  stdin?: NodeJS.ReadableStream;
  env?: Record<string, string | undefined>;
  clock?: Clock;
}

/** Longest command shown in text output; JSON output always carries the whole command. */
export const TEXT_COMMAND_CHARS = 4096;

/**
 * `vouch scan FILE`: streams the log through the parser and the rules and prints the hits (every
 * command with `--all`) to stdout, as text or one JSON object per line (`--json`, the stable
 * contract: time, host, user, run_as, argv, command, cwd, source_format, rule, plus rule_name,
 * severity, attack, pid, exe, sudo_denied). Secrets in argv and command are redacted unless
 * `redact` is false. Returns the summary for stderr: events, hits per rule, malformed lines per
 * reason. Some malformed lines never fail the scan; a log none of whose lines is in the format
 * throws WrongFormatError (exit code 1); a missing file, an unknown format or a bad rule file
 * throw a VouchError (exit code 2).
 */
export async function scanCommand(file: string, options: ScanOptions, io: CommandIo = {}): Promise<string> {
  const started = Date.now();
  const config = await loadOptionalConfig(options.config, io.env);
  const rules = loadRules(options.rules, config);
  const log = await openLog(file, {
    format: options.format,
    parser: { defaultHost: hostname(), resolveUid: uidResolver(config) },
    clock: io.clock,
    stdin: io.stdin,
  });
  const out = new BufferedWriter(io.stdout ?? process.stdout);
  const line = options.json ? new JsonLines() : new TextLines();
  const redactor = new CommandRedactor(options.redact !== false);
  const tally = new ScanTally();
  for await (const batch of log) {
    await redactor.prepare(batch.events);
    for (const event of batch.events) {
      const match = rules.match(event);
      tally.event(match);
      if ((match !== null || options.all) && !out.closed) line.write(out.buffer, event, match, redactor.show(event));
    }
    tally.malformed(batch.malformed);
    await out.drain();
    // The reader went away (`vouch scan ... | head`): the rest would be written to nobody.
    if (out.closed) break;
  }
  await out.end();
  if (!out.closed) checkLogFormat(log, options.format, { events: tally.events, malformed: tally.byReason });
  return tally.summary(log, Date.now() - started, out.closed);
}

/**
 * The configuration named by `--config` or VOUCH_CONFIG, or null when neither is given. The
 * loader (and its YAML parser) is imported only then, so a scan without one starts faster.
 */
export async function loadOptionalConfig(file: string | undefined, env: Record<string, string | undefined> = process.env): Promise<VouchConfig | null> {
  const chosen = file ?? env.VOUCH_CONFIG;
  if (!chosen) return null;
  const { loadConfig } = await import('../config/load-config.js');
  return loadConfig({ file: chosen, env });
}

/** `--rules` first, then the configuration's `rules:`, then the default pack. */
export function loadRules(override: string | undefined, config: VouchConfig | null): CompiledRuleSet {
  if (override) return loadRuleFile(override);
  if (config?.rules) return loadRuleFile(config.rules);
  return loadDefaultRules();
}

/** Names numeric uids through the configuration's `identity.uids`, if any. */
export function uidResolver(config: VouchConfig | null): ParserOptions['resolveUid'] {
  return uidMapResolver(config?.identity.uids);
}

/** Writes scan output lines; one per scan, as it keeps the last second's timestamp text. */
interface LineFormat {
  write(out: OutputBuffer, event: CommandEvent, match: RuleMatch | null, shown: ShownCommand): void;
}

/** `--json`: the contract line (see ScanJsonLines), encoded straight into the output. */
export class JsonLines implements LineFormat {
  private readonly lines = new ScanJsonLines();

  write(out: OutputBuffer, event: CommandEvent, match: RuleMatch | null, shown: ShownCommand = event): void {
    this.lines.write(out, event, match, shown);
  }
}

/** Readable lines: time, host, user -> run_as, [rule], command (escaped for the terminal, shortened). */
export class TextLines implements LineFormat {
  private readonly times = new IsoTimeFormatter();

  write(out: OutputBuffer, event: CommandEvent, match: RuleMatch | null, shown: ShownCommand = event): void {
    out.text(this.format(event, match, shown));
  }

  format(event: CommandEvent, match: RuleMatch | null, shown: ShownCommand = event): string {
    const time = this.times.format(event.time) ?? '-';
    const who = `${terminalText(event.user ?? '-')} -> ${terminalText(event.runAs ?? '-')}`;
    const rule = match ? `[${match.severity} ${terminalText(match.ruleId)}]` : '[-]';
    const denied = event.sudoDenied ? ' (sudo denied)' : '';
    return `${time} ${terminalText(event.host)} ${who} ${rule}${denied} ${terminalText(shorten(shown.command, TEXT_COMMAND_CHARS))}\n`;
  }
}

/** Cuts text to `max` characters with a note of how much was left out (never half a surrogate pair). */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}… (${text.length - end} more characters)`;
}

/** Counts for the summary: events, hits per rule, malformed lines per reason. */
export class ScanTally {
  events = 0;
  hits = 0;
  readonly byRule = new Map<string, number>();
  readonly byReason = new Map<string, number>();

  event(match: RuleMatch | null): void {
    this.events += 1;
    if (match === null) return;
    this.hits += 1;
    this.byRule.set(match.ruleId, (this.byRule.get(match.ruleId) ?? 0) + 1);
  }

  malformed(items: readonly Malformed[]): void {
    for (const item of items) this.byReason.set(item.reason, (this.byReason.get(item.reason) ?? 0) + 1);
  }

  get malformedTotal(): number {
    let total = 0;
    for (const count of this.byReason.values()) total += count;
    return total;
  }

  summary(log: LogReader, elapsedMs: number, stoppedEarly: boolean): string {
    const lines = [
      `${terminalText(log.name)} (${describeFormat(log.format)}): ${plural(this.events, 'command event')}, ${plural(this.hits, 'rule hit')}, ` +
        `${plural(this.malformedTotal, 'malformed line')} in ${(elapsedMs / 1000).toFixed(1)} s${stoppedEarly ? ' (output closed early)' : ''}`,
    ];
    if (this.byRule.size > 0) lines.push('hits by rule:', ...countLines(this.byRule));
    if (this.byReason.size > 0) lines.push('malformed lines by reason:', ...countLines(this.byReason));
    return lines.join('\n') + '\n';
  }
}

/** `auto` still at the end means no line was recognised. */
export function describeFormat(format: string): string {
  return format === 'auto' ? 'format not recognised' : format;
}

/** `  12  name` lines, largest count first. */
export function countLines(counts: ReadonlyMap<string, number>): string[] {
  // Names in code-unit order: localeCompare would load ICU's collation data into every scan.
  const entries = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const width = Math.max(...entries.map(([, count]) => String(count).length));
  return entries.map(([name, count]) => `  ${String(count).padStart(width)}  ${terminalText(name)}`);
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * Collects output lines and writes them in large pieces: one write per ~256 KiB instead of one
 * per event, waiting for 'drain' when the stream says so. A reader that goes away (EPIPE) marks
 * the writer closed instead of crashing the process (the listener stays: a late EPIPE after the
 * last write must not crash it either).
 */
export class BufferedWriter {
  private readonly encoder: OutputBuffer;
  private failed = false;
  private readonly onError = () => {
    this.failed = true;
  };

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly flushAt = 256 * 1024,
  ) {
    this.encoder = new OutputBuffer(flushAt);
    out.on('error', this.onError);
  }

  /** True once the stream failed (its reader is gone); later lines are dropped. */
  get closed(): boolean {
    return this.failed;
  }

  /** Where lines are written (check `closed` first: what is written after a failure is dropped at the next write). */
  get buffer(): OutputBuffer {
    return this.encoder;
  }

  add(line: string): void {
    if (!this.failed) this.encoder.text(line);
  }

  /** Writes what is collected once it is large enough, respecting backpressure. */
  async drain(): Promise<void> {
    if (this.encoder.size >= this.flushAt) await this.write(this.encoder.take());
  }

  /** Writes everything collected. */
  async end(): Promise<void> {
    await this.write(this.encoder.take());
  }

  /** Writes encoded output, waiting for 'drain' when the stream asks to. */
  private async write(parts: readonly Buffer[]): Promise<void> {
    if (parts.length === 0 || this.failed) return;
    let ok = true;
    for (const part of parts) ok = this.out.write(part) && ok;
    if (ok) return;
    // Both listeners go once either fires: a listener left behind at every wait would pile up.
    await new Promise<void>((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('close', done);
    });
  }
}
