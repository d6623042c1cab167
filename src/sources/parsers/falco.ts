import { commandLine, type CommandEvent } from '../command-event.js';
import type { LogParser, ParserOptions } from '../parser.js';
import { createJsonLineParser } from './json-line-parser.js';
import {
  FieldError,
  epochToDate,
  hashKey,
  isJsonObject,
  isUnsetUid,
  nameUid,
  optionalString,
  parseIsoTime,
  processId,
  splitMayBlur,
  splitWords,
  toInteger,
  wellFormed,
  type FieldDamage,
  type JsonObject,
} from './parse-support.js';

export const FALCO_FORMAT = 'falco';

/**
 * Parses Falco alerts in JSON (`json_output: true`, one object per line), and the identical
 * payload falcosidekick POSTs to a webhook (one object per request): `time` (RFC 3339 with
 * nanoseconds), `rule`, `priority`, `source`, `hostname`, `output`, `tags[]`, `output_fields{}`.
 *
 * Only alerts about a process (with `proc.cmdline` or `proc.name`) become events; others (k8s
 * audit, cloud sources) are skipped silently. argv is `proc.cmdline` split on spaces (Falco
 * writes `name args...`, so such an event carries `argv_inexact`), `cwd` is `proc.cwd` without
 * the slash Falco ends it with, `user` is `user.loginname` when set, else the `user.loginuid` named
 * through `options.resolveUid`, null when the login uid is unset; `runAs` is `user.name`; `exe`
 * `proc.exepath` or `proc.exe`. The rule, priority, source, tags and container id are kept in
 * `extra` (`falco_rule`, `falco_priority`, ...). `eventKey` hashes time, host, rule and pid.
 * The rule, the command (`proc.cmdline` or `proc.name`), the time and the host must be readable;
 * any other field of the wrong type is left out and the line counted as `bad_field`.
 */
export function createFalcoParser(options: ParserOptions): LogParser {
  return createJsonLineParser(FALCO_FORMAT, (alert, ctx) => alertToEvents(alert, ctx.damage, options));
}

function alertToEvents(alert: JsonObject, damage: FieldDamage, options: ParserOptions): CommandEvent[] {
  const fields = alert.output_fields;
  if (!isJsonObject(fields)) throw new FieldError('output_fields must be an object');
  const rule = optionalString(alert, 'rule');
  if (rule === null) throw new FieldError('rule is required');
  const before = damage.count;
  const cmdline = damage.read(() => field(fields, 'proc.cmdline'));
  const name = damage.read(() => field(fields, 'proc.name'));
  if (cmdline === null && name === null) {
    // Not a process alert, unless its command was there and unreadable: that one is never skipped quietly.
    if (damage.count > before) throw damage.required('proc.cmdline or proc.name is required');
    return [];
  }
  const argv = cmdline !== null ? splitWords(cmdline) : [name!, ...splitWords(damage.read(() => field(fields, 'proc.args')) ?? '')];
  const host = optionalString(alert, 'hostname') ?? options.defaultHost;
  const timeText = optionalString(alert, 'time');
  const pid = damage.read(() => processId(integerField(fields, 'proc.pid'), 'output_fields.proc.pid'));
  const loginUid = damage.read(() => integerField(fields, 'user.loginuid'));
  const loginName = damage.read(() => field(fields, 'user.loginname'));
  const optional = (key: string) => damage.read(() => field(fields, key));
  return [
    {
      time: alertTime(timeText, fields),
      host,
      user: loginName ?? nameUid(loginUid, host, options),
      loginUid: loginUid === null || isUnsetUid(loginUid) ? null : loginUid,
      runAs: optional('user.name'),
      argv,
      command: commandLine(argv),
      exe: optional('proc.exepath') ?? optional('proc.exe'),
      cwd: withoutTrailingSlash(optional('proc.cwd')),
      pid,
      ppid: damage.read(() => processId(integerField(fields, 'proc.ppid'), 'output_fields.proc.ppid')),
      sourceFormat: FALCO_FORMAT,
      eventKey: hashKey(FALCO_FORMAT, `${timeText ?? ''}\u0000${host}\u0000${rule}\u0000${pid ?? ''}`),
      // Falco joins the arguments with spaces: an argument holding one cannot be told apart.
      extra: { ...alertExtra(alert, fields, rule, damage), ...(cmdline !== null && splitMayBlur(cmdline) ? { argv_inexact: 'true' } : {}) },
    },
  ];
}

/** Falco writes `proc.cwd` with a slash at the end (`/home/alice/`); every other source does not. */
function withoutTrailingSlash(cwd: string | null): string | null {
  return cwd !== null && cwd.length > 1 && cwd.endsWith('/') ? cwd.slice(0, -1) : cwd;
}


/** A field's value as text; null when absent, empty, or Falco's `<NA>`. */
function field(fields: JsonObject, key: string): string | null {
  const value = fields[key];
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') throw new FieldError(`output_fields.${key} must be a string or number`);
  return value === '' || value === '<NA>' ? null : wellFormed(value);
}

function integerField(fields: JsonObject, key: string): number | null {
  const text = field(fields, key);
  if (text === null) return null;
  const n = toInteger(text);
  if (n === null) throw new FieldError(`output_fields.${key} must be an integer`);
  return n;
}

function alertTime(timeText: string | null, fields: JsonObject): Date {
  if (timeText !== null) {
    const time = parseIsoTime(timeText);
    if (time === null) throw new FieldError('time must be an RFC 3339 timestamp');
    return time;
  }
  const evtTime = fields['evt.time'];
  const time = typeof evtTime === 'number' ? epochToDate(evtTime) : null;
  if (time === null) throw new FieldError('time is required');
  return time;
}

function alertExtra(alert: JsonObject, fields: JsonObject, rule: string, damage: FieldDamage): Record<string, string> {
  const extra: Record<string, string> = { falco_rule: rule };
  const priority = damage.string(alert, 'priority');
  if (priority !== null) extra.falco_priority = priority;
  const source = damage.string(alert, 'source');
  if (source !== null) extra.falco_source = source;
  const tags = alert.tags;
  if (Array.isArray(tags) && tags.length > 0) {
    extra.falco_tags = tags.filter((t): t is string => typeof t === 'string').map(wellFormed).join(',');
  }
  const uuid = damage.string(alert, 'uuid');
  if (uuid !== null) extra.falco_uuid = uuid;
  for (const [key, name] of [
    ['container.id', 'container_id'],
    ['container.name', 'container_name'],
    ['container.image.repository', 'container_image'],
    ['k8s.ns.name', 'k8s_namespace'],
    ['k8s.pod.name', 'k8s_pod'],
    ['proc.tty', 'tty'],
  ] as const) {
    const value = damage.read(() => field(fields, key));
    if (value !== null) extra[name] = value;
  }
  return extra;
}
