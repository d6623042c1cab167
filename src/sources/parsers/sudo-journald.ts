import { emptyOutput, type LogParser, type ParseOutput, type ParserOptions } from '../parser.js';
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
import { decodeKeepingBytes } from './kept-bytes.js';
import { sudoCeeToOutput } from './sudo-json.js';
import { splitSudoMessage } from './sudo-message.js';

export const SUDO_JOURNALD_FORMAT = 'sudo-journald';

/**
 * Parses sudo's messages from the systemd journal exported as JSON (`journalctl -o json`, one
 * object per line). Entries of other programs are skipped silently (the export usually holds the
 * whole journal). Fields used: `MESSAGE` (the text after `sudo:`; an array of byte values when it
 * is not valid UTF-8), `SYSLOG_IDENTIFIER` or `_COMM` (which entries are sudo's), `_TRANSPORT`,
 * `_COMM`, `_EXE`, `_UID` and `_CAP_EFFECTIVE` (proof of the sender, below), `_PID`, `_HOSTNAME`
 * (default `options.defaultHost`), `__REALTIME_TIMESTAMP` (microseconds), `_AUDIT_LOGINUID`
 * (loginUid) and `__CURSOR` (eventKey `sudo-journald:<cursor>`, else a hash of the line).
 *
 * An entry that claims to be sudo's is only believed when it came through journald's syslog socket
 * (`_TRANSPORT=syslog`) and journald's trusted fields say sudo's own executable, running with
 * root's privileges, sent it (see sentBySudoAsRoot); any other is counted as malformed with reason
 * `untrusted_source` (a local user's `logger -t sudo` forgery, or set-uid sudo made to print a
 * forged line into a `systemd-cat` stream). One sudo was made to print over the syslog socket
 * itself is refused when `resolveUid` names journald's `_UID` as someone else than the user the
 * line names (see nameOfSender).
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
    const refusal = refusalOf(entry);
    if (refusal !== null) {
      out.malformed.push(malformed('untrusted_source', line, offset, refusal));
      return;
    }
    const program = 'sudo';
    const message = journalString(entry, 'MESSAGE');
    if (message === null) throw new FieldError('MESSAGE is missing');
    const host = journalString(entry, '_HOSTNAME') ?? this.options.defaultHost;
    const pid = toInteger(journalString(entry, '_PID') ?? journalString(entry, 'SYSLOG_PID'));
    const time = journalTime(entry);
    const sender = `${host}\u0000${pid ?? ''}`;
    const senderName = nameOfSender(entry, host, this.options.resolveUid);
    if (message.startsWith('@cee:')) {
      this.assembler.other(sender, out);
      const header = { time, host, program, pid, message };
      const ctx = { line, offset, header, options: this.options, sourceFormat: SUDO_JOURNALD_FORMAT };
      // Judged on the events the JSON gave, so the user compared is the one the event names,
      // whatever the object's wrapping, key order or repair of a cut-short message.
      const parsed = emptyOutput();
      sudoCeeToOutput(message.slice(5), ctx, parsed);
      const impostor = senderName === null ? null : parsed.events.map((event) => impostorDetail(senderName, event.user)).find((detail) => detail !== null);
      if (impostor) {
        out.malformed.push(malformed('untrusted_source', line, offset, impostor));
        return;
      }
      // An alert may name nobody: sudo sent it for the one journald saw run it.
      if (senderName !== null) for (const event of parsed.events) event.user ??= senderName.name;
      out.events.push(...parsed.events);
      out.malformed.push(...parsed.malformed);
      return;
    }
    const impostor = senderName === null ? null : impostorDetail(senderName, claimedUser(message));
    if (impostor !== null) {
      this.assembler.other(sender, out);
      out.malformed.push(malformed('untrusted_source', line, offset, impostor));
      return;
    }
    // A MESSAGE that is not valid UTF-8 comes as its bytes: kept, so a character sudo cut between two parts is joined whole.
    const split = splitSudoMessage(Array.isArray(entry.MESSAGE) && entry.MESSAGE.every(isByte) ? decodeKeepingBytes(Uint8Array.from(entry.MESSAGE as number[])) : message);
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

/**
 * Why an entry that claims to be sudo's is not believed, or null when it is sudo's own.
 *
 * sudo logs only through syslog(3) (it has no native journal logging: `--with-logging` is syslog,
 * file or both), which journald receives on its syslog socket as `_TRANSPORT=syslog`. Any other
 * transport is refused before the sender is looked at: on a stdout stream (`systemd-cat -t sudo
 * sudo -S -p '<forged line>' true`) journald records the process that wrote to it, so a user's
 * set-uid sudo printing a prompt of the user's choosing carries sudo's `_EXE` and root's
 * capabilities.
 */
