import { ConfigError } from '../errors.js';

/** `workflow.working_hours`: when people are asked low and medium questions, in their own time zone. */
export interface WorkingHours {
  /** Minutes after local midnight when the working day starts (inclusive) and ends (exclusive). */
  startMinute: number;
  endMinute: number;
  /** Working weekdays, 0 = Sunday … 6 = Saturday. */
  days: ReadonlySet<number>;
  /** The setting as written, for messages and the audit trail. */
  text: string;
}

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const EXAMPLE = 'such as "09:00-18:00 Mon-Fri" or "08:30-17:00 Mon,Tue,Thu"';

/**
 * Parses `HH:MM-HH:MM` optionally followed by weekdays (`Mon-Fri`, `Mon,Wed,Fri`, `Mon-Wed,Fri`;
 * absent means every day). Strict: anything else is refused with the fix, since a silently
 * misread setting would hold questions back at the wrong hours.
 */
export function parseWorkingHours(value: unknown, key: string): WorkingHours {
  if (typeof value !== 'string') throw new ConfigError(key, `must be a string ${EXAMPLE}`);
  const text = value.trim().replace(/\s+/g, ' ');
  const match = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})(?: (.+))?$/.exec(text);
  if (!match) throw new ConfigError(key, `"${value}" is not a working-hours range: write start-end in 24-hour HH:MM and weekdays, ${EXAMPLE}`);
  const startMinute = clockMinute(match[1] as string, match[2] as string, key, false);
  const endMinute = clockMinute(match[3] as string, match[4] as string, key, true);
  if (endMinute <= startMinute) {
    throw new ConfigError(key, `the day must end after it starts (${match[1]}:${match[2]} is not before ${match[3]}:${match[4]}); ranges over midnight are not supported`);
  }
  const days = match[5] === undefined ? new Set([0, 1, 2, 3, 4, 5, 6]) : parseDays(match[5], key);
  return { startMinute, endMinute, days, text };
}

function clockMinute(hours: string, minutes: string, key: string, isEnd: boolean): number {
  const h = Number(hours);
  const m = Number(minutes);
  const valid = m < 60 && (h < 24 || (isEnd && h === 24 && m === 0));
  if (!valid) throw new ConfigError(key, `${hours}:${minutes} is not a time of day (00:00 to 23:59, or 24:00 as an end)`);
  return h * 60 + m;
}

function parseDays(text: string, key: string): Set<number> {
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const [from, to, extra] = part.trim().split('-');
    if (extra !== undefined || from === undefined || from === '') throw new ConfigError(key, `"${part}" is not a weekday or a range of them, ${EXAMPLE}`);
    const first = weekday(from, key);
    const last = to === undefined ? first : weekday(to, key);
    // A range may wrap over the weekend (Fri-Mon).
    for (let day = first; ; day = (day + 1) % 7) {
      days.add(day);
      if (day === last) break;
    }
  }
  return days;
}

function weekday(name: string, key: string): number {
  const index = WEEKDAYS.indexOf(name.trim().toLowerCase() as (typeof WEEKDAYS)[number]);
  if (index < 0) throw new ConfigError(key, `"${name}" is not a weekday: use Mon, Tue, Wed, Thu, Fri, Sat or Sun`);
  return index;
}

/** Whether `timeZone` is an IANA zone this runtime knows (Slack sends names like Europe/Paris). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first moment at or after `now` inside working hours in `timeZone`: `now` itself during
 * working hours, otherwise the next working day's start, as an instant (DST-aware).
 */
export function nextWorkingStart(now: Date, hours: WorkingHours, timeZone: string): Date {
  const local = localParts(now, timeZone);
  const minute = local.hour * 60 + local.minute;
  if (hours.days.has(local.weekday) && minute >= hours.startMinute && minute < hours.endMinute) return now;
  for (let ahead = 0; ahead <= 7; ahead += 1) {
    if (!hours.days.has((local.weekday + ahead) % 7)) continue;
    if (ahead === 0 && minute >= hours.startMinute) continue;
    const day = new Date(Date.UTC(local.year, local.month - 1, local.day + ahead));
    return zonedTime(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), hours.startMinute, timeZone);
  }
  // Unreachable with at least one working day; asking now is the safe answer.
  return now;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

function localParts(at: Date, timeZone: string): LocalParts & { second: number } {
  const parts = Object.fromEntries(formatterFor(timeZone).formatToParts(at).map((part) => [part.type, part.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS.indexOf(String(parts.weekday).toLowerCase() as (typeof WEEKDAYS)[number]),
  };
}

/** The zone's offset from UTC at `instant`, in ms. */
function offsetAt(instant: number, timeZone: string): number {
  const p = localParts(new Date(instant), timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(instant / 1000) * 1000;
}

/** The instant when the wall clock in `timeZone` reads the given date and minute of the day. */
function zonedTime(year: number, month: number, day: number, minuteOfDay: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day, 0, minuteOfDay);
  const first = wall - offsetAt(wall, timeZone);
  // Around a DST change the offset at the answer can differ from the offset at the guess.
  const second = wall - offsetAt(first, timeZone);
  return new Date(second);
}
