/**
 * The go-audit parser: one JSON object per event, as written by slackhq/go-audit.
 *
 * ```json
 * {"sequence":59,"timestamp":"1492037291.036","messages":[{"type":1300,"data":"arch=c000003e syscall=59 ..."},
 *  {"type":1309,"data":"argc=2 a0=\"cat\" a1=\"x\""}],"uid_map":{"1000":"alice"}}
 * ```
 * `data` is the raw record text after the `audit(...): ` header, still hex-encoded, so the records
 * go through the same code as auditd's. go-audit writes the numeric record type; names are
 * accepted too.
 */
import type { LogParser, ParseOutput, ParserOptions } from '../parser.js';
import { emptyOutput } from '../parser.js';
import { FieldDamage, asJsonObject, malformed } from './parse-support.js';
import { AuditEventBuilder } from './audit-event-builder.js';
import { parseUserCmd } from './parse-user-cmd.js';
import { ENRICHED_SEPARATOR, parseAuditId } from './record-header.js';
import { parseSyslogHeader } from './syslog-header.js';
import { SudoCorrelator } from './sudo-correlator.js';
import { uidNamer, type UidNamer } from './uid-namer.js';
import { DEFAULT_EVENT_TIMEOUT_MS, DEFAULT_MAX_PENDING_EVENTS } from './auditd.js';
import { DEFAULT_MAX_RECORD_GAP, LogClock } from './log-clock.js';

/** Numeric audit record types (linux/audit.h) go-audit writes, for the types a command needs. */
const RECORD_TYPES: Record<number, string> = {
  1123: 'USER_CMD',
  1300: 'SYSCALL',
  1302: 'PATH',
  1307: 'CWD',
  1309: 'EXECVE',
  1320: 'EOE',
  1327: 'PROCTITLE',
};


/**
 * Creates a parser for go-audit JSON lines (format `go-audit`), written to a file or through
 * syslog (`DATE HOST go-audit[PID]: {...}`, attributed `syslog-unverified`, since any local user
 * can write that). Users are named from the line's `uid_map`, then `options.resolveUid`, then the
 * number. The host is the object's `hostname` when present, else the syslog line's host, else
 * `options.defaultHost`. `eventKey` is `host:timestamp:sequence`, the same key the
 * auditd parser gives the event (the timestamp keeps it unique across reboots, which reset the
 * sequence). sudo USER_CMD groups are tied to their execve as in the auditd parser, so
 * lowWaterMark() reports USER_CMD lines still waiting; one waits until it goes stale in the log
 * (a line is a record of the LogClock, the group's timestamp its time), never by the `now` given
 * to push(), so a backlog read slowly gives the same events. Never throws.
 */
