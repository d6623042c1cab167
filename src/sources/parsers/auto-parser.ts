/**
 * Format detection inside the stream (`--format auto`), with the real parser made by a factory the
 * caller gives: the service hands it every format's, a command that read the log's first lines
 * first (see formatAutoWouldChoose) hands it the one format those lines decide.
 */
import { forEachLine, restOfBlock, type LineBlock } from '../line-block.js';
import { appendOutput, emptyOutput, parseBlock, type LogParser, type ParseOutput } from '../parser.js';
import { DETECT_SAMPLE_LINES, classifyLine, isSyslogLine } from './detect-format.js';
import { SyslogProgramsParser, isSyslogProgramFormat } from './syslog-programs.js';
import { AUTO_FORMAT } from './formats.js';
import { malformed, screenLine } from './parse-support.js';

interface HeldLine {
  line: string;
  offset: number;
}

/**
 * Lines are held (lowWaterMark() is the first of them) until one is recognised (classifyLine);
 * then the real parser is made (`parserFor(format)`), the held lines are replayed through it, and
 * everything after goes straight to it. `format` reads `auto` until then, the real format after.
 *
 * If DETECT_SAMPLE_LINES non-empty lines pass unrecognised: when most of them are syslog lines,
 * the stream is taken as a syslog file without sudo messages yet (format `sudo`); otherwise they
 * are reported `unrecognized` and detection goes on with the following lines.
 *
 * A syslog file (recognised from a syslog line of sudo, in either of its formats, or of go-audit,
 * or from its other programs) is read for all their lines (SyslogProgramsParser): any local user
 * can log a line under either name, so the first one must not decide that the others go unread.
 */
export class AutoParser implements LogParser {
  private delegate: LogParser | null = null;
  private held: HeldLine[] = [];
  private heldNonEmpty = 0;
  private heldSyslog = 0;

  constructor(private readonly parserFor: (format: string) => LogParser) {}

  get format(): string {
    return this.delegate?.format ?? AUTO_FORMAT;
  }

  push(line: string, offset: number, now: Date): ParseOutput {
    if (this.delegate !== null) return this.delegate.push(line, offset, now);
    this.held.push({ line, offset });
    if (line.trim() === '') return emptyOutput();
    this.heldNonEmpty++;
    let format: string | null;
    let syslog = false;
    try {
      format = classifyLine(line);
      syslog = (format === null || isSyslogProgramFormat(format)) && isSyslogLine(line);
      if (format === null && syslog) this.heldSyslog++;
    } catch {
      format = null;
    }
    if (format !== null) return this.start(format, syslog, now);
    if (this.heldNonEmpty < DETECT_SAMPLE_LINES) return emptyOutput();
    if (this.heldSyslog * 2 > this.heldNonEmpty) return this.start('sudo', true, now);
    return this.dropHeld();
  }

  /** Lines go one by one until the format is known; the rest of the block then goes whole. */
  pushBlock(block: LineBlock, now: Date, out: ParseOutput): void {
    if (this.delegate !== null) {
      parseBlock(this.delegate, block, now, out);
      return;
    }
    const pos = forEachLine(block, (line, offset) => {
      appendOutput(out, this.push(line, offset, now));
      return this.delegate === null;
    });
    if (this.delegate !== null && pos < block.end) parseBlock(this.delegate, restOfBlock(block, pos), now, out);
  }

  flush(): ParseOutput {
    return this.delegate !== null ? this.delegate.flush() : this.dropHeld();
  }

  lowWaterMark(): number | null {
    if (this.delegate !== null) return this.delegate.lowWaterMark();
    return this.held[0]?.offset ?? null;
  }

  /** Makes the parser of `format`, recognised from a syslog line when `syslog`, and replays the held lines. */
  private start(format: string, syslog: boolean, now: Date): ParseOutput {
    const delegate = syslog && isSyslogProgramFormat(format) ? new SyslogProgramsParser(format, this.parserFor) : this.parserFor(format);
    this.delegate = delegate;
    const out = emptyOutput();
    for (const { line, offset } of this.held) appendOutput(out, delegate.push(line, offset, now));
    this.held = [];
    return out;
  }

  private dropHeld(): ParseOutput {
    const out = emptyOutput();
    for (const { line, offset } of this.held) {
      if (line.trim() === '') continue;
      const reason = screenLine(line) ?? 'unrecognized';
      out.malformed.push(malformed(reason, line, offset, 'log format not recognised'));
    }
    this.held = [];
    this.heldNonEmpty = 0;
    this.heldSyslog = 0;
    return out;
  }
}

/** A parser that reads nothing: what the probe below hands the detector. */
const NOTHING: LogParser = {
  format: AUTO_FORMAT,
  push: () => emptyOutput(),
  flush: () => emptyOutput(),
  lowWaterMark: () => null,
};

/**
 * The format an AutoParser fed `lines` (the first lines of a log, in order, each whole) would
 * settle on, or null when they do not settle it: the same detector runs over them, so a caller
 * that loads just that format's parser before reading gives the detector everything it will ask
 * for. Lines that settle nothing are not guessed from: the detector then needs every format at hand.
 */
export function formatAutoWouldChoose(lines: readonly string[]): string | null {
  let chosen: string | null = null;
  const probe = new AutoParser((format) => {
    // The first format asked for is the one chosen (a syslog file then asks for the other programs' too).
    chosen ??= format;
    return NOTHING;
  });
  const now = new Date(0);
  for (const line of lines) {
    probe.push(line, 0, now);
    if (chosen !== null) return chosen;
  }
  return null;
}
