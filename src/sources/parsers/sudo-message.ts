import { commandLine, type CommandEvent } from '../command-event.js';
import type { MalformedReason } from '../parser.js';
import { wellFormed } from './parse-support.js';

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
 * value runs to the end of the line: when an attacker puts ` ; COMMAND=` in a directory name, the
 * real command still ends up inside the command text, so rules still see it.
 */
export function parseSudoEntry(text: string): SudoEntryResult {
  const body = text;
  const fields: Record<string, string> = {};
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
      fields[key] = segment.slice(eq + 1);
      lastKey = key;
    } else if (first) {
      reason = segment;
    } else if (lastKey !== null) {
      // A value that itself contained " ; " (a directory name can): glue it back together.
      fields[lastKey] += ` ; ${segment}`;
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
  return { kind: 'entry', entry: { reason, fields, commandText, exitStatus, signal } };
}

/**
 * Splits sudo's COMMAND= text into argv. The first word is the command path (spaces in it are
 * `#040` since sudo 1.9.13). Since 1.9.13 an argument containing spaces is single-quoted, with
 * `\'` and `\\` escaped inside; older versions joined arguments with single spaces, so there a
 * space always separates arguments. Escapes `#ooo` are decoded in each word after splitting.
 */
export function splitSudoCommand(text: string): string[] {
  if (text === '') return [];
  const argv: string[] = [];
  const n = text.length;
  let i = 0;
  while (i <= n) {
    if (argv.length > 0 && text.charCodeAt(i) === 0x27 /* ' */) {
      const quoted = readQuoted(text, i);
      if (quoted !== null && (quoted.end === n || text.charCodeAt(quoted.end) === 0x20)) {
        argv.push(decodeOctalEscapes(quoted.value));
        i = quoted.end + 1;
        continue;
      }
    }
    let end = text.indexOf(' ', i);
    if (end < 0) end = n;
    argv.push(decodeOctalEscapes(text.slice(i, end)));
    i = end + 1;
  }
  return argv;
}

/** Reads `'...'` starting at `start`; null when the quote is never closed. */
function readQuoted(text: string, start: number): { value: string; end: number } | null {
  let value = '';
  let from = start + 1;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      const next = text.charCodeAt(i + 1);
      if (next === 0x27 || next === 0x5c) {
        value += text.slice(from, i) + text[i + 1];
        from = i + 2;
        i++;
      }
    } else if (c === 0x27) {
      return { value: value + text.slice(from, i), end: i + 1 };
    }
  }
  return null;
}

const utf8 = new TextDecoder('utf-8');

/**
 * Decodes the `#ooo` octal escapes syslog daemons and sudo write for control characters (`#012`),
 * spaces in a path (`#040`), DEL, and, when 8-bit escaping is on, bytes >= 0x80 (runs of those
 * are re-assembled and decoded as UTF-8). Other `#ddd` sequences are left alone, since a literal
 * `#123` in a command is more likely than an escaped printable character.
 */
export function decodeOctalEscapes(text: string): string {
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
    const code = octalAt(text, hash);
    if (code < 0 || (code > 0x20 && code < 0x7f)) {
      hash = text.indexOf('#', hash + 1);
      continue;
    }
    if (hash > from) {
      flushBytes();
      out += text.slice(from, hash);
    }
    if (code >= 0x80) {
      bytes.push(code);
    } else {
      flushBytes();
      out += String.fromCharCode(code);
    }
    from = hash + 4;
    hash = text.indexOf('#', from);
  }
  flushBytes();
  return out + text.slice(from);
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
  return event;
}
