import { MAX_LINE_CHARS, isJsonObject, type JsonObject } from './parse-support.js';
import { parseSyslogHeader } from './syslog-header.js';

/** How many non-empty lines detectFormat() looks at. */
export const DETECT_SAMPLE_LINES = 50;

const SUDO_EVENT_KEYS = new Set(['accept', 'reject', 'alert', 'exit']);
/** A line opening one event of sudo's pretty-printed JSON log file. */
const SUDO_JSON_BLOCK = /^"(accept|reject|alert|exit)"\s*:\s*\{/;
/** The first line of an entry of sudo's own log file: `Nov 24 14:23:28[ 2026] : alice : TTY=...`. */
const SUDO_LOGFILE_ENTRY = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d( \d{4})? : [^ :]{1,256} : [A-Za-z]/;
/** Any fixed date: detection never depends on the year a syslog date is placed in. */
const DETECT_NOW = new Date(Date.UTC(2000, 0, 1));

/**
 * Names the log format of a sample of lines (the first lines of a file or request), or null when
 * none is recognised. Each of the first DETECT_SAMPLE_LINES non-empty lines votes for the format
 * it looks like (see classifyLine); the format with most votes wins, ties going to the one seen
 * first. Lines that look like nothing (other programs in a syslog file) do not vote.
 */
export function detectFormat(sampleLines: readonly string[]): string | null {
  const votes = new Map<string, number>();
  let seen = 0;
  for (const line of sampleLines) {
    if (line.trim() === '') continue;
    if (++seen > DETECT_SAMPLE_LINES) break;
    const format = classifyLine(line);
    if (format !== null) votes.set(format, (votes.get(format) ?? 0) + 1);
  }
  let best: string | null = null;
  let bestVotes = 0;
  for (const [format, count] of votes) {
    if (count > bestVotes) {
      best = format;
      bestVotes = count;
    }
  }
  return best;
}

/**
 * The format one line looks like, or null:
 * - `[node=NAME ]type=TYPE msg=audit(...)` is auditd;
 * - a syslog line from `sudo` is sudo, or sudo-json when it carries `@cee:`, and so is an entry of
 *   sudo's own log file; a syslog line of program `go-audit` whose message is its JSON is go-audit;
 * - a JSON object is sorted by its keys: `SYSLOG_IDENTIFIER`/`__CURSOR` (sudo-journald), one of
 *   accept/reject/alert/exit or `sudo` (sudo-json), `messages` + `sequence` (go-audit), `ID` +
 *   `SYSCALL`/`EXECVE` (laurel), `hostIdentifier`/`diffResults`/`columns` (osquery),
 *   `output_fields` + `rule` + `priority` (falco), `argv`/`command` + `host`/`time` (json);
 * - `    "accept": {` (sudo's pretty-printed JSON file) is sudo-json.
 */
export function classifyLine(line: string): string | null {
  const text = line.trim().replace(/^\ufeff/, '');
  if (text === '' || text.length > MAX_LINE_CHARS) return null;
  if (text.startsWith('{')) return classifyJson(text);
  if (SUDO_JSON_BLOCK.test(text)) return 'sudo-json';
  if (isAuditRecord(text)) return 'auditd';
  if (SUDO_LOGFILE_ENTRY.test(text)) return 'sudo';
  if (text.includes('sudo')) {
    const header = parseSyslogHeader(text, DETECT_NOW);
    if (header?.program === 'sudo') return header.message.startsWith('@cee:') ? 'sudo-json' : 'sudo';
  }
  // go-audit's syslog output carries its JSON as the message, under its own program name: any
  // local user can log JSON (`logger '{"sequence":1,...}'`), and it must not turn a syslog file's
  // detection away from sudo. A go-audit tagged otherwise is named with `type: go-audit`.
  if (text.includes('go-audit') && text.includes(': {"')) {
    const header = parseSyslogHeader(text, DETECT_NOW);
    if (header?.program === 'go-audit' && header.message.startsWith('{') && classifyJson(header.message) === 'go-audit') return 'go-audit';
  }
  return null;
}

/** True when the line is any syslog line (used to pick `sudo` for syslog files without sudo yet). */
export function isSyslogLine(line: string): boolean {
  return parseSyslogHeader(line.trim(), DETECT_NOW) !== null;
}

function isAuditRecord(text: string): boolean {
  let rest = text;
  if (rest.startsWith('node=')) {
    const space = rest.indexOf(' ');
    if (space < 0) return false;
    rest = rest.slice(space + 1);
  }
  return rest.startsWith('type=') && rest.includes(' msg=audit(');
}

function classifyJson(text: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isJsonObject(value)) return null;
  const has = (key: string): boolean => key in value;
  if (has('SYSLOG_IDENTIFIER') || has('__CURSOR')) return 'sudo-journald';
  if (isSudoJson(value)) return 'sudo-json';
  if (has('messages') && has('sequence')) return 'go-audit';
  if (isLaurelEvent(value)) return 'laurel';
  if (has('hostIdentifier') || has('diffResults') || (has('columns') && has('name'))) return 'osquery';
  if (has('output_fields') && has('rule') && has('priority')) return 'falco';
  if ((has('argv') || has('command')) && (has('host') || has('time'))) return 'json';
  return null;
}

/** laurel's event id, `SECONDS.MILLIS:SERIAL`. */
const AUDIT_ID = /^\d{1,15}\.\d{1,9}:\d{1,15}$/;
/** An audit record type, as laurel names an event's records: `SYSCALL`, `USER_CMD`, `CRED_ACQ`... */
const RECORD_TYPE = /^[A-Z][A-Z0-9_]{1,31}$/;

/**
 * A laurel event: an audit `ID` and at least one record named by its audit type (an object, or an
 * array of them). Not only exec events: laurel writes every event auditd hands it, and a log can
 * open with many that have no SYSCALL at all (sudo's USER_CMD, PAM's USER_* and CRED_*).
 */
function isLaurelEvent(value: JsonObject): boolean {
  if (typeof value.ID !== 'string' || !AUDIT_ID.test(value.ID)) return false;
  return Object.keys(value).some((key) => key !== 'ID' && key !== 'NODE' && RECORD_TYPE.test(key) && (isJsonObject(value[key]) || Array.isArray(value[key])));
}

function isSudoJson(value: JsonObject): boolean {
  if (isJsonObject(value.sudo)) return true;
  const keys = Object.keys(value);
  if (keys.length !== 1 || !SUDO_EVENT_KEYS.has(keys[0]!)) return false;
  const inner = value[keys[0]!];
  return isJsonObject(inner) && ('runargv' in inner || 'submituser' in inner || 'command' in inner);
}
