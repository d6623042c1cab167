import { ConfigError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses durations such as `90s`, `30m`, `2h`, `1h30m`, `500ms`; a bare number means seconds. */
export function parseDuration(value: unknown, key: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value * 1000;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(key, `expected a duration such as 90s, 30m or 2h, got ${JSON.stringify(value)}`);
  }
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
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
  return total;
}

/** Formats milliseconds the way people write them in the config (2h, 30m, 90s). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
