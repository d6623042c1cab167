import type { HealthKind } from '../chat/quiet-views.js';
import { parseSyslogHeader } from '../sources/parsers/syslog-header.js';
import type { PipelineRecord } from './pipeline-record.js';

/** A problem seen, or a recovery, on one host; stored by recordHealthSignals in the ingest transaction. */
export interface HealthSignal {
  host: string;
  kind: HealthKind;
  state: 'problem' | 'recovered';
  /** A sentence naming what was seen; may quote (bounded) log text. */
  detail: string;
}

/** Longest log text quoted in a signal's detail. */
const MAX_QUOTE = 300;

/**
 * Turns the pipeline records of one source into health signals. Keeps, per host, the last
 * sequence number of a numbered stream (go-audit), so a jump is a gap; a number going back is a
 * restart of the shipper (or a reboot) and starts over.
 */
export class PipelineWatch {
  private readonly sequences = new Map<string, number>();
  private pending: HealthSignal[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** ParserOptions.onPipelineRecord. */
  readonly observe = (record: PipelineRecord): void => {
    const signal = this.signalOf(record);
    if (signal) this.pending.push(signal);
  };

  /** The signals seen since the last drain, in order. */
  drain(): HealthSignal[] {
    const signals = this.pending;
    this.pending = [];
    return signals;
  }

  private signalOf(record: PipelineRecord): HealthSignal | null {
    switch (record.kind) {
      case 'audit_record':
        return auditRecordSignal(record.host, record.type, record.body, record.time);
      case 'kernel_message':
        return kernelMessageSignal(record.host, record.text, this.now());
      case 'sequence':
        return this.sequenceSignal(record.host, record.sequence, record.time);
    }
  }

  private sequenceSignal(host: string, sequence: number, time: Date): HealthSignal | null {
    const last = this.sequences.get(host);
    // Bounded: a forged stream naming a million hosts must not grow this forever.
    if (last === undefined && this.sequences.size >= 10_000) this.sequences.clear();
    this.sequences.set(host, sequence);
    if (last === undefined || sequence <= last + 1) return null;
    const missing = sequence - last - 1;
    return {
      host,
      kind: 'sequence_gap',
      state: 'problem',
      detail: `the audit stream jumped from sequence ${last} to ${sequence} at ${time.toISOString()}: ${missing} record${missing === 1 ? '' : 's'} never arrived`,
    };
  }
}

/** What an auditd DAEMON_* or CONFIG_CHANGE record says about the pipeline, if anything. */
export function auditRecordSignal(host: string, type: string, body: string, time: Date): HealthSignal | null {
  const quote = `${type} at ${time.toISOString()}: ${body.slice(0, MAX_QUOTE)}`;
  const problem = (kind: HealthKind, what: string): HealthSignal => ({ host, kind, state: 'problem', detail: `${what} (${quote})` });
  const recovered = (kind: HealthKind, what: string): HealthSignal => ({ host, kind, state: 'recovered', detail: `${what} (${quote})` });
  if (type === 'DAEMON_END' || type === 'DAEMON_ABORT') return problem('auditd_stopped', type === 'DAEMON_END' ? 'auditd stopped' : 'auditd aborted');
  if (type === 'DAEMON_START') return recovered('auditd_stopped', 'auditd started');
  if (type !== 'CONFIG_CHANGE' || /(^|\s)res=(0|no|failed)(\s|$)/.test(body)) return null;
  const fields = configFields(body);
  const lost = Number(fields.get('lost') ?? '0');
  if (Number.isFinite(lost) && lost > 0) return problem('events_lost', `the kernel reports ${lost} lost audit events`);
  const enabled = fields.get('audit_enabled');
  if (enabled === '0') return problem('audit_disabled', 'kernel auditing was disabled (audit_enabled=0)');
  if (enabled === '1' || enabled === '2') return recovered('audit_disabled', `kernel auditing was enabled (audit_enabled=${enabled})`);
  const op = (fields.get('op') ?? '').replace(/"/g, '').replace(/ /g, '_');
  if (op === 'remove_rule') return problem('audit_rules_removed', 'an audit rule was deleted');
  if (op === 'add_rule') return recovered('audit_rules_removed', 'an audit rule was added');
  return null;
}

/** A kernel line reporting lost audit events; the host is the syslog line's own, when it has one. */
export function kernelMessageSignal(defaultHost: string, text: string, now: Date): HealthSignal {
  const host = parseSyslogHeader(text, now)?.host ?? defaultHost;
  const start = text.indexOf('audit: ');
  return { host, kind: 'events_lost', state: 'problem', detail: `the kernel dropped audit events: ${text.slice(start, start + MAX_QUOTE)}` };
}

/** `key=value` pairs of a CONFIG_CHANGE body; `op="remove rule"` (older kernels) keeps its quotes. */
function configFields(body: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const match of body.slice(0, 4000).matchAll(/([a-z_]+)=("[^"]*"|\S*)/g)) fields.set(match[1] as string, match[2] as string);
  return fields;
}
