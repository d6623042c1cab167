import { commandLine, type CommandEvent } from '../command-event.js';
import type { LogParser, ParserOptions } from '../parser.js';
import { createJsonLineParser, type JsonLineContext } from './json-line-parser.js';
import {
  FieldError,
  epochToDate,
  hashKey,
  isJsonObject,
  optionalInteger,
  optionalString,
  parseIsoTime,
  splitWords,
  wellFormed,
  type JsonObject,
} from './parse-support.js';

export const JSON_LINES_FORMAT = 'json';

/**
 * Parses Vouch's own normalized schema, for any source without a dedicated parser: one JSON object
 * per line with
 *
 * | field         | type                                   | meaning                              |
 * |---------------|----------------------------------------|--------------------------------------|
 * | `time`        | ISO 8601 string, or epoch s/ms         | required                             |
 * | `host`        | string                                 | default `options.defaultHost`        |
 * | `user`        | string or null                         | the login user (not root)            |
 * | `run_as`      | string or null                         | account the command ran as           |
 * | `argv`        | array of strings                       | preferred over `command`             |
 * | `command`     | string                                 | split on whitespace without `argv`   |
 * | `cwd`, `exe`  | string or null                         |                                      |
 * | `pid`, `ppid`, `login_uid` | integer or null           |                                      |
 * | `id`          | string                                 | eventKey `json:<id>`, else a hash    |
 * | `sudo_denied` | boolean; `denial_reason` string        |                                      |
 * | `extra`       | object of strings                      |                                      |
 *
 * This is also the shape `vouch scan --json` prints, so its output can be fed back in; its
 * `source_format` and `rule` fields are ignored. A field of the wrong type makes the line
 * malformed (`bad_json`, with a message naming the field).
 */
export function createJsonLinesParser(options: ParserOptions): LogParser {
  return createJsonLineParser(JSON_LINES_FORMAT, (record, ctx) => [recordToEvent(record, ctx, options)]);
}

function recordToEvent(record: JsonObject, ctx: JsonLineContext, options: ParserOptions): CommandEvent {
  const argv = readArgv(record);
  const id = optionalString(record, 'id');
  const event: CommandEvent = {
    time: readTime(record),
    host: optionalString(record, 'host') ?? options.defaultHost,
    user: optionalString(record, 'user'),
    loginUid: optionalInteger(record, 'login_uid'),
    runAs: optionalString(record, 'run_as'),
    argv,
    command: commandLine(argv),
    exe: optionalString(record, 'exe'),
    cwd: optionalString(record, 'cwd'),
    pid: optionalInteger(record, 'pid'),
    ppid: optionalInteger(record, 'ppid'),
    sourceFormat: JSON_LINES_FORMAT,
    eventKey: id !== null && id !== '' ? `${JSON_LINES_FORMAT}:${id}` : hashKey(JSON_LINES_FORMAT, ctx.line),
  };
  const denied = record.sudo_denied;
  if (denied !== undefined && denied !== null) {
    if (typeof denied !== 'boolean') throw new FieldError('sudo_denied must be a boolean');
    if (denied) event.sudoDenied = true;
  }
  const reason = optionalString(record, 'denial_reason');
  if (reason !== null) event.denialReason = reason;
  const success = record.success;
  if (success !== undefined && success !== null) {
    if (typeof success !== 'boolean') throw new FieldError('success must be a boolean');
    event.success = success;
  }
  const extra = readExtra(record);
  if (extra !== null) event.extra = extra;
  return event;
}

function readTime(record: JsonObject): Date {
  const value = record.time;
  let time: Date | null = null;
  if (typeof value === 'string') time = /^\d{9,19}$/.test(value) ? epochToDate(Number(value)) : parseIsoTime(value);
  else if (typeof value === 'number') time = epochToDate(value);
  else if (value === undefined || value === null) throw new FieldError('time is required');
  if (time === null) throw new FieldError('time must be an ISO 8601 string or epoch seconds/milliseconds');
  return time;
}

function readArgv(record: JsonObject): string[] {
  const argv = record.argv;
  if (argv !== undefined && argv !== null) {
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
      throw new FieldError('argv must be an array of strings');
    }
    if (argv.length > 0) return (argv as string[]).map(wellFormed);
  }
  const command = optionalString(record, 'command');
  if (command === null) throw new FieldError('argv or command is required');
  const words = splitWords(command);
  if (words.length === 0) throw new FieldError('command is empty');
  return words;
}

function readExtra(record: JsonObject): Record<string, string> | null {
  const extra = record.extra;
  if (extra === undefined || extra === null) return null;
  if (!isJsonObject(extra)) throw new FieldError('extra must be an object of strings');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra)) {
    if (typeof value !== 'string') throw new FieldError(`extra.${key} must be a string`);
    out[wellFormed(key)] = wellFormed(value);
  }
  return out;
}
