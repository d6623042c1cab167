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
  out.ascii('{"time":');
  const time = times.format(event.time);
  if (time === null) out.ascii('null');
  else out.jsonString(time);
  out.ascii(',"host":');
  out.jsonString(event.host);
  out.ascii(',"user":');
  out.jsonStringOrNull(event.user);
  out.ascii(',"run_as":');
  out.jsonStringOrNull(event.runAs);
  out.ascii(',"argv":');
  out.jsonStringArray(shown.argv);
  out.ascii(',"command":');
  out.jsonString(shown.command);
  out.ascii(',"cwd":');
  out.jsonStringOrNull(event.cwd);
  out.ascii(',"source_format":');
  out.jsonString(event.sourceFormat);
  if (match === null) out.ascii(NO_RULE);
  else writeRuleFields(out, match);
  out.ascii(',"pid":');
  if (event.pid === null || event.pid === undefined) out.ascii('null');
  else out.number(event.pid);
  out.ascii(',"exe":');
  out.jsonStringOrNull(event.exe);
  out.ascii(event.sudoDenied === true ? ',"sudo_denied":true,"provenance":' : ',"sudo_denied":false,"provenance":');
  out.text(provenanceJson(event));
  out.ascii('}\n');
}

/** writeScanJsonLine as a string (for callers that want the line as text). */
export function scanJsonLine(event: CommandEvent, match: RuleMatch | null, shown: ShownCommand, times: IsoTimeFormatter): string {
  const out = new OutputBuffer(1024);
  writeScanJsonLine(out, event, match, shown, times);
  return out.takeText();
}

/** Provenance JSON of events read from a file, by format and then attribution: a handful of values. */
const fileProvenanceJson = new Map<string, Map<Attribution, string>>();

/** The provenance object as JSON.stringify writes it; read from a file, one string per format and attribution. */
function provenanceJson(event: CommandEvent): string {
  if (event.provenance !== undefined) return JSON.stringify(toStoredProvenance(event.provenance));
  let byAttribution = fileProvenanceJson.get(event.sourceFormat);
  if (byAttribution === undefined) {
    byAttribution = new Map();
    fileProvenanceJson.set(event.sourceFormat, byAttribution);
  }
  const attribution = attributionOf(event);
  let json = byAttribution.get(attribution);
  if (json === undefined) {
    json = JSON.stringify(toStoredProvenance(provenanceOf(event)));
    byAttribution.set(attribution, json);
  }
  return json;
}

const NO_RULE = ',"rule":null,"rule_name":null,"severity":null,"attack":null';

function writeRuleFields(out: OutputBuffer, match: RuleMatch): void {
  out.ascii(',"rule":');
  out.jsonString(match.ruleId);
  out.ascii(',"rule_name":');
  out.jsonString(match.ruleName);
  out.ascii(',"severity":');
  out.jsonString(match.severity);
  out.ascii(',"attack":');
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
