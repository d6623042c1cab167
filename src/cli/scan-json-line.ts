import type { RuleMatch } from '../detect/rule.js';
import type { CommandEvent } from '../sources/command-event.js';
import { attributionOf, provenanceOf, toStoredProvenance, type Attribution } from '../sources/provenance.js';
import type { IsoTimeFormatter } from './iso-time-formatter.js';
import { OutputBuffer } from './output-buffer.js';

/** What a scan line shows of an event's command: the raw argv, or its redacted form. */
export interface ShownCommand {
  argv: readonly string[];
  command: string;
}

/**
 * Writes one event as the `scan --json` contract line (time, host, user, run_as, argv, command,
 * cwd, source_format, rule, then rule_name, severity, attack, pid, exe, sudo_denied, provenance),
 * newline included, into `out`. The shape is fixed, so it is written field by field by the
 * buffer's own encoder instead of through JSON.stringify of an object built per event; the bytes
 * are those JSON.stringify would give (as UTF-8).
 */
export function writeScanJsonLine(out: OutputBuffer, event: CommandEvent, match: RuleMatch | null, shown: ShownCommand, times: IsoTimeFormatter): void {
  out.bytes(TIME);
  times.writeJson(out, event.time);
  out.bytes(HOST);
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
  out.bytes(SOURCE_FORMAT);
  out.jsonString(event.sourceFormat);
  if (match === null) out.bytes(NO_RULE);
  else writeRuleFields(out, match);
  out.bytes(PID);
  if (event.pid === null || event.pid === undefined) out.bytes(NULL);
  else out.number(event.pid);
  out.bytes(EXE);
  out.jsonStringOrNull(event.exe);
  out.bytes(event.sudoDenied === true ? DENIED_PROVENANCE : NOT_DENIED_PROVENANCE);
  out.bytes(provenanceJson(event));
  out.bytes(END);
}

/** The constant parts of a line, encoded once. */
const ascii = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const TIME = ascii('{"time":');
const HOST = ascii(',"host":');
const USER = ascii(',"user":');
const RUN_AS = ascii(',"run_as":');
const ARGV = ascii(',"argv":');
const COMMAND = ascii(',"command":');
const CWD = ascii(',"cwd":');
const SOURCE_FORMAT = ascii(',"source_format":');
const NO_RULE = ascii(',"rule":null,"rule_name":null,"severity":null,"attack":null');
const PID = ascii(',"pid":');
const NULL = ascii('null');
const EXE = ascii(',"exe":');
const DENIED_PROVENANCE = ascii(',"sudo_denied":true,"provenance":');
const NOT_DENIED_PROVENANCE = ascii(',"sudo_denied":false,"provenance":');
const END = ascii('}\n');

/** writeScanJsonLine as a string (for callers that want the line as text). */
export function scanJsonLine(event: CommandEvent, match: RuleMatch | null, shown: ShownCommand, times: IsoTimeFormatter): string {
  const out = new OutputBuffer(1024);
  writeScanJsonLine(out, event, match, shown, times);
  return out.takeText();
}

/** Provenance JSON (UTF-8) of events read from a file, by format and then attribution: a handful of values. */
const fileProvenanceJson = new Map<string, Map<Attribution, Uint8Array>>();

/** The provenance object as JSON.stringify writes it; read from a file, one string per format and attribution. */
function provenanceJson(event: CommandEvent): Uint8Array {
  if (event.provenance !== undefined) return utf8Json(toStoredProvenance(event.provenance));
  let byAttribution = fileProvenanceJson.get(event.sourceFormat);
  if (byAttribution === undefined) {
    byAttribution = new Map();
    fileProvenanceJson.set(event.sourceFormat, byAttribution);
  }
  const attribution = attributionOf(event);
  let json = byAttribution.get(attribution);
  if (json === undefined) {
    json = utf8Json(toStoredProvenance(provenanceOf(event)));
    byAttribution.set(attribution, json);
  }
  return json;
}

function utf8Json(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

const RULE = ascii(',"rule":');
const RULE_NAME = ascii(',"rule_name":');
const SEVERITY = ascii(',"severity":');
const ATTACK = ascii(',"attack":');

function writeRuleFields(out: OutputBuffer, match: RuleMatch): void {
  out.bytes(RULE);
  out.jsonString(match.ruleId);
  out.bytes(RULE_NAME);
  out.jsonString(match.ruleName);
  out.bytes(SEVERITY);
  out.jsonString(match.severity);
  out.bytes(ATTACK);
  out.jsonStringArray(match.attack);
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
