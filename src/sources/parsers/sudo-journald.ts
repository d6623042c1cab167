import { type LogParser, type ParseOutput, type ParserOptions } from '../parser.js';
import {
  FieldError,
  hashKey,
  malformed,
  parseJsonObjectLine,
  toInteger,
  isUnsetUid,
  type JsonObject,
} from './parse-support.js';
import { HeldSudoParser } from './held-sudo-parser.js';
import { sudoCeeToOutput } from './sudo-json.js';
import { splitSudoMessage } from './sudo-message.js';

export const SUDO_JOURNALD_FORMAT = 'sudo-journald';

/**
 * Parses sudo's messages from the systemd journal exported as JSON (`journalctl -o json`, one
 * object per line). Entries of other programs are skipped silently (the export usually holds the
 * whole journal). Fields used: `MESSAGE` (the text after `sudo:`; an array of byte values when it
 * is not valid UTF-8), `SYSLOG_IDENTIFIER` or `_COMM` (which entries are sudo's), `_COMM`/`_EXE`
 * and `_UID` (proof of the sender, below), `_PID`, `_HOSTNAME` (default
 * `options.defaultHost`), `__REALTIME_TIMESTAMP` (microseconds), `_AUDIT_LOGINUID` (loginUid) and
 * `__CURSOR` (eventKey `sudo-journald:<cursor>`, else a hash of the line).
 *
 * An entry that claims to be sudo's is only believed when journald's trusted fields say sudo
 * (`_COMM=sudo` or an `_EXE` ending in `/sudo`) running as root (`_UID=0`) sent it; any other is
 * counted as malformed with reason `untrusted_source` (a local user's `logger -t sudo` forgery).
 *
 * The message itself is parsed exactly as in syslog, including `(command continued)` parts, which
 * are held as described for the sudo syslog parser, and `@cee:` JSON messages.
 */
export function createSudoJournaldParser(options: ParserOptions): LogParser {
  return new SudoJournaldParser(options);
}

const utf8 = new TextDecoder('utf-8');

class SudoJournaldParser extends HeldSudoParser {
  readonly format = SUDO_JOURNALD_FORMAT;

  protected handle(line: string, offset: number, now: Date, out: ParseOutput): void {
    const parsed = parseJsonObjectLine(line);
    if (!parsed.ok) {
      out.malformed.push(malformed(parsed.reason, line, offset, parsed.detail));
      return;
    }
    const entry = parsed.value;
    if (!claimsSudo(entry)) return;
    if (!sentBySudoAsRoot(entry)) {
      out.malformed.push(malformed('untrusted_source', line, offset, UNTRUSTED_DETAIL));
      return;
    }
    const program = 'sudo';
    const message = journalString(entry, 'MESSAGE');
    if (message === null) throw new FieldError('MESSAGE is missing');
    const host = journalString(entry, '_HOSTNAME') ?? this.options.defaultHost;
    const pid = toInteger(journalString(entry, '_PID') ?? journalString(entry, 'SYSLOG_PID'));
    const time = journalTime(entry);
    const sender = `${host}\u0000${pid ?? ''}`;
    if (message.startsWith('@cee:')) {
      this.assembler.other(sender, out);
      const header = { time, host, program, pid, message };
      const ctx = { line, offset, header, options: this.options, sourceFormat: SUDO_JOURNALD_FORMAT };
      sudoCeeToOutput(message.slice(5), ctx, out);
      return;
    }
    const split = splitSudoMessage(message);
    if (split.kind === 'other') {
      this.assembler.other(sender, out);
    } else if (split.kind === 'continued') {
      this.assembler.continued(sender, split.user, split.text, { raw: line, offset, now }, out);
    } else {
      const cursor = journalString(entry, '__CURSOR');
      const origin = {
        time,
        host,
        pid,
        loginUid: loginUid(entry),
        eventKey: cursor !== null ? `${SUDO_JOURNALD_FORMAT}:${cursor}` : hashKey(SUDO_JOURNALD_FORMAT, line),
        sourceFormat: SUDO_JOURNALD_FORMAT,
      };
      this.assembler.first(sender, { origin, user: split.user, text: split.text, offset, raw: line }, now, out);
    }
  }
}

const UNTRUSTED_DETAIL = 'claims to be sudo, but journald\'s trusted fields do not say sudo running as root sent it (_COMM/_EXE, _UID=0)';

/** Whether the entry says it is sudo's, by its own word (SYSLOG_IDENTIFIER) or journald's. */
function claimsSudo(entry: JsonObject): boolean {
  return journalString(entry, 'SYSLOG_IDENTIFIER') === 'sudo' || journalString(entry, '_COMM') === 'sudo';
}

/**
 * Whether journald's trusted fields (the underscore ones, which it takes from the sender's kernel
 * credentials and never from the message) show sudo's own executable, running as root, sent the
 * entry. SYSLOG_IDENTIFIER and MESSAGE are the sender's words: `logger -t sudo` sets both, but
 * its `_COMM` is `logger` and its `_UID` the user's.
 */
function sentBySudoAsRoot(entry: JsonObject): boolean {
  const comm = journalString(entry, '_COMM');
  const exe = journalString(entry, '_EXE');
  const isSudo = comm === 'sudo' || (exe !== null && exe.endsWith('/sudo'));
  return isSudo && journalString(entry, '_UID') === '0';
}

/**
 * A journal field as text. journald exports a value as a string, as an array of byte values when
 * it is not valid UTF-8 (decoded here, invalid bytes becoming U+FFFD), or as an array of values
 * when the field occurs more than once (the first is used).
 */
function journalString(entry: JsonObject, key: string): string | null {
  return fieldText(entry[key], key, true);
}

function fieldText(value: unknown, key: string, allowMulti: boolean): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    if (value.every(isByte)) return utf8.decode(Uint8Array.from(value as number[]));
    if (allowMulti && value.length > 0) return fieldText(value[0], key, false);
  }
  throw new FieldError(`${key} must be a string or an array of bytes`);
}

function isByte(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 255;
}

function journalTime(entry: JsonObject): Date {
  const micros = toInteger(journalString(entry, '__REALTIME_TIMESTAMP'));
  if (micros === null || micros < 0) throw new FieldError('__REALTIME_TIMESTAMP must be microseconds');
  return new Date(Math.floor(micros / 1000));
}

function loginUid(entry: JsonObject): number | null {
  const uid = toInteger(journalString(entry, '_AUDIT_LOGINUID'));
  return uid === null || isUnsetUid(uid) ? null : uid;
}
