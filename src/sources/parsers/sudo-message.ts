import { commandLine, type CommandEvent } from '../command-event.js';
import type { MalformedReason } from '../parser.js';
import { wellFormed } from './parse-support.js';
import type { Attribution } from '../provenance.js';

/**
 * sudo's own log line (the "sudo" log format), the text that follows `sudo[PID]: ` in syslog and
 * fills journald's MESSAGE:
 *
 *   `USER : [REASON[ : ERRSTR] ; ][HOST=h ; ]TTY=tty ; [CHROOT=d ; ]PWD=cwd ; USER=runas ;
 *    [GROUP=g ; ][TSID=id ; ][ENV=... ; ]COMMAND=cmd args[ ; SIGNAL=s][ ; EXIT=n]`
 *
 * USER is right-aligned in 8 columns. A message longer than sudo's syslog limit (about 960 bytes)
 * is cut at a space and continued in further messages `USER : (command continued) rest`.
 */

/** The first split of a sudo message: who, and whether it continues an earlier message. */
export type SudoMessageLine =
  | { kind: 'first'; user: string; text: string }
  | { kind: 'continued'; user: string; text: string }
  /** Not a command log (PAM, diagnostics such as "unable to resolve host"): skip silently. */
  | { kind: 'other' };

const CONTINUED = '(command continued)';

/** sudo's `syslog_maxlen` default: the longest message it hands to syslog(3), in bytes. */
export const SUDO_SYSLOG_MAXLEN = 960;

/**
 * The most bytes of its text one part of a split message can hold: sudo subtracts the length of
 * its format (`%8s : %s`, or `%8s : (command continued) %s`) less five, and the user name's
 * (lib/eventlog/eventlog.c). A part exactly this long was cut where no space fitted, inside a
 * word; a shorter one was cut at a space, which sudo dropped. Two cases read one space off: a
 * word that ended exactly at the limit (the log is the same as for a word cut there), and a
 * `syslog_maxlen` changed from the default in sudoers.
 */
export function sudoPartLimit(user: string, continued: boolean): number {
  const formatOverhead = continued ? 23 : 3;
  return SUDO_SYSLOG_MAXLEN - formatOverhead - Buffer.byteLength(user);
}

/** Splits `   alice : rest` into the invoking user and the rest. */
export function splitSudoMessage(message: string): SudoMessageLine {
  const sep = message.indexOf(' : ');
  if (sep < 0) return { kind: 'other' };
  const user = message.slice(0, sep).trim();
  if (user === '' || user.includes(' ') || user.length > 256) return { kind: 'other' };
  const text = message.slice(sep + 3);
  if (text.startsWith(CONTINUED)) {
    const rest = text.slice(CONTINUED.length);
    return { kind: 'continued', user, text: rest.startsWith(' ') ? rest.slice(1) : rest };
  }
  return { kind: 'first', user, text };
}

/** The fields of one (re-assembled) sudo log entry, still escaped as sudo wrote them. */
export interface SudoEntry {
  /** Denial reason (with sudo's error string after ` : `), null for an accepted command. */
  reason: string | null;
  /** KEY=value fields before COMMAND (TTY, PWD, USER, GROUP, TSID, ENV, HOST, CHROOT...). */
  fields: Record<string, string>;
  /**
   * Keys that appeared more than once: sudo writes each field once, so the others were planted in
   * a directory name or a variable (`PWD=/x ; USER=nobody`, `ENV=A=1 ; USER=nobody`). A repeated
   * USER reads as root when any of its values is root, so a planted value cannot hide a root
   * command from the rules written for root.
   */
  repeated: string[];
  /** The COMMAND= text: the resolved path, then the arguments. */
  commandText: string;
  /** EXIT= of an exit record (`log_exit_status`), null otherwise. */
  exitStatus: string | null;
  /** SIGNAL= of an exit record, null otherwise. */
  signal: string | null;
}

export type SudoEntryResult =
  | { kind: 'entry'; entry: SudoEntry }
  /** A message with a reason but no command (a sudoers alert): nothing ran, nothing to ask. */
  | { kind: 'other' }
  | { kind: 'bad'; reason: MalformedReason; detail: string };

const FIELD_KEY = /^[A-Z][A-Z_]{0,15}$/;
const EXIT_SUFFIX = / ; (EXIT=-?\d{1,10}|SIGNAL=[A-Z0-9+-]{1,16})$/;

