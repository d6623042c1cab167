/**
 * A syslog file read as `auto`: sudo's lines and go-audit's, each by its own parser, whichever the
 * file showed first. The tag of a syslog line is whatever its sender says it is, so any local user
 * can write a line of either program (`logger -t go-audit '{"sequence":1,...}'`, `logger -t sudo
 * ...`); if the first such line chose one parser for the whole file, one line would blind Vouch to
 * every line of the other program.
 */
import { lineEnd, type LineBlock } from '../line-block.js';
import { appendOutput, parseBlock, type LogParser, type ParseOutput } from '../parser.js';
import { parseSyslogHeader } from './syslog-header.js';

/** The formats whose lines a syslog file can carry, read together. */
export type SyslogProgramFormat = 'sudo' | 'go-audit';

const GO_AUDIT_PROGRAM = 'go-audit';
const GO_AUDIT_BYTES = Buffer.from(GO_AUDIT_PROGRAM, 'latin1');

/** True when `line` is a syslog line of program go-audit carrying JSON, as go-audit logs it. */
export function isGoAuditSyslogLine(line: string, now: Date): boolean {
  if (!line.includes(GO_AUDIT_PROGRAM)) return false;
  const header = parseSyslogHeader(line.trim(), now);
  return header !== null && header.program === GO_AUDIT_PROGRAM && header.message.startsWith('{');
}

/**
 * Every line goes to the sudo parser, which reads sudo's lines and passes over other programs'
 * (noting that the file is a syslog file, and ending any entry of sudo's own log file it holds);
 * go-audit's lines go to the go-audit parser as well, made when the first one comes. `format` is
 * the one detection chose, the program of the first line it recognised.
 */
export class SyslogProgramsParser implements LogParser {
  private readonly sudo: LogParser;
  private goAudit: LogParser | null = null;

  constructor(
    readonly format: SyslogProgramFormat,
    private readonly parserFor: (format: string) => LogParser,
  ) {
    // The chosen format's parser first: a caller that loaded only some formats learns from the first call which it is.
    if (format === 'go-audit') this.goAudit = parserFor('go-audit');
    this.sudo = parserFor('sudo');
  }

  push(line: string, offset: number, now: Date): ParseOutput {
    const out = this.sudo.push(line, offset, now);
    if (isGoAuditSyslogLine(line, now)) appendOutput(out, this.goAuditParser().push(line, offset, now));
    return out;
  }

  /**
   * The block goes to the sudo parser as bytes (it joins characters cut between sudo's parts),
   * in runs between go-audit lines; a go-audit line, found by one search for the program's name
   * per such line, is decoded and read by both.
   */
  pushBlock(block: LineBlock, now: Date, out: ParseOutput): void {
    const { bytes, end } = block;
    let from = block.start;
    while (from < end) {
      const hit = bytes.indexOf(GO_AUDIT_BYTES, from);
      if (hit < 0 || hit >= end) break;
      const lineStart = Math.max(from, bytes.lastIndexOf(10, hit) + 1);
      const stop = lineEnd(block, hit);
      const next = Math.min(stop + 1, end);
      parseBlock(this.sudo, part(block, from, next), now, out);
      const line = bytes.toString(block.ascii ? 'latin1' : 'utf8', lineStart, stop);
      if (isGoAuditSyslogLine(line, now)) appendOutput(out, this.goAuditParser().push(line, block.offset + (lineStart - block.start), now));
      from = next;
    }
    if (from < end) parseBlock(this.sudo, part(block, from, end), now, out);
  }

  flush(): ParseOutput {
    const out = this.sudo.flush();
    if (this.goAudit !== null) appendOutput(out, this.goAudit.flush());
    return out;
  }

  lowWaterMark(): number | null {
    const sudo = this.sudo.lowWaterMark();
    const goAudit = this.goAudit?.lowWaterMark() ?? null;
    if (sudo === null) return goAudit;
    return goAudit === null ? sudo : Math.min(sudo, goAudit);
  }

  private goAuditParser(): LogParser {
    this.goAudit ??= this.parserFor('go-audit');
    return this.goAudit;
  }
}

/** The lines `bytes[start, end)` of `block` (whole lines of it). */
function part(block: LineBlock, start: number, end: number): LineBlock {
  return { ...block, start, end, offset: block.offset + (start - block.start) };
}
