import type { RuleMatch } from '../detect/rule.js';
import type { CommandEvent } from '../sources/command-event.js';
import { attributionOf, provenanceOf, toStoredProvenance } from '../sources/provenance.js';
import type { IsoTimeFormatter } from './iso-time-formatter.js';

/** What a scan line shows of an event's command: the raw argv, or its redacted form. */
export interface ShownCommand {
  argv: readonly string[];
  command: string;
}

/**
 * One event as the `scan --json` contract line (time, host, user, run_as, argv, command, cwd,
 * source_format, rule, then rule_name, severity, attack, pid, exe, sudo_denied, provenance), newline
 * included.
 * The shape is fixed, so it is written field by field instead of through JSON.stringify of an
 * object built per event; the text is the same as JSON.stringify would give, byte for byte.
 */
export function scanJsonLine(event: CommandEvent, match: RuleMatch | null, shown: ShownCommand, times: IsoTimeFormatter): string {
  return (
    '{"time":' +
    jsonStringOrNull(times.format(event.time)) +
    ',"host":' +
    jsonString(event.host) +
    ',"user":' +
    jsonStringOrNull(event.user) +
    ',"run_as":' +
    jsonStringOrNull(event.runAs) +
    ',"argv":' +
    jsonStringArray(shown.argv) +
    ',"command":' +
    jsonString(shown.command) +
    ',"cwd":' +
    jsonStringOrNull(event.cwd) +
    ',"source_format":' +
    jsonString(event.sourceFormat) +
    (match === null ? NO_RULE : ruleFields(match)) +
    ',"pid":' +
    jsonNumberOrNull(event.pid) +
    ',"exe":' +
    jsonStringOrNull(event.exe) +
    (event.sudoDenied === true ? ',"sudo_denied":true' : ',"sudo_denied":false') +
    ',"provenance":' +
    provenanceJson(event) +
    '}\n'
  );
}

/** Provenance JSON of events read from a file, by format and attribution: a handful of values. */
const fileProvenanceJson = new Map<string, string>();

function provenanceJson(event: CommandEvent): string {
  if (event.provenance !== undefined) return JSON.stringify(toStoredProvenance(event.provenance));
  const key = `${event.sourceFormat}\u0000${attributionOf(event)}`;
  let json = fileProvenanceJson.get(key);
  if (json === undefined) {
    json = JSON.stringify(toStoredProvenance(provenanceOf(event)));
    fileProvenanceJson.set(key, json);
  }
  return json;
}

const NO_RULE = ',"rule":null,"rule_name":null,"severity":null,"attack":null';

function ruleFields(match: RuleMatch): string {
  return (
    ',"rule":' +
    jsonString(match.ruleId) +
    ',"rule_name":' +
    jsonString(match.ruleName) +
    ',"severity":' +
    jsonString(match.severity) +
    ',"attack":' +
    jsonStringArray(match.attack)
  );
}

/**
 * Characters JSON.stringify escapes: the quote, the backslash, controls below U+0020, and UTF-16
 * surrogates (escaped only when lone; a whole pair is written as it is).
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** The short escapes JSON.stringify uses; other controls become `\u00XX`. */
const SHORT_ESCAPES: Readonly<Record<number, string>> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

/**
 * A string as a JSON string literal, exactly as JSON.stringify writes it (well-formed: lone
 * surrogates as `\udXXX`). Text without anything to escape, nearly every log value, is quoted
 * as it is after one regex test; the rest is escaped in one pass.
 */
export function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? escapeJsonString(text) : '"' + text + '"';
}

function escapeJsonString(text: string): string {
  let out = '"';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let escape: string | undefined;
    if (code < 0x20 || code === 0x22 || code === 0x5c) {
      escape = SHORT_ESCAPES[code] ?? unicodeEscape(code);
    } else if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i += 1; // a whole pair: kept as it is
        continue;
      }
      escape = unicodeEscape(code);
    } else {
      continue;
    }
    out += text.slice(last, i) + escape;
    last = i + 1;
  }
  return out + text.slice(last) + '"';
}

function unicodeEscape(code: number): string {
  return '\\u' + code.toString(16).padStart(4, '0');
}

function jsonStringOrNull(text: string | null | undefined): string {
  return text === null || text === undefined ? 'null' : jsonString(text);
}

function jsonStringArray(items: readonly string[]): string {
  if (items.length === 0) return '[]';
  let out = '[' + jsonString(items[0] as string);
  for (let i = 1; i < items.length; i++) out += ',' + jsonString(items[i] as string);
  return out + ']';
}

/** A number as JSON.stringify writes it: null for NaN and the infinities. */
function jsonNumberOrNull(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'null' : String(value);
}