export function createGoAuditParser(options: ParserOptions): LogParser {
  const clock = new LogClock(DEFAULT_MAX_RECORD_GAP, Math.max(0, options.eventTimeoutMs ?? DEFAULT_EVENT_TIMEOUT_MS));
  const sudo = new SudoCorrelator(DEFAULT_MAX_PENDING_EVENTS);
  const format = 'go-audit';

  function parseLine(line: string, offset: number, now: Date, out: ParseOutput): void {
    if (line.trim() === '') return;
    // go-audit's syslog output: `DATE HOST go-audit[PID]: {...}`. Any local user can write such a
    // line (`logger -t go-audit '{...}'`), so its events are only syslog's word.
    const syslog = line.trimStart().startsWith('{') ? null : parseSyslogHeader(line, now);
    if (syslog !== null && !syslog.message.startsWith('{')) {
      out.malformed.push(malformed('unrecognized', line, offset, 'a syslog line without go-audit JSON'));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(syslog?.message ?? line);
    } catch {
      out.malformed.push(malformed('bad_json', line, offset));
      return;
    }
    const group = asJsonObject(value);
    const messages = group?.messages;
    const timestamp = group?.timestamp;
    const sequence = group?.sequence;
    const id = `${String(timestamp)}:${String(sequence)}`;
    const parsed = parseAuditId(id);
    if (!group || !Array.isArray(messages) || !parsed) {
      out.malformed.push(malformed('unrecognized', line, offset));
      return;
    }
    clock.observe(parsed.time.getTime());
    const host = typeof group.hostname === 'string' && group.hostname !== '' ? group.hostname : (syslog?.host ?? options.defaultHost);
    // A hostname that is there but not a name: the event is kept under the source's host, and the damage counted.
    const damage = new FieldDamage();
    if (group.hostname !== undefined && group.hostname !== null && typeof group.hostname !== 'string') damage.leftOut('hostname must be a string; the source host was used');
    if (options.onPipelineRecord !== undefined && typeof sequence === 'number') options.onPipelineRecord({ kind: 'sequence', host, time: parsed.time, sequence });
    const names = withUidMap(uidNamer(host, options.resolveUid), asJsonObject(group.uid_map));
    const ctx = { host, id, time: parsed.time, sourceFormat: format, names };
    const builder = new AuditEventBuilder();
    for (const message of messages) {
      const m = asJsonObject(message);
      if (options.onPipelineRecord !== undefined && isConfigChange(m?.type) && typeof m?.data === 'string') {
        options.onPipelineRecord({ kind: 'audit_record', host, time: parsed.time, type: 'CONFIG_CHANGE', body: stripHeader(m.data) });
        continue;
      }
      const type = recordType(m?.type);
      if (!m || type === null) continue;
      if (typeof m.data !== 'string') {
        damage.leftOut(`a ${type} message without its data`);
        continue;
      }
      const data = stripHeader(m.data);
      const sep = data.indexOf(ENRICHED_SEPARATOR);
      const rawEnd = sep < 0 ? data.length : sep;
      if (type === 'USER_CMD') {
        const record = parseUserCmd(data, 0, rawEnd);
        if (typeof record === 'string') out.malformed.push(malformed(record, line, offset));
        else for (const event of sudo.add(record, { ...ctx, offset, at: clock.mark(), ...(syslog === null ? {} : { attribution: 'syslog-unverified' as const }) })) out.events.push(event);
        continue;
      }
      const problem = builder.addRecord(type, data, 0, rawEnd);
      if (problem) out.malformed.push(malformed(problem.reason, line, offset, problem.detail));
    }
    const event = builder.build(ctx);
    if (event) {
      if (syslog !== null) event.attribution = 'syslog-unverified';
      sudo.claim(event, ctx);
      out.events.push(event);
      const report = damage.report(line, offset);
      if (report) out.malformed.push(report);
    }
  }

  return {
    format,
    push(line, offset, now) {
      const out = emptyOutput();
      try {
        clock.tick();
        for (const event of sudo.expire(clock)) out.events.push(event);
        parseLine(line, offset, now, out);
      } catch {
        out.malformed.push(malformed('unrecognized', line, offset));
      }
      return out;
    },
    flush() {
      return { events: sudo.flush(), malformed: [] };
    },
    lowWaterMark() {
      return sudo.lowWaterMark();
    },
  };
}

/** Names from go-audit's `uid_map` come before the resolver. */
function withUidMap(names: UidNamer, uidMap: Record<string, unknown> | null): UidNamer {
  return (uid, logName) => {
    const mapped = uidMap?.[String(uid)];
    return names(uid, logName ?? (typeof mapped === 'string' ? mapped : undefined));
  };
}

/** The kernel's CONFIG_CHANGE (1305), which go-audit relays like any record: for the health watch. */
function isConfigChange(type: unknown): boolean {
  return type === 1305 || type === 'CONFIG_CHANGE';
}

function recordType(type: unknown): string | null {
  if (typeof type === 'number') return RECORD_TYPES[type] ?? null;
  return typeof type === 'string' ? type : null;
}

/** Some go-audit builds keep the `audit(...): ` header in `data`; drop it. */
function stripHeader(data: string): string {
  if (!data.startsWith('audit(')) return data;
  const close = data.indexOf('): ');
  return close < 0 ? data : data.slice(close + 3);
}


