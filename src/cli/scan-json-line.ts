import type { RuleMatch } from '../detect/rule.js';
import type { CommandEvent } from '../sources/command-event.js';
import { attributionOf, provenanceOf, toStoredProvenance, type Attribution } from '../sources/provenance.js';
import { IsoTimeFormatter } from './iso-time-formatter.js';
import { OutputBuffer } from './output-buffer.js';

/** What a scan line shows of an event's command: the raw argv, or its redacted form. */
export interface ShownCommand {
  argv: readonly string[];
  command: string;
}

/**
 * Writes events as the `scan --json` contract line (time, host, user, run_as, argv, command, cwd,
 * source_format, rule, then rule_name, severity, attack, pid, exe, sudo_denied, provenance),
 * newline included. The shape is fixed, so it is written field by field by the buffer's own
 * encoder instead of through JSON.stringify of an object built per event; the bytes are those
 * JSON.stringify would give (as UTF-8). Each copy into the buffer costs about as much as a short
 * value's own text, so the fixed text between values is joined into as few pieces as it can be:
 * the time with the keys around it, and per format the text from source_format to pid and from
 * sudo_denied to the end. One per scan: it keeps the last second's time text.
 */
export class ScanJsonLines {
  private readonly times = new IsoTimeFormatter('{"time":', ',"host":');
  /** The pieces that depend on the event's format only, by format; `last` is the one used last. */
  private readonly formats = new Map<string, FormatPieces>();
  private last: FormatPieces | null = null;

  /** Writes the line of `event` into `out`. */
  write(out: OutputBuffer, event: CommandEvent, match: RuleMatch | null, shown: ShownCommand = event): void {
    const pieces = this.piecesOf(event.sourceFormat);
    this.times.writeJson(out, event.time);
    out.jsonString(event.host);
    out.bytes(USER);
    out.jsonStringOrNull(event.user);
    out.bytes(RUN_AS);
    out.jsonStringOrNull(event.runAs);
    out.bytes(ARGV);
    out.jsonStringArray(shown.argv);
    out.bytes(COMMAND);
    out.jsonString(shown.command);
    out.bytes(CWD);
    out.jsonStringOrNull(event.cwd);
    if (match === null) out.bytes(pieces.noRuleToPid);
    else writeRuleFields(out, pieces, match);
    if (event.pid === null || event.pid === undefined) out.bytes(NULL);
    else out.number(event.pid);
    out.bytes(EXE);
    out.jsonStringOrNull(event.exe);
    out.bytes(tailOf(event, pieces));
  }

  private piecesOf(format: string): FormatPieces {
    if (this.last !== null && this.last.format === format) return this.last;
    let pieces = this.formats.get(format);
    if (pieces === undefined) {
      pieces = formatPieces(format);
      this.formats.set(format, pieces);
    }
    this.last = pieces;
    return pieces;
  }
}

/** The constant parts of a line, encoded once. */
const ascii = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const USER = ascii(',"user":');
const RUN_AS = ascii(',"run_as":');
const ARGV = ascii(',"argv":');
const COMMAND = ascii(',"command":');
const CWD = ascii(',"cwd":');
const NULL = ascii('null');
const EXE = ascii(',"exe":');
const NO_RULE = ',"rule":null,"rule_name":null,"severity":null,"attack":null';

/** Encoded text of a line that depends only on the event's format. */
interface FormatPieces {
  format: string;
  /** source_format and its value. */
  sourceFormat: Uint8Array;
  /** From source_format to pid's key, when no rule matched. */
  noRuleToPid: Uint8Array;
  /** From sudo_denied to the end of the line, of events read from a file: by attribution, then denied (1) or not (0). */
  fileTails: Map<Attribution, readonly [Uint8Array, Uint8Array]>;
}

function formatPieces(format: string): FormatPieces {
  const sourceFormat = `,"source_format":${JSON.stringify(format)}`;
  return {
    format,
    sourceFormat: utf8(sourceFormat),
    noRuleToPid: utf8(`${sourceFormat}${NO_RULE},"pid":`),
    fileTails: new Map(),
  };
}

/** sudo_denied, provenance and the end of the line, for the JSON of a provenance: not denied (0) and denied (1). */
function tails(provenance: unknown): readonly [Uint8Array, Uint8Array] {
  const end = `,"provenance":${JSON.stringify(provenance)}}\n`;
  return [utf8(`,"sudo_denied":false${end}`), utf8(`,"sudo_denied":true${end}`)];
}

/** From sudo_denied to the end of the line; read from a file, one per format and attribution. */
function tailOf(event: CommandEvent, pieces: FormatPieces): Uint8Array {
  const denied = event.sudoDenied === true ? 1 : 0;
  // Set by ingestion paths only: made per event rather than kept (there could be any number).
  if (event.provenance !== undefined) return tails(toStoredProvenance(event.provenance))[denied];
  const attribution = attributionOf(event);
  let byDenied = pieces.fileTails.get(attribution);
  if (byDenied === undefined) {
    byDenied = tails(toStoredProvenance(provenanceOf(event)));
    pieces.fileTails.set(attribution, byDenied);
  }
  return byDenied[denied];
}

function utf8(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/**
 * A line as a string (for callers that want one line as text). A formatter may still
 * be passed, as lines were once written with the caller's own: one line has no second to share
 * with another, so it is not needed.
 */
export function scanJsonLine(event: CommandEvent, match: RuleMatch | null, shown: ShownCommand = event, _times?: IsoTimeFormatter): string {
  const out = new OutputBuffer(1024);
  new ScanJsonLines().write(out, event, match, shown);
  return out.takeText();
}

const RULE = ascii(',"rule":');
const RULE_NAME = ascii(',"rule_name":');
const SEVERITY = ascii(',"severity":');
const ATTACK = ascii(',"attack":');
const PID = ascii(',"pid":');

function writeRuleFields(out: OutputBuffer, pieces: FormatPieces, match: RuleMatch): void {
  out.bytes(pieces.sourceFormat);
  out.bytes(RULE);
  out.jsonString(match.ruleId);
  out.bytes(RULE_NAME);
  out.jsonString(match.ruleName);
  out.bytes(SEVERITY);
  out.jsonString(match.severity);
  out.bytes(ATTACK);
  out.jsonStringArray(match.attack);
  out.bytes(PID);
}

/**
 * A string as a JSON string literal, exactly as JSON.stringify writes it (well-formed: lone
 * surrogates as `\udXXX`), through the same encoder as the scan's lines.
 */
export function jsonString(text: string): string {
  const out = new OutputBuffer(64);
  out.jsonString(text);
  return out.takeText();
}
