import { classifyLine, detectFormat } from '../sources/parsers/detect-format.js';
import { AUTO_FORMAT } from '../sources/parsers/formats.js';
import type { LogReader } from '../sources/read-log.js';
import { terminalText } from '../terminal-text.js';
import { WrongFormatError } from './wrong-format-error.js';

/** What a command counted while reading the log. */
export interface LogCounts {
  events: number;
  /** Malformed input per reason, as the command's summary counts it. */
  malformed: ReadonlyMap<string, number>;
}

/**
 * Throws WrongFormatError when a log with at least one non-blank line gave no event and either
 * every line was malformed, or no line of its start is in the chosen format while they look like
 * another one (a parser that skips foreign lines quietly, such as sudo's, then still says so).
 * `requested` is the `--format` given; the reader's own format says what auto detection chose.
 * Shared by scan, rules test and ingest, which all read a log once through openLog.
 */
export function checkLogFormat(log: LogReader, requested: string, counts: LogCounts): void {
  if (counts.events > 0 || log.linesUntilFirstEvent === 0) return;
  const malformedLines = malformedLineCount(counts.malformed);
  const format = log.format;
  const looksLike = detectFormat(log.sampleLines);
  const name = terminalText(log.name);
  if (format === AUTO_FORMAT) {
    throw new WrongFormatError(`no line of ${name} is in a log format Vouch reads (${malformedLines} malformed); ${requested === AUTO_FORMAT ? 'name it with --format' : 'check --format'}`);
  }
  const allMalformed = malformedLines >= log.linesUntilFirstEvent;
  const foreign = looksLike !== null && looksLike !== format && !log.sampleLines.some((line) => lineIs(line, format));
  if (!allMalformed && !foreign) return;
  const hint =
    looksLike !== null && looksLike !== format
      ? `it looks like ${looksLike}: try --format ${looksLike}`
      : looksLike === null
        ? 'it does not look like any log format Vouch reads'
        : `the lines look like ${format} but none could be read`;
  throw new WrongFormatError(`no line of ${name} is in the ${format} format (${malformedLines} malformed); ${hint}`);
}

/** Malformed lines: every reason but incomplete events, which are made of lines in the format. */
function malformedLineCount(byReason: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const [reason, count] of byReason) if (reason !== 'incomplete_event') total += count;
  return total;
}

function lineIs(line: string, format: string): boolean {
  try {
    return classifyLine(line) === format;
  } catch {
    return false;
  }
}
