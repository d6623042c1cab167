import { ConfigError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses durations such as `90s`, `30m`, `2h`, `1h30m`, `500ms`. A number without a unit is
 * refused (is `30` seconds or minutes?), except 0, which is zero in any unit.
 */
export function parseDuration(value: unknown, key: string): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (text === '') {
    throw new ConfigError(key, `expected a duration such as 90s, 30m or 2h, got ${JSON.stringify(value)}`);
  }
  if (/^\d+(\.\d+)?$/.test(text)) {
    if (Number(text) === 0) return 0;
    throw new ConfigError(key, `"${text}" has no unit: write ${text}s for seconds, ${text}m for minutes or ${text}h for hours`);
  }
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    total += Number(match[1]) * (UNITS[match[2] as string] as number);
    consumed = part.lastIndex;
  }
  if (consumed !== text.length || consumed === 0) {
    throw new ConfigError(key, `"${text}" is not a duration: use a number with ms, s, m, h or d, such as 90s, 30m or 2h`);
  }
  if (!Number.isSafeInteger(Math.round(total))) throw new ConfigError(key, `"${text}" is too long a duration`);
  return total;
}

/** A duration that must be more than zero: a zero timeout or interval would fire at once or spin. */
export function parsePositiveDuration(value: unknown, key: string): number {
  const ms = parseDuration(value, key);
  if (ms <= 0) throw new ConfigError(key, 'must be more than zero, such as 90s, 30m or 2h');
  return ms;
}

/** Formats milliseconds the way people write them in the config (2h, 30m, 90s). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
