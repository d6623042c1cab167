import type { Attribution, Provenance } from './provenance.js';

/**
 * The one shape every log format is parsed into. Everything downstream (rules, alerts, reports)
 * sees only this, never a format's own records.
 */
export interface CommandEvent {
  /** When the command ran. */
  time: Date;
  /** The machine it ran on (auditd `node=`, syslog host, shipper hostname). */
  host: string;
  /**
   * The human behind the command: the login user (auditd auid, sudo's invoking user), not root.
   * Null when the actor is a system process (auid unset).
   */
  user: string | null;
  /** Numeric login uid when the log gives one (auid); null if unset or unknown. */
  loginUid: number | null;
  /** The account the command ran as (euid name, sudo's USER=). */
  runAs: string | null;
  /** The full argument vector, decoded (hex and split arguments joined). */
  argv: string[];
  /** argv joined with single spaces, for display and regex matching. */
  command: string;
  /** The executable path, when the log has it. */
  exe: string | null;
  cwd: string | null;
  pid: number | null;
  ppid: number | null;
  /** The parser that produced the event: auditd, sudo, go-audit, laurel, osquery, falco, json. */
  sourceFormat: string;
  /**
   * A key that is the same every time the same event is read again (auditd `node:serial`, a hash
   * of the record otherwise). Ingestion stores it unique per source, so re-reading after a crash
   * never creates a second event.
   */
  eventKey: string;
  /** True when sudo refused to run the command (a denial is suspicious in itself). */
  sudoDenied?: boolean;
  /** sudo's reason for a denial, e.g. "user NOT in sudoers". */
  denialReason?: string;
  /** Whether the syscall succeeded, when the log says so. */
  success?: boolean;
  /** Format-specific extras worth keeping (Falco rule, terminal, session...). */
  extra?: Record<string, string>;
  /**
   * How the parser attributed the event, when its format alone does not say (an auditd USER_CMD
   * is `audit-userspace`, not `kernel`; sudo JSON over syslog is `syslog-unverified`). Absent: the
   * format's own attribution (see attributionOf in provenance.ts).
   */
  attribution?: Attribution;
  /**
   * Where the event came from and whether a local user could have forged it; set by the path that
   * read it (HTTP ingest sets transport and host binding). Absent: read from a file, see
   * provenanceOf().
   */
  provenance?: Provenance;
}

/** Joins argv for display; arguments are not quoted, so this is never fed to a shell. */
export function commandLine(argv: readonly string[]): string {
  return argv.join(' ');
}
