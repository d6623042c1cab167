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
  /** `before` and `"YYYY-MM-DDTHH:MM:SS.` of `second` as bytes, for writeJson; made when first asked for. */
  private prefixJson: Uint8Array | null = null;
  /** `000Z"` to `999Z"`, each followed by `after`, as bytes; made when writeJson is first called. */
  private millisJson: readonly Uint8Array[] | null = null;

  /**
   * `before` and `after` (ASCII) frame what writeJson writes: the text a caller writes right
   * before and right after the time (a property name, a separator), joined to it here so that a
   * time costs two copies into the output and no more.
   */
  constructor(
    private readonly before = '',
    private readonly after = '',
  ) {}

  /** The time as toISOString would print it, or null when it is not a valid date. */
  format(time: Date): string | null {
    const ms = time.getTime();
    if (Number.isNaN(ms)) return null;
    this.toSecond(time, ms);
    return this.prefix + MILLIS[ms - this.second * 1000] + 'Z';
  }

  /** Makes `prefix` that of the second of `time` (whose getTime() is `ms`, a valid time). */
  private toSecond(time: Date, ms: number): void {
    const second = Math.floor(ms / 1000);
    if (second === this.second) return;
    const iso = time.toISOString();
    // Always `...SS.sssZ`, whatever the year's width: drop the milliseconds and the Z.
    this.prefix = iso.slice(0, iso.length - 4);
    this.prefixJson = null;
    this.second = second;
  }

  /**
   * `before`, the time as a JSON string (`"2026-11-24T08:00:00.054Z"`, as JSON.stringify writes
   * format()'s text) or `null`, then `after`, written into `out` as bytes: no string is made per
   * call, and the text of a concatenation is slow to walk character by character.
   */
  writeJson(out: JsonBytesOut, time: Date): void {
    const ms = time.getTime();
    if (Number.isNaN(ms)) {
      out.bytes(Buffer.from(`${this.before}null${this.after}`, 'latin1'));
      return;
    }
    this.toSecond(time, ms);
    this.prefixJson ??= Buffer.from(`${this.before}"${this.prefix}`, 'latin1');
    this.millisJson ??= MILLIS.map((digits) => Buffer.from(`${digits}Z"${this.after}`, 'latin1'));
    out.bytes(this.prefixJson);
    out.bytes(this.millisJson[ms - this.second * 1000]!);
  }
}

/** Where writeJson writes (an OutputBuffer). */
export interface JsonBytesOut {
  bytes(bytes: Uint8Array): void;
}

/** `000` to `999`. */
const MILLIS: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