/**
 * Parses the text after `USER : `. Fields are read in order up to the first `COMMAND=`, whose
 * value runs to the end of the line. sudo writes PWD and ENV values as they are, so ` ; COMMAND=`
 * in a directory name makes the line ambiguous: the planted command is read as the command, and
 * the real one follows it inside the command text as the words `;` and `COMMAND=/real/path`. No
 * reading can be trusted, so the default pack's sudo-log-field-injection rule asks about any
 * sudo text line that holds them.
 */
export function parseSudoEntry(text: string): SudoEntryResult {
  const body = text;
  const fields: Record<string, string> = {};
  const repeated: string[] = [];
  const users: string[] = [];
  let reason: string | null = null;
  let lastKey: string | null = null;
  let commandText: string | null = null;
  for (let pos = 0, first = true; ; first = false) {
    if (body.startsWith('COMMAND=', pos)) {
      commandText = body.slice(pos + 8);
      break;
    }
    const sep = body.indexOf(' ; ', pos);
    // A message without COMMAND= may end in a bare separator: "USER=root ;".
    const segment = sep < 0 ? body.slice(pos).replace(/ ?;$/, '') : body.slice(pos, sep);
    if (segment === '') {
      if (sep < 0) break;
      if (lastKey !== null) fields[lastKey] += ' ; ';
      pos = sep + 3;
      continue;
    }
    const eq = segment.indexOf('=');
    const key = eq > 0 ? segment.slice(0, eq) : '';
    if (FIELD_KEY.test(key)) {
      if (fields[key] !== undefined && !repeated.includes(key)) repeated.push(key);
      fields[key] = segment.slice(eq + 1);
      if (key === 'USER') users.push(fields[key]);
      lastKey = key;
    } else if (first) {
      reason = segment;
    } else if (lastKey !== null) {
      // A value that itself contained " ; " (a directory name can): glue it back together.
      fields[lastKey] += ` ; ${segment}`;
      if (lastKey === 'USER') users[users.length - 1] = fields[lastKey] as string;
    } else {
      reason = `${reason ?? ''} ; ${segment}`;
    }
    if (sep < 0) break;
    pos = sep + 3;
  }
  if (commandText === null || commandText === '') {
    if (reason !== null && commandText === null) return { kind: 'other' };
    return { kind: 'bad', reason: 'truncated', detail: 'sudo message without COMMAND=' };
  }
  if (users.length > 1) fields.USER = users.includes('root') ? 'root' : (users[0] as string);
  let exitStatus: string | null = null;
  let signal: string | null = null;
  for (let i = 0; i < 2; i++) {
    const m = EXIT_SUFFIX.exec(commandText);
    if (m === null) break;
    const value = m[1]!;
    if (value.startsWith('EXIT=')) exitStatus = value.slice(5);
    else signal = value.slice(7);
    commandText = commandText.slice(0, m.index);
  }
  return { kind: 'entry', entry: { reason, fields, repeated, commandText, exitStatus, signal } };
}

/**
 * Splits sudo's COMMAND= text into argv, undoing the escaping sudo 1.9.13 and later apply
 * (lib/eventlog/eventlog.c): the first word is the command path, with blanks and control
 * characters escaped (`#040`) and nothing else; an argument containing a space is single-quoted,
 * with `'` and `\` escaped by a backslash inside; any other argument has blanks and control
 * characters escaped and `'` and `\` backslash-escaped as well. Older versions joined the
 * arguments with single spaces and escaped nothing, so there a space always separates arguments
 * (and a backslash before `'` or `\` is read as an escape). `#` escapes are decoded last.
 */
export function splitSudoCommand(text: string): string[] {
  if (text === '') return [];
  const n = text.length;
  let end = text.indexOf(' ');
  if (end < 0) end = n;
  // Only the command path can hold an escaped space: an argument with a space is quoted instead,
  // so `#040` in an argument is the text itself (no syslog daemon escapes a space either).
  const argv = [decodeOctalEscapes(text.slice(0, end), true)];
  let i = end + 1;
  while (i <= n) {
    // A word that starts with a bare quote is quoted: sudo escapes every other quote. Each scan
    // stops at the next bare quote at the latest, so the scans never overlap (linear time).
    if (text.charCodeAt(i) === 0x27 /* ' */) {
      const quoted = readQuoted(text, i);
      if (quoted !== null && (quoted.end === n || text.charCodeAt(quoted.end) === 0x20)) {
        argv.push(decodeOctalEscapes(quoted.value, false));
        i = quoted.end + 1;
        continue;
      }
    }
    end = text.indexOf(' ', i);
    if (end < 0) end = n;
    argv.push(decodeOctalEscapes(unescapeBackslashes(text.slice(i, end)), false));
    i = end + 1;
  }
  return argv;
}

