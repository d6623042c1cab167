/**
 * A syslog file read as `auto`: sudo's text lines, sudo's JSON (`@cee:`) lines and go-audit's,
 * each by its own parser, whichever the file showed first. The tag of a syslog line is whatever
 * its sender says it is, so any local user can write a line of either program (`logger -t
 * go-audit '{"sequence":1,...}'`, `logger -t sudo ...`); if the first such line chose one parser
 * for the whole file, one line would blind Vouch to every line of the others. An admin who
 * switches sudo's `log_format` mid-file, or hosts with different sudoers writing to one file,
 * mix sudo's two formats in one file too.
 */
import { lineEnd, type LineBlock } from '../line-block.js';
import { appendOutput, emptyOutput, parseBlock, type LogParser, type ParseOutput } from '../parser.js';
import { parseSyslogHeader } from './syslog-header.js';

/** The formats whose lines a syslog file can carry, read together. */
export const SYSLOG_PROGRAM_FORMATS = ['sudo', 'sudo-json', 'go-audit'] as const;
export type SyslogProgramFormat = (typeof SYSLOG_PROGRAM_FORMATS)[number];

export function isSyslogProgramFormat(format: string): format is SyslogProgramFormat {
  return (SYSLOG_PROGRAM_FORMATS as readonly string[]).includes(format);
}

/** A line not sudo's text is one of these: a marker its text holds, and the parser it goes to. */
const SPECIAL: ReadonlyArray<{ format: 'go-audit' | 'sudo-json'; marker: Buffer }> = [
  { format: 'go-audit', marker: Buffer.from('go-audit', 'latin1') },
  { format: 'sudo-json', marker: Buffer.from('@cee:', 'latin1') },
];

/**
 * The format of a syslog line that is not for the sudo text parser: `go-audit` for a line of
 * program go-audit carrying JSON, `sudo-json` for sudo's `@cee:` JSON; null for any other line.
 */
export function specialProgramOf(line: string, now: Date): 'go-audit' | 'sudo-json' | null {
  const goAudit = line.includes('go-audit');
  const cee = line.includes('@cee:');
  if (!goAudit && !cee) return null;
  const header = parseSyslogHeader(line.trim(), now);
  if (header === null) return null;
  if (goAudit && header.program === 'go-audit' && header.message.startsWith('{')) return 'go-audit';
  if (cee && header.program === 'sudo' && header.message.startsWith('@cee:')) return 'sudo-json';
  return null;
}

/**
 * sudo's JSON lines go to the sudo-json parser alone; every other line goes to the sudo text
 * parser, which reads sudo's lines and passes over other programs' (noting that the file is a
 * syslog file, and ending any entry of sudo's own log file it holds), and go-audit's lines go to
 * the go-audit parser as well. The other parsers are made when their first line comes. `format`
 * is the one detection chose, the program of the first line it recognised.
 */
export class SyslogProgramsParser implements LogParser {
  private readonly parsers = new Map<SyslogProgramFormat, LogParser>();

  constructor(
    readonly format: SyslogProgramFormat,
    private readonly parserFor: (format: string) => LogParser,
  ) {
    // The chosen format's parser first: a caller that loaded only some formats learns from the first call which it is.
    this.parser(format);
    this.parser('sudo');
  }

  push(line: string, offset: number, now: Date): ParseOutput {
    return this.pushLine(line, specialProgramOf(line, now), offset, now);
  }

  /** A line whose program specialProgramOf named (`special`). */
  private pushLine(line: string, special: 'go-audit' | 'sudo-json' | null, offset: number, now: Date): ParseOutput {
    if (special === 'sudo-json') return this.parser('sudo-json').push(line, offset, now);
    const out = this.parser('sudo').push(line, offset, now);
    if (special === 'go-audit') appendOutput(out, this.parser('go-audit').push(line, offset, now));
    return out;
  }

  /**
   * The block goes to the sudo text parser as bytes (it joins characters cut between sudo's
   * parts), in runs between the lines that hold one of the markers; such a line, found by one
   * search per marker and line, is decoded and read as push() reads it.
   */
  pushBlock(block: LineBlock, now: Date, out: ParseOutput): void {
    const { bytes, end } = block;
    const next = SPECIAL.map(() => -2);
    let from = block.start;
    while (from < end) {
      let hit = -1;
      for (let i = 0; i < SPECIAL.length; i++) {
        // Each marker is searched for again only once reading has passed where it was last found,
        // and only within the block: its bytes may be a part of a larger buffer (an HTTP body cut
        // into many blocks), and a search to the buffer's end for every block would be quadratic.
        if (next[i]! !== -1 && next[i]! < from) {
          const at = bytes.subarray(from, end).indexOf(SPECIAL[i]!.marker);
          next[i] = at < 0 ? -1 : from + at;
        }
        const at = next[i]!;
        if (at >= 0 && (hit < 0 || at < hit)) hit = at;
      }
      if (hit < 0) break;
      const lineStart = Math.max(from, bytes.lastIndexOf(10, hit) + 1);
      const stop = lineEnd(block, hit);
      const after = Math.min(stop + 1, end);
      if (lineStart > from) parseBlock(this.parser('sudo'), part(block, from, lineStart), now, out);
      const line = bytes.toString(block.ascii ? 'latin1' : 'utf8', lineStart, stop);
      const offset = block.offset + (lineStart - block.start);
      const special = specialProgramOf(line, now);
      if (special === null) parseBlock(this.parser('sudo'), part(block, lineStart, after), now, out);
      else appendOutput(out, this.pushLine(line, special, offset, now));
      from = after;
    }
    if (from < end) parseBlock(this.parser('sudo'), part(block, from, end), now, out);
  }

  flush(): ParseOutput {
    const out = emptyOutput();
    for (const parser of this.parsers.values()) appendOutput(out, parser.flush());
    return out;
  }

  lowWaterMark(): number | null {
    let lowest: number | null = null;
    for (const parser of this.parsers.values()) {
      const mark = parser.lowWaterMark();
      if (mark !== null && (lowest === null || mark < lowest)) lowest = mark;
    }
    return lowest;
  }

  private parser(format: SyslogProgramFormat): LogParser {
    let parser = this.parsers.get(format);
    if (parser === undefined) {
      parser = this.parserFor(format);
      this.parsers.set(format, parser);
    }
    return parser;
  }
}

/** The lines `bytes[start, end)` of `block` (whole lines of it). */
function part(block: LineBlock, start: number, end: number): LineBlock {
  return { ...block, start, end, offset: block.offset + (start - block.start) };
}
