import type { CommandEvent } from '../command-event.js';
import { emptyOutput, type LogParser, type ParseOutput } from '../parser.js';
import {
  FieldDamage,
  FieldError,
  malformed,
  parseJsonObjectLine,
  screenLine,
  stripCarriageReturn,
  type JsonObject,
} from './parse-support.js';

/** What a JSON-lines format handler sees for one line. */
export interface JsonLineContext {
  /** The line as read (carriage return removed). */
  line: string;
  offset: number;
  now: Date;
  /** Reads optional fields: one of the wrong type is left out and the line counted `bad_field`. */
  damage: FieldDamage;
  /**
   * Refuses one record of a line that holds several (an osquery snapshot's row): it is counted as
   * `bad_json` with the error's message, and the line's other records still count.
   */
  refuse(error: FieldError): void;
}

/**
 * Turns one parsed JSON object into events. Returning an empty array skips the line silently
 * (records of no interest); throwing a FieldError reports it as `bad_json` with the message
 * (for a required field: the command, the time, the host). Optional fields are read through
 * `ctx.damage`, so a wrong type there costs the field, not the event.
 */
export type JsonObjectHandler = (value: JsonObject, ctx: JsonLineContext) => CommandEvent[];

/**
 * A stateless LogParser for formats with one JSON object per line. It screens lines (too long,
 * binary), parses JSON (truncated, bad_json, invalid_utf8), hands the object to `handle`, and
 * guarantees push() never throws: a bug in a handler costs that one line, reported as
 * `unrecognized`.
 */
export function createJsonLineParser(format: string, handle: JsonObjectHandler): LogParser {
  return {
    format,
    push(line: string, offset: number, now: Date): ParseOutput {
      const out = emptyOutput();
      const text = stripCarriageReturn(line);
      if (text.trim() === '') return out;
      const screened = screenLine(text);
      if (screened !== null) {
        out.malformed.push(malformed(screened, text, offset));
        return out;
      }
      const parsed = parseJsonObjectLine(text);
      if (!parsed.ok) {
        out.malformed.push(malformed(parsed.reason, text, offset, parsed.detail));
        return out;
      }
      const damage = new FieldDamage();
      const refuse = (error: FieldError) => void out.malformed.push(malformed('bad_json', text, offset, error.message));
      try {
        const events = handle(parsed.value, { line: text, offset, now, damage, refuse });
        for (const event of events) out.events.push(event);
        const report = events.length > 0 ? damage.report(text, offset) : null;
        if (report !== null) out.malformed.push(report);
      } catch (error) {
        const reason = error instanceof FieldError ? 'bad_json' : 'unrecognized';
        const detail = error instanceof Error ? error.message : String(error);
        out.malformed.push(malformed(reason, text, offset, detail));
      }
      return out;
    },
    flush: emptyOutput,
    lowWaterMark: () => null,
  };
}
