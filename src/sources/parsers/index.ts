import { ConfigError } from '../../errors.js';
import { forEachLine, restOfBlock, type LineBlock } from '../line-block.js';
import { appendOutput, emptyOutput, parseBlock, type LogParser, type ParseOutput, type ParserOptions } from '../parser.js';
import { createAuditdParser } from './auditd.js';
import { DETECT_SAMPLE_LINES, classifyLine, isSyslogLine } from './detect-format.js';
import { createFalcoParser } from './falco.js';
import { createGoAuditParser } from './go-audit.js';
import { createJsonLinesParser } from './json-lines.js';
import { createLaurelParser } from './laurel.js';
import { createOsqueryParser } from './osquery.js';
import { malformed, screenLine } from './parse-support.js';
import { createSudoJournaldParser } from './sudo-journald.js';
import { createSudoJsonParser } from './sudo-json.js';
import { createSudoSyslogParser } from './sudo-syslog.js';

export { detectFormat, classifyLine, DETECT_SAMPLE_LINES } from './detect-format.js';

/** Every log format Vouch parses, by the name used in config `sources[].type` and `--format`. */
export const PARSER_FORMATS = [
  'auditd',
  'sudo',
  'sudo-journald',
  'sudo-json',
  'go-audit',
  'laurel',
  'osquery',
  'falco',
  'json',
] as const;

export type ParserFormat = (typeof PARSER_FORMATS)[number];

/** The pseudo-format that detects the real one from the first lines. */
export const AUTO_FORMAT = 'auto';

const FACTORIES: Record<ParserFormat, (options: ParserOptions) => LogParser> = {
  auditd: createAuditdParser,
  sudo: createSudoSyslogParser,
  'sudo-journald': createSudoJournaldParser,
  'sudo-json': createSudoJsonParser,
  'go-audit': createGoAuditParser,
  laurel: createLaurelParser,
  osquery: createOsqueryParser,
  falco: createFalcoParser,
  json: createJsonLinesParser,
};

export function isParserFormat(format: string): format is ParserFormat {
  return (PARSER_FORMATS as readonly string[]).includes(format);
}

/**
 * Creates a parser for a format named in PARSER_FORMATS, or `auto` (see createAutoParser).
 * Throws ConfigError (key `format`) naming the valid formats for anything else.
 */
export function createParser(format: string, options: ParserOptions): LogParser {
  if (format === AUTO_FORMAT) return createAutoParser(options);
  if (!isParserFormat(format)) {
    throw new ConfigError(
      'format',
      `unknown log format "${format}"; use one of: ${[AUTO_FORMAT, ...PARSER_FORMATS].join(', ')}`,
    );
  }
  return FACTORIES[format](options);
}

/**
 * A parser that detects the format from the stream itself, so `--format auto` still streams.
 * Lines are held (lowWaterMark() is the first of them) until one is recognised (classifyLine);
 * then the real parser is created, the held lines are replayed through it, and everything after
 * goes straight to it. `format` reads `auto` until then, the real format after.
 *
 * If DETECT_SAMPLE_LINES non-empty lines pass unrecognised: when most of them are syslog lines,
 * the stream is taken as a syslog file without sudo messages yet (format `sudo`); otherwise they
 * are reported `unrecognized` and detection goes on with the following lines.
 */
export function createAutoParser(options: ParserOptions): LogParser {
  return new AutoParser(options);
}

interface HeldLine {
  line: string;
  offset: number;
}

class AutoParser implements LogParser {
  private delegate: LogParser | null = null;
  private held: HeldLine[] = [];
  private heldNonEmpty = 0;
  private heldSyslog = 0;

  constructor(private readonly options: ParserOptions) {}

  get format(): string {
    return this.delegate?.format ?? AUTO_FORMAT;
  }

  push(line: string, offset: number, now: Date): ParseOutput {
    if (this.delegate !== null) return this.delegate.push(line, offset, now);
    this.held.push({ line, offset });
    if (line.trim() === '') return emptyOutput();
    this.heldNonEmpty++;
    let format: string | null;
    try {
      format = classifyLine(line);
      if (format === null && isSyslogLine(line)) this.heldSyslog++;
    } catch {
      format = null;
    }
    if (format !== null) return this.start(format, now);
    if (this.heldNonEmpty < DETECT_SAMPLE_LINES) return emptyOutput();
    if (this.heldSyslog * 2 > this.heldNonEmpty) return this.start('sudo', now);
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

  private start(format: string, now: Date): ParseOutput {
    const delegate = createParser(format, this.options);
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

export { createSudoSyslogParser } from './sudo-syslog.js';
export { createSudoJournaldParser } from './sudo-journald.js';
export { createSudoJsonParser } from './sudo-json.js';
export { createOsqueryParser } from './osquery.js';
export { createFalcoParser } from './falco.js';
export { createJsonLinesParser } from './json-lines.js';
export { createAuditdParser } from './auditd.js';
export { createGoAuditParser } from './go-audit.js';
export { createLaurelParser } from './laurel.js';
