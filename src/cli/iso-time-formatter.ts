/**
 * Formats times as `Date#toISOString` does (`2026-11-24T08:00:00.054Z`), or null for an invalid
 * date, without building a string from scratch per call: log events come in time order, so most
 * share their second with the one before and only the milliseconds change. The part up to the
 * second is computed by toISOString once per second seen and kept.
 */
export class IsoTimeFormatter {
  private second = Number.NaN;
  /** `YYYY-MM-DDTHH:MM:SS.` of `second`. */
  private prefix = '';

  /** The time as toISOString would print it, or null when it is not a valid date. */
  format(time: Date): string | null {
    const ms = time.getTime();
    if (Number.isNaN(ms)) return null;
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      const iso = time.toISOString();
      // Always `...SS.sssZ`, whatever the year's width: drop the milliseconds and the Z.
      this.prefix = iso.slice(0, iso.length - 4);
      this.second = second;
    }
    return this.prefix + MILLIS[ms - second * 1000] + 'Z';
  }
}

/** `000` to `999`. */
const MILLIS: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
