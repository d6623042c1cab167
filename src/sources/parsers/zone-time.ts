/**
 * Wall-clock times of a named time zone (IANA, through the runtime's Intl data) as instants: what
 * syslog dates without a zone (RFC 3164, sudo's own log file) mean on a host whose clock is not UTC.
 */

/** True when `name` is a time zone the runtime knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Offsets from UTC by zone and by quarter hour of UTC time: a zone's offset changes on a quarter hour, a few times a year. */
const offsets = new Map<string, Map<number, number>>();
const formatters = new Map<string, Intl.DateTimeFormat>();
/** Most quarter hours remembered per zone (a long backlog spans years of them); past it the memory starts over. */
const MAX_QUARTERS = 100_000;

/** How far ahead of UTC the zone's wall clock is at instant `ms`, in ms. */
function offsetAt(zone: string, ms: number): number {
  const quarter = Math.floor(ms / 900_000);
  let byQuarter = offsets.get(zone);
  if (byQuarter === undefined) {
    byQuarter = new Map();
    offsets.set(zone, byQuarter);
  }
  const known = byQuarter.get(quarter);
  if (known !== undefined) return known;
  let format = formatters.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(quarter * 900_000))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  const offset = wall - quarter * 900_000;
  if (byQuarter.size >= MAX_QUARTERS) byQuarter.clear();
  byQuarter.set(quarter, offset);
  return offset;
}

/**
 * The instant the wall-clock time `wallMs` (its fields read as if UTC, as Date.UTC gives them)
 * names in `zone`. A time a spring-forward change skips is read with the offset before it (an
 * hour later on the wall); a time a fall-back change repeats names its first occurrence.
 */
export function wallClockToInstant(zone: string, wallMs: number): number {
  const before = offsetAt(zone, wallMs - 86_400_000);
  const after = offsetAt(zone, wallMs + 86_400_000);
  // The earlier offset first: of a repeated hour, its first occurrence.
  for (const offset of before === after ? [before] : [before, after]) {
    const instant = wallMs - offset;
    if (offsetAt(zone, instant) === offset) return instant;
  }
  return wallMs - before;
}