/** Reads `'...'` starting at `start`; null when the quote is never closed. */
function readQuoted(text: string, start: number): { value: string; end: number } | null {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      const next = text.charCodeAt(i + 1);
      // An escaped quote or backslash neither ends the word nor escapes what follows it.
      if (next === 0x27 || next === 0x5c) i++;
    } else if (c === 0x27) {
      return { value: unescapeBackslashes(text.slice(start + 1, i)), end: i + 1 };
    }
  }
  return null;
}

/** Undoes `\'` and `\\` in an unquoted word; a backslash before anything else is kept. */
function unescapeBackslashes(word: string): string {
  let slash = word.indexOf('\\');
  if (slash < 0) return word;
  if (word.length > LONG_WORD_CHARS) return unescapeCodes(word);
  let out = '';
  let from = 0;
  while (slash >= 0) {
    const next = word.charCodeAt(slash + 1);
    if (next === 0x27 || next === 0x5c) {
      out += word.slice(from, slash);
      from = slash + 1;
      slash = word.indexOf('\\', slash + 2);
    } else {
      slash = word.indexOf('\\', slash + 1);
    }
  }
  return out + word.slice(from);
}

/**
 * Longer words are unescaped through a code-unit array. Appending pieces to a string is quickest for
 * short words, but a long run of escapes (a 1 MiB argument of `\\` is half a million pieces)
 * makes a rope whose garbage costs more per piece the longer it gets.
 */
const LONG_WORD_CHARS = 4096;

/** unescapeBackslashes through a code-unit array (for long words). */
function unescapeCodes(word: string): string {
  const codes = new Uint16Array(word.length);
  let n = 0;
  for (let i = 0; i < word.length; i++) {
    let c = word.charCodeAt(i);
    if (c === 0x5c) {
      const next = word.charCodeAt(i + 1);
      if (next === 0x27 || next === 0x5c) {
        c = next;
        i++;
      }
    }
    codes[n++] = c;
  }
  return stringOfCodes(codes, n);
}

/** The first `n` code units as a string, lone surrogates kept (TextDecoder would replace them). */
function stringOfCodes(codes: Uint16Array, n: number): string {
  const parts: string[] = [];
  for (let at = 0; at < n; at += CODES_PER_CALL) parts.push(String.fromCharCode(...codes.subarray(at, Math.min(n, at + CODES_PER_CALL))));
  return parts.join('');
}

/** Code units per String.fromCharCode call: well under any engine's argument limit. */
const CODES_PER_CALL = 8192;

const utf8 = new TextDecoder('utf-8');

/**
 * Decodes the `#` octal escapes of control characters and blanks: sudo 1.9.13 and later write
 * `#0` and the code's octal digits without padding (`#01`, `#011`, `#040`, `#0177`); syslog daemons
 * write `#` and three digits (`#001`, `#011`, `#177`), and, when 8-bit escaping is on, bytes
 * >= 0x80 (runs of those are re-assembled and decoded as UTF-8). Other `#ddd` sequences are left
 * alone, since a literal `#123` in a command is more likely than an escaped printable character.
 * Where the two forms collide (`#0177` is sudo's DEL, and rsyslog's 0x0f then `7`) sudo's wins.
 * `#040` is a space only where sudo escapes one (`spaces`: the command path).
 */
