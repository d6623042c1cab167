import type { CommandEvent } from '../../../src/sources/command-event.js';
import type { LogParser, Malformed } from '../../../src/sources/parser.js';

export const NOW = new Date('2026-11-24T15:00:00Z');

export const baseOptions = { defaultHost: 'default-host' };

export interface Collected {
  events: CommandEvent[];
  malformed: Malformed[];
}

/** Feeds lines (offsets as in a file with \n endings), then flushes; collects everything. */
export function run(parser: LogParser, lines: readonly string[], now: Date = NOW): Collected {
  const collected: Collected = { events: [], malformed: [] };
  let offset = 0;
  for (const line of lines) {
    const out = parser.push(line, offset, now);
    collected.events.push(...out.events);
    collected.malformed.push(...out.malformed);
    offset += Buffer.byteLength(line) + 1;
  }
  const rest = parser.flush();
  collected.events.push(...rest.events);
  collected.malformed.push(...rest.malformed);
  return collected;
}
