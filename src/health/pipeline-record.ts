/**
 * What a parser hands to the pipeline-health watch besides commands: the records about the audit
 * pipeline itself. Parsers only recognise and pass them on (see ParserOptions.onPipelineRecord);
 * what they mean is decided in src/health/.
 */
export type PipelineRecord =
  /** An auditd record about the daemon or the kernel's configuration (DAEMON_*, CONFIG_CHANGE). */
  | { kind: 'audit_record'; host: string; time: Date; type: string; body: string }
  /** A kernel log line about the audit subsystem (`audit: audit_lost=…`, `audit: backlog limit exceeded`). */
  | { kind: 'kernel_message'; host: string; text: string }
  /** An event's place in a shipper's numbered stream (go-audit `sequence`). */
  | { kind: 'sequence'; host: string; time: Date; sequence: number };

/** Record types the auditd parser passes on (everything else it skips without reading). */
export const PIPELINE_RECORD_TYPES: ReadonlySet<string> = new Set(['DAEMON_START', 'DAEMON_END', 'DAEMON_ABORT', 'CONFIG_CHANGE']);

/**
 * Whether `bytes[start, end)` (a record's type) is one of PIPELINE_RECORD_TYPES: decided by the
 * length and first byte, so the records of a busy log pay two comparisons.
 */
export function isPipelineTypeAt(bytes: Buffer, start: number, end: number): boolean {
  const length = end - start;
  const first = bytes[start];
  if (!((length === 10 || length === 12) && first === 68) /* D */ && !(length === 13 && first === 67) /* C */) return false;
  return PIPELINE_RECORD_TYPES.has(bytes.toString('latin1', start, end));
}

/** isPipelineTypeAt for a record already decoded to a string. */
export function isPipelineType(line: string, start: number, end: number): boolean {
  const length = end - start;
  return (length === 10 || length === 12 || length === 13) && PIPELINE_RECORD_TYPES.has(line.slice(start, end));
}

/** Kernel messages about lost audit events, as printk writes them (kern.log, journald, dmesg). */
const KERNEL_AUDIT_LOSS = /\baudit: (audit_lost=\d+|backlog limit exceeded|rate limit exceeded|audit_backlog=\d+ > audit_backlog_limit=\d+)/;

/** Whether a line that is not an audit record is the kernel reporting lost audit events. */
export function isKernelAuditMessage(line: string): boolean {
  // Bounded: kernel lines are short, and a hostile 4 MiB line must not cost a regex pass.
  return line.length < 2000 && line.includes('audit: ') && KERNEL_AUDIT_LOSS.test(line);
}
