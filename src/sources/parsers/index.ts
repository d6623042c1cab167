import { ConfigError } from '../../errors.js';
import type { LogParser, ParserOptions } from '../parser.js';
import { createAuditdParser } from './auditd.js';
import { AutoParser } from './auto-parser.js';
import { createFalcoParser } from './falco.js';
import { AUTO_FORMAT, PARSER_FORMATS, isParserFormat, type ParserFactory, type ParserFormat } from './formats.js';
import { createGoAuditParser } from './go-audit.js';
import { createJsonLinesParser } from './json-lines.js';
import { createLaurelParser } from './laurel.js';
import { createOsqueryParser } from './osquery.js';
import { createSudoJournaldParser } from './sudo-journald.js';
import { createSudoJsonParser } from './sudo-json.js';
import { createSudoSyslogParser } from './sudo-syslog.js';

export { detectFormat, classifyLine, DETECT_SAMPLE_LINES } from './detect-format.js';
export { AUTO_FORMAT, PARSER_FORMATS, isParserFormat, loadParserFactory, type ParserFactory, type ParserFormat } from './formats.js';

/** Every format's parser factory, imported up front: the service may be configured with any of them. */
export const FACTORIES: Record<ParserFormat, ParserFactory> = {
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
 * A parser that detects the format from the stream itself, so `--format auto` still streams (see
 * AutoParser); every format's parser is at hand.
 */
export function createAutoParser(options: ParserOptions): LogParser {
  return new AutoParser((format) => createParser(format, options));
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
