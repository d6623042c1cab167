import type { LogParser, ParseOutput, ParserOptions } from '../parser.js';
import {
  hasInvalidUtf8,
  hashKey,
  malformed,
} from './parse-support.js';
import { HeldSudoParser } from './held-sudo-parser.js';
import { sudoCeeToOutput } from './sudo-json.js';
import { splitSudoMessage } from './sudo-message.js';
import { parseSudoLogfileLine, parseSyslogHeader } from './syslog-header.js';

export const SUDO_SYSLOG_FORMAT = 'sudo';

export { DEFAULT_SUDO_HOLD_MS } from './held-sudo-parser.js';

/**
 * Parses sudo's messages in a syslog file (auth.log, secure, messages):
 * `DATE HOST sudo[PID]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id`.
 *
 * - Lines from other programs are skipped silently; sudo's PAM and diagnostic messages too.
 * - `user` is the invoking user, `runAs` USER=, `cwd` PWD=; a denial reason sets `sudoDenied`.
 * - A message is held until the next message from the same sudo process, or
 *   `options.eventTimeoutMs` (default 2000 ms) after it arrived, so `(command continued)` parts
 *   are joined to it; `lowWaterMark()` reports the oldest held line.
 * - sudo's JSON format sent over syslog (`@cee:{"sudo":{...}}`) is understood as well, and so is
 *   sudo's own log file (`Defaults logfile`, see logfileLine).
 * - `eventKey` is `sudo:` + SHA-1 of the first line and the instant its date was read as: a
 *   traditional syslog date has no year, so the same line a year later is another event.
 */
export function createSudoSyslogParser(options: ParserOptions): LogParser {
  return new SudoSyslogParser(options);
}

/** The one sender of sudo's own log file: sudo writes each entry whole, one after another. */
const LOGFILE_SENDER = 'sudo logfile';
/** How sudo indents the lines it wraps an entry of its log file onto (LOG_INDENT). */
const LOGFILE_INDENT = '    ';

class SudoSyslogParser extends HeldSudoParser {
  readonly format = SUDO_SYSLOG_FORMAT;
  /**
   * Whether a syslog line was read: a file that holds one is not sudo's own log file. A stream
   * read from its middle (ParserOptions.midStream) may have had one before it.
   */
  private sawSyslog = this.options.midStream === true;

  protected handle(line: string, offset: number, now: Date, out: ParseOutput, kept: string | null): void {
    const header = parseSyslogHeader(line, now, this.options.timeZone);
    if (header === null) {
      if (this.logfileLine(line, offset, now, out, kept)) return;
      this.assembler.other(LOGFILE_SENDER, out);
      const reason = hasInvalidUtf8(line) ? 'invalid_utf8' : 'unrecognized';
      out.malformed.push(malformed(reason, line, offset, 'not a syslog line'));
      return;
    }
    // A syslog line ends any entry of sudo's log file held, and says this is no such file.
    this.assembler.other(LOGFILE_SENDER, out);
    this.sawSyslog = true;
    if (header.program !== 'sudo') return;
    const sender = `${header.host}\u0000${header.pid ?? ''}`;
    if (header.message.startsWith('@cee:')) {
      this.assembler.other(sender, out);
      const ctx = { line, offset, header, options: this.options, sourceFormat: SUDO_SYSLOG_FORMAT };
      sudoCeeToOutput(header.message.slice(5), ctx, out);
      return;
    }
    const message = splitSudoMessage(keptMessage(line, header.message, kept));
    if (message.kind === 'other') {
      this.assembler.other(sender, out);
    } else if (message.kind === 'continued') {
      this.assembler.continued(sender, message.user, message.text, { raw: line, offset, now }, out);
    } else {
      const origin = {
        time: header.time,
        host: header.host,
        pid: header.pid,
        loginUid: null,
        eventKey: lineKey(header.time, line),
        sourceFormat: SUDO_SYSLOG_FORMAT,
      };
      this.assembler.first(sender, { origin, user: message.user, text: message.text, offset, raw: line }, now, out);
    }
  }

  /**
   * A line of sudo's own log file (`Defaults logfile`): `DATE[ YEAR] : user : [HOST=host ; ]TTY=... ;
   * COMMAND=...`, wrapped at `loglinelen` onto lines indented by four spaces. False when the line
   * is neither. sudo writes that file itself (root's, mode 0600), so its entries are not syslog's
   * word but as trusted as the file: attributed `shipper`, as sudo's JSON log file is, as long as
   * the stream is that file. Once a syslog line came (a syslog file, in which such a line can
   * only be text someone slipped in), they are `syslog-unverified` like the rest.
   */
  private logfileLine(line: string, offset: number, now: Date, out: ParseOutput, kept: string | null): boolean {
    const text = kept ?? line;
    if (text.startsWith(LOGFILE_INDENT)) {
      this.assembler.wrapped(LOGFILE_SENDER, text.slice(LOGFILE_INDENT.length).replace(/^ +/, ''), { raw: line, offset, now }, out);
      return true;
    }
    const entry = parseSudoLogfileLine(text, now, this.options.timeZone);
    if (entry === null) return false;
    const message = splitSudoMessage(entry.message);
    if (message.kind !== 'first') {
      this.assembler.other(LOGFILE_SENDER, out);
      return true;
    }
    // With log_host, sudo names the host as the entry's first field.
    const host = /^HOST=([^ ;]+) ; /.exec(message.text);
    const origin = {
      time: entry.time,
      host: host?.[1] ?? this.options.defaultHost,
      pid: null,
      loginUid: null,
      eventKey: lineKey(entry.time, line),
      sourceFormat: SUDO_SYSLOG_FORMAT,
      attribution: this.sawSyslog ? ('syslog-unverified' as const) : ('shipper' as const),
    };
    this.assembler.first(LOGFILE_SENDER, { origin, user: message.user, text: message.text, offset, raw: line }, now, out);
    return true;
  }
}

/** The key of the event a line starts: the line and the instant its date names, year included. */
function lineKey(time: Date, line: string): string {
  return hashKey(SUDO_SYSLOG_FORMAT, `${Number.isNaN(time.getTime()) ? 'NaN' : time.toISOString()} ${line}`);
}

/**
 * The message of a line as kept text (kept-bytes.ts) when the line has it, the message is the rest
 * of the line as read, and the header before it reads the same both ways (the invalid bytes are in
 * the message); else the message as read.
 */
function keptMessage(line: string, message: string, kept: string | null): string {
  if (kept === null || !line.endsWith(message)) return message;
  const headerLength = line.length - message.length;
  return kept.startsWith(line.slice(0, headerLength)) ? kept.slice(headerLength) : message;
}
