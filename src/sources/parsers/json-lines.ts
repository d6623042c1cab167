import { commandLine, type CommandEvent } from '../command-event.js';
import type { LogParser, ParserOptions } from '../parser.js';
import { createJsonLineParser, type JsonLineContext } from './json-line-parser.js';
import {
  FieldError,
  epochToDate,
  hashKey,
  isJsonObject,
  optionalString,
  parseIsoTime,
  splitWords,
  wellFormed,
  type FieldDamage,
  type JsonObject,
} from './parse-support.js';

export const JSON_LINES_FORMAT = 'json';

/**
 * Parses Vouch's own normalized schema, for any source without a dedicated parser: one JSON object
 * per line with
 *
 * | field         | type                                   | meaning                              |
 * |---------------|----------------------------------------|--------------------------------------|
 * | `time`        | ISO 8601 string, or epoch s/ms         | else the time it was read (flagged)  |
 * | `host`        | string                                 | default `options.defaultHost`        |
 * | `user`        | string or null                         | the login user (not root)            |
 * | `run_as`      | string or null                         | account the command ran as           |
 * | `argv`        | array of strings                       | preferred over `command`             |
 * | `command`     | string                                 | split on whitespace without `argv`   |
 * | `cwd`, `exe`  | string or null                         |                                      |
 * | `pid`, `ppid`, `login_uid` | integer or null           |                                      |
 * | `id`          | string                                 | eventKey `json:[host,id]`, else a hash |
 * | `sudo_denied` | boolean; `denial_reason` string        |                                      |
 * | `extra`       | object of strings                      |                                      |
 *
 * This is also the shape `vouch scan --json` prints, so its output can be fed back in; its
 * `source_format` and `rule` fields are ignored. The command (`argv`, else `command`) and `host`
 * are required to be readable: a line without them is malformed (`bad_json`, with a message
 * naming the field). A missing or unreadable `time` becomes the time the line was read (see
 * readTime). Any other field of the wrong type is left out of the event, which is kept, and
 * the line is counted as `bad_field` naming it; so is an `argv` of the wrong type beside a readable
 * `command`.
 */
export function createJsonLinesParser(options: ParserOptions): LogParser {
  return createJsonLineParser(JSON_LINES_FORMAT, (record, ctx) => [recordToEvent(record, ctx, options)]);
}

function recordToEvent(record: JsonObject, ctx: JsonLineContext, options: ParserOptions): CommandEvent {
  const { damage } = ctx;
  const argv = readArgv(record, damage);
  const id = damage.string(record, 'id');
  const host = optionalString(record, 'host') ?? options.defaultHost;
  const { time, readable } = readTime(record, ctx);
  const event: CommandEvent = {
    time,
    host,
    user: damage.string(record, 'user'),
    loginUid: damage.integer(record, 'login_uid'),
    runAs: damage.string(record, 'run_as'),
    argv,
    command: commandLine(argv),
    exe: damage.string(record, 'exe'),
    cwd: damage.string(record, 'cwd'),
    pid: damage.processId(record, 'pid'),
    ppid: damage.processId(record, 'ppid'),
    sourceFormat: JSON_LINES_FORMAT,
    // A shipper's id is unique on its host, not across a fleet: the key names both (unambiguously).
    eventKey: id !== null && id !== '' ? `${JSON_LINES_FORMAT}:${JSON.stringify([host, id])}` : hashKey(JSON_LINES_FORMAT, ctx.line),
  };
  if (damage.read(() => optionalBoolean(record, 'sudo_denied')) === true) event.sudoDenied = true;
  const reason = damage.string(record, 'denial_reason');
  if (reason !== null) event.denialReason = reason;
  const success = damage.read(() => optionalBoolean(record, 'success'));
  if (success !== null) event.success = success;
  const extra = readExtra(record, damage);
  if (extra !== null) event.extra = extra;
  if (!readable) event.extra = { ...event.extra, time_unreadable: 'true' };
  return event;
}

function optionalBoolean(record: JsonObject, key: string): boolean | null {
  const value = record[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') throw new FieldError(`${key} must be a boolean`);
  return value;
}

/**
 * `time`: an ISO 8601 string, or epoch seconds, milliseconds, microseconds or nanoseconds (a number
 * or a string of digits, seconds with a fraction too). One that is missing or cannot be read
 * (`yesterday`, an offset of +99:99, a year past 9999) costs the event nothing but its time: the
 * time it was read stands in, `extra.time_unreadable` says so, and the line counts as `bad_field`.
 * A command is never dropped for how its shipper wrote a date.
 */
function readTime(record: JsonObject, ctx: JsonLineContext): { time: Date; readable: boolean } {
  const value = record.time;
  let time: Date | null = null;
  if (typeof value === 'string') time = EPOCH_TEXT.test(value) ? epochToDate(Number(value)) : parseIsoTime(value);
  else if (typeof value === 'number') time = epochToDate(value);
  if (time !== null) return { time, readable: true };
  ctx.damage.leftOut(value === undefined || value === null ? 'time is missing: the time it was read is used' : 'time must be an ISO 8601 string or epoch seconds/milliseconds: the time it was read is used');
  return { time: ctx.now, readable: false };
}

/** Epoch digits as text, seconds possibly with a fraction (`1700000000.123`). */
const EPOCH_TEXT = /^(\d{9,19}|\d{9,11}\.\d{1,9})$/;

/** `argv`, else `command` split on whitespace: whichever is readable; one of them is required. */
function readArgv(record: JsonObject, damage: FieldDamage): string[] {
  const argv = damage.read(() => stringArray(record, 'argv'));
  if (argv !== null && argv.length > 0) return argv;
  const command = damage.string(record, 'command');
  if (command === null) throw damage.required('argv or command is required');
  const words = splitWords(command);
  if (words.length === 0) throw damage.required('command is empty');
  return words;
}

function stringArray(record: JsonObject, key: string): string[] | null {
  const value = record[key];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every((a) => typeof a === 'string')) throw new FieldError(`${key} must be an array of strings`);
  return (value as string[]).map(wellFormed);
}

/** The `extra` object; a member that is not a string is left out, the others kept. */
function readExtra(record: JsonObject, damage: FieldDamage): Record<string, string> | null {
  const extra = record.extra;
  if (extra === undefined || extra === null) return null;
  if (!isJsonObject(extra)) {
    damage.leftOut('extra must be an object of strings');
    return null;
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra)) {
    if (typeof value === 'string') out[wellFormed(key)] = wellFormed(value);
    else damage.leftOut(`extra.${key} must be a string`);
  }
  return out;
}