function refusalOf(entry: JsonObject): string | null {
  if (journalString(entry, '_TRANSPORT') !== 'syslog') return TRANSPORT_DETAIL;
  if (sentBySudoAsRoot(entry)) return null;
  return senderUnknown(entry) ? SENDER_UNKNOWN_DETAIL : UNTRUSTED_DETAIL;
}

const TRANSPORT_DETAIL =
  "claims to be sudo, but did not come through journald's syslog socket (_TRANSPORT=syslog), the only way sudo logs to the journal";

const UNTRUSTED_DETAIL =
  "claims to be sudo, but journald's trusted fields do not say sudo's own executable running with root's privileges sent it (_EXE, _UID=0 or _CAP_EFFECTIVE)";

const SENDER_UNKNOWN_DETAIL =
  'claims to be sudo, but journald recorded no _EXE or _COMM for the sender (it had exited before journald looked), so it cannot be told from a forgery';

/**
 * Whether journald could not see the sending process: sudo exits right after logging a denial,
 * often before journald reads /proc, so its denials arrive with only `_UID`/`_PID`. A forger can
 * do the same, so such entries are refused too; auditd's USER_CMD records keep denials trusted.
 */
function senderUnknown(entry: JsonObject): boolean {
  return journalString(entry, '_EXE') === null && journalString(entry, '_COMM') === null;
}

/** The user a sudo command line says ran sudo (the name before ` : `); null for anything else (PAM session lines, continued parts). */
function claimedUser(message: string): string | null {
  const split = splitSudoMessage(message);
  return split.kind === 'first' ? split.user : null;
}

/** A sender journald's `_UID` names (see nameOfSender). */
interface NamedSender {
  uid: number;
  name: string;
}

/**
 * The sender of an entry sudo itself sent, by journald's `_UID` (the kernel's word for the sending
 * process, which set-uid sudo does not change) and its name in `resolveUid`; null when the uid is
 * root's (which may run sudo for anyone and can write any log anyway) or has no name, so nothing
 * can be judged.
 *
 * A line whose user is not the sender is one the sender had sudo print, not sudo's log: `sudo -S
 * -p '<line>'` with its standard error on a socket connected to /dev/log arrives with sudo's
 * `_EXE`, root's capabilities and `_TRANSPORT=syslog`, and only `_UID` gives the forger away.
 */
function nameOfSender(entry: JsonObject, host: string, resolveUid: ParserOptions['resolveUid']): NamedSender | null {
  if (resolveUid === undefined) return null;
  const uid = toInteger(journalString(entry, '_UID'));
  if (uid === null || uid === 0 || isUnsetUid(uid)) return null;
  const name = resolveUid(uid, host);
  return name === null ? null : { uid, name };
}

/** Why a line naming `user` is not the named sender's own log line; null when it is (or names nobody). */
function impostorDetail(sender: NamedSender, user: string | null): string | null {
  if (user === null || sender.name === user) return null;
  return `sent by sudo run by uid ${sender.uid} (${sender.name}), but the line names ${user}: a line sudo was made to print (its prompt, over /dev/log), not sudo's log`;
}

/** Whether the entry says it is sudo's, by its own word (SYSLOG_IDENTIFIER) or journald's. */
function claimsSudo(entry: JsonObject): boolean {
  return journalString(entry, 'SYSLOG_IDENTIFIER') === 'sudo' || journalString(entry, '_COMM') === 'sudo';
}

/**
 * Whether journald's trusted fields (the underscore ones, which it takes from the sender's kernel
 * credentials and /proc, never from the message) show sudo's own executable, running with root's
 * privileges, sent the entry. SYSLOG_IDENTIFIER and MESSAGE are the sender's words: `logger -t sudo`
 * sets both, but its `_EXE` is logger's and it has no privileges.
 *
 * sudo is set-uid: journald records the invoking user's `_UID` (1001, say) with root's full
 * `_CAP_EFFECTIVE`, as Debian's sudo 1.9.13 does in test/fixtures/real/sudo/journal.json. A copy of
 * sudo elsewhere loses the set-uid bit, and one run in a user namespace is not at a system path, so
 * the executable must be one of the system's sudo paths.
 */
function sentBySudoAsRoot(entry: JsonObject): boolean {
  const exe = journalString(entry, '_EXE');
  const uid = journalString(entry, '_UID');
  if (exe === null) return journalString(entry, '_COMM') === 'sudo' && uid === '0';
  return SUDO_EXECUTABLES.has(exe) && (uid === '0' || hasCapabilities(journalString(entry, '_CAP_EFFECTIVE')));
}

/** Where distributions and source builds install sudo. */
const SUDO_EXECUTABLES = new Set(['/usr/bin/sudo', '/bin/sudo', '/usr/sbin/sudo', '/usr/local/bin/sudo']);

/** Whether a `_CAP_EFFECTIVE` hex mask holds any capability. */
function hasCapabilities(mask: string | null): boolean {
  return mask !== null && /^[0-9a-f]{1,16}$/i.test(mask) && /[1-9a-f]/i.test(mask);
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
