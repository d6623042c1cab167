/**
 * The log formats by name, and each one's parser factory loaded on demand: a command that reads
 * one format (a `vouch scan` of an audit log) imports that parser alone, not the other eight.
 */
import type { LogParser, ParserOptions } from '../parser.js';

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

export type ParserFactory = (options: ParserOptions) => LogParser;

export function isParserFormat(format: string): format is ParserFormat {
  return (PARSER_FORMATS as readonly string[]).includes(format);
}

/** The factory of one format, its module imported on first use. */
export async function loadParserFactory(format: ParserFormat): Promise<ParserFactory> {
  switch (format) {
    case 'auditd':
      return (await import('./auditd.js')).createAuditdParser;
    case 'sudo':
      return (await import('./sudo-syslog.js')).createSudoSyslogParser;
    case 'sudo-journald':
      return (await import('./sudo-journald.js')).createSudoJournaldParser;
    case 'sudo-json':
      return (await import('./sudo-json.js')).createSudoJsonParser;
    case 'go-audit':
      return (await import('./go-audit.js')).createGoAuditParser;
    case 'laurel':
      return (await import('./laurel.js')).createLaurelParser;
    case 'osquery':
      return (await import('./osquery.js')).createOsqueryParser;
    case 'falco':
      return (await import('./falco.js')).createFalcoParser;
    case 'json':
      return (await import('./json-lines.js')).createJsonLinesParser;
  }
}