export function decodeOctalEscapes(text: string, spaces = true): string {
  let hash = text.indexOf('#');
  if (hash < 0) return text;
  let out = '';
  let bytes: number[] = [];
  const flushBytes = (): void => {
    if (bytes.length > 0) out += utf8.decode(Uint8Array.from(bytes));
    bytes = [];
  };
  let from = 0;
  while (hash >= 0) {
    const escape = escapeAt(text, hash);
    if (escape === null || (!spaces && escape.code === 0x20)) {
      hash = text.indexOf('#', hash + 1);
      continue;
    }
    if (hash > from) {
      flushBytes();
      out += text.slice(from, hash);
    }
    if (escape.code >= 0x80) {
      bytes.push(escape.code);
    } else {
      flushBytes();
      out += String.fromCharCode(escape.code);
    }
    from = hash + escape.length;
    hash = text.indexOf('#', from);
  }
  flushBytes();
  return out + text.slice(from);
}

/**
 * Whether `text` holds a `#` sequence decodeOctalEscapes decodes. sudo does not escape a literal
 * `#`, so each such sequence may also be the text itself (`#057etc`, `#012`): a command holding
 * one is a best reading.
 */
export function holdsOctalEscape(text: string): boolean {
  for (let hash = text.indexOf('#'); hash >= 0; hash = text.indexOf('#', hash + 1)) if (escapeAt(text, hash) !== null) return true;
  return false;
}

/** The escape starting at `hash` (its character code and length), or null when there is none. */
function escapeAt(text: string, hash: number): { code: number; length: number } | null {
  if (text.startsWith('#0177', hash)) return { code: 0x7f, length: 5 };
  const code = octalAt(text, hash);
  if (code >= 0 && (code <= 0x20 || code >= 0x7f)) return { code, length: 4 };
  // sudo's one-digit form, for the codes 1 to 7.
  const digit = text.charCodeAt(hash + 2) - 0x30;
  if (text.charCodeAt(hash + 1) === 0x30 && digit >= 1 && digit <= 7) return { code: digit, length: 3 };
  return null;
}

function octalAt(text: string, hash: number): number {
  if (hash + 3 >= text.length) return -1;
  let value = 0;
  for (let k = 1; k <= 3; k++) {
    const digit = text.charCodeAt(hash + k) - 0x30;
    if (digit < 0 || digit > 7 || (k === 1 && digit > 3)) return -1;
    value = value * 8 + digit;
  }
  return value;
}

/** Where a sudo message came from; the log-format-specific half of an event. */
export interface SudoOrigin {
  time: Date;
  host: string;
  pid: number | null;
  loginUid: number | null;
  eventKey: string;
  sourceFormat: string;
  /** The event's attribution when not its format's (sudo's own log file is not syslog). */
  attribution?: Attribution;
}

/** Builds the CommandEvent for a parsed sudo entry. */
export function sudoEntryToEvent(origin: SudoOrigin, user: string, entry: SudoEntry): CommandEvent {
  const argv = splitSudoCommand(entry.commandText).map(wellFormed);
  const { fields } = entry;
  const extra: Record<string, string> = {};
  const keep = (from: string, to: string): void => {
    const value = fields[from];
    if (value !== undefined) extra[to] = wellFormed(decodeOctalEscapes(value));
  };
  keep('TTY', 'tty');
  keep('GROUP', 'run_group');
  keep('TSID', 'tsid');
  keep('ENV', 'env');
  keep('CHROOT', 'chroot');
  keep('HOST', 'submit_host');
  if (entry.repeated.length > 0) extra.sudo_fields_repeated = entry.repeated.join(',');
  if (holdsOctalEscape(entry.commandText)) extra.argv_inexact = 'true';
  if (entry.exitStatus !== null) extra.exit_status = entry.exitStatus;
  if (entry.signal !== null) extra.signal = entry.signal;
  const event: CommandEvent = {
    time: origin.time,
    host: origin.host,
    user: wellFormed(user),
    loginUid: origin.loginUid,
    runAs: fields.USER === undefined ? null : wellFormed(decodeOctalEscapes(fields.USER)),
    argv,
    command: commandLine(argv),
    exe: argv[0] ?? null,
    cwd: fields.PWD === undefined ? null : wellFormed(decodeOctalEscapes(fields.PWD)),
    pid: origin.pid,
    ppid: null,
    sourceFormat: origin.sourceFormat,
    eventKey: origin.eventKey,
  };
  if (entry.reason !== null) {
    event.sudoDenied = true;
    event.denialReason = wellFormed(decodeOctalEscapes(entry.reason));
  }
  if (Object.keys(extra).length > 0) event.extra = extra;
  if (origin.attribution !== undefined) event.attribution = origin.attribution;
  return event;
}
