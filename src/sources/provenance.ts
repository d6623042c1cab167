import type { CommandEvent } from './command-event.js';

/**
 * How an event's user was attributed, from the strongest evidence to the weakest. The words are
 * stored, reported and shown to reviewers: add new ones, never rename.
 *
 * - `kernel`: an execve record written by the kernel's audit subsystem (auditd SYSCALL/EXECVE, and
 *   go-audit and laurel, which relay the same records). The user is the login uid (auid) the kernel
 *   keeps per session; no local user can write or change such a record.
 * - `audit-userspace`: a record sudo wrote through the audit socket (auditd USER_CMD). Writing one
 *   needs CAP_AUDIT_WRITE, and the kernel itself adds the pid, uid and auid.
 * - `journal-trusted`: a sudo message in the systemd journal whose trusted fields (`_COMM`/`_EXE`,
 *   `_UID`, added by journald from the sender's credentials, not from the message) say sudo,
 *   running as root, sent it.
 * - `syslog-unverified`: sudo's syslog text. Anyone on the machine can write it
 *   (`logger -t sudo "alice : ... COMMAND=..."`); the user named in it is only a claim.
 * - `shipper`: a record of a log agent (osquery, Falco, JSON lines, sudo's own JSON or text log
 *   file): as trustworthy as the program that wrote it and the path it took.
 */
export const ATTRIBUTIONS = ['kernel', 'audit-userspace', 'journal-trusted', 'syslog-unverified', 'shipper'] as const;
export type Attribution = (typeof ATTRIBUTIONS)[number];

/** How the event reached Vouch: a file it follows, or `POST /ingest`. */
export type Transport = 'file' | 'http';

/**
 * Whether the host an HTTP event claims was checked: `bound` when its source lists the hosts it
 * may speak for (`sources[].hosts`) and the host is one of them, `unbound` when the source has no
 * such list (its token may speak for any host). Null for files, whose host is the log's own word.
 */
export type HostBinding = 'bound' | 'unbound';

/** Where an event came from and how far its attribution can be trusted. */
export interface Provenance {
  /** The parser format that read it (CommandEvent.sourceFormat). */
  format: string;
  attribution: Attribution;
  /** True when an unprivileged local user could have written this record in someone else's name. */
  forgeable: boolean;
  /** Null for events stored before transports were recorded. */
  transport: Transport | null;
  hostBinding: HostBinding | null;
}

/** Attribution by parser format, for events whose parser did not set one itself. */
const ATTRIBUTION_BY_FORMAT: Readonly<Record<string, Attribution>> = {
  auditd: 'kernel',
  'go-audit': 'kernel',
  laurel: 'kernel',
  'sudo-journald': 'journal-trusted',
  sudo: 'syslog-unverified',
  'sudo-json': 'shipper',
  osquery: 'shipper',
  falco: 'shipper',
  json: 'shipper',
};

/** Attributions a local user can produce without any privilege. */
const FORGEABLE: ReadonlySet<Attribution> = new Set(['syslog-unverified']);

/**
 * The attribution of a parsed event: the parser's own word when it gave one (auditd USER_CMD,
 * sudo JSON over syslog), else the one its format implies. An unknown format is a `shipper`.
 */
export function attributionOf(event: Pick<CommandEvent, 'sourceFormat' | 'attribution'>): Attribution {
  return event.attribution ?? ATTRIBUTION_BY_FORMAT[event.sourceFormat] ?? 'shipper';
}

/** Whether a local user without privileges could have written a record of this attribution. */
export function isForgeable(attribution: Attribution): boolean {
  return FORGEABLE.has(attribution);
}

/**
 * The provenance of an event: the one set when it was read, else that of an event read from a
 * file (the file tailer and `scan` do not set it).
 */
export function provenanceOf(event: CommandEvent): Provenance {
  if (event.provenance) return event.provenance;
  return buildProvenance(event, 'file', null);
}

/** Provenance for an event read over `transport`, with the host check it passed. */
export function buildProvenance(event: CommandEvent, transport: Transport, hostBinding: HostBinding | null): Provenance {
  const attribution = attributionOf(event);
  return { format: event.sourceFormat, attribution, forgeable: isForgeable(attribution), transport, hostBinding };
}

/**
 * How far an event's attribution can be trusted, in the terms that decide what may be grouped
 * with it: `forgeable` (any local user could have written it), `unbound` (an HTTP source that may
 * speak for any host), `attested` (everything else). Events of one level never join, repeat or get
 * covered by a conversation of another, so a forged line is never shown, or vouched for, under a
 * kernel record's provenance. Unknown provenance (alerts stored before it was recorded) is
 * `attested`, as those alerts were grouped before.
 */
export type TrustLevel = 'attested' | 'unbound' | 'forgeable';

export function trustLevelOf(provenance: Provenance | null): TrustLevel {
  if (provenance === null) return 'attested';
  if (provenance.forgeable) return 'forgeable';
  if (provenance.transport === 'http' && provenance.hostBinding !== 'bound') return 'unbound';
  return 'attested';
}

const FORMAT_LABELS: Readonly<Record<string, string>> = {
  auditd: 'auditd',
  'go-audit': 'go-audit',
  laurel: 'laurel',
  sudo: 'sudo syslog',
  'sudo-journald': 'sudo via journald',
  'sudo-json': 'sudo JSON log',
  osquery: 'osquery',
  falco: 'Falco',
  json: 'JSON lines',
};

const ATTRIBUTION_LABELS: Readonly<Record<Attribution, string>> = {
  kernel: 'kernel record',
  'audit-userspace': 'sudo audit record',
  'journal-trusted': 'journald trusted fields',
  'syslog-unverified': 'any local user can write this log',
  shipper: 'as trusted as its shipper',
};

/**
 * One line for people: "auditd (kernel record)", "sudo syslog — any local user can write this
 * log", with ", over HTTP" and the host check appended for HTTP events.
 */
export function describeProvenance(provenance: Provenance): string {
  const format = FORMAT_LABELS[provenance.format] ?? provenance.format;
  const what = ATTRIBUTION_LABELS[provenance.attribution];
  const base = provenance.forgeable ? `${format} — ${what}` : `${format} (${what})`;
  if (provenance.transport !== 'http') return base;
  const host = provenance.hostBinding === 'bound' ? 'host checked against its source' : 'host not bound to its source';
  return `${base}, over HTTP, ${host}`;
}

/** The stored form of a provenance (the `provenance` JSON of an alert, the report's field). */
export interface StoredProvenance {
  format: string;
  attribution: Attribution;
  forgeable: boolean;
  transport: Transport | null;
  host_binding: HostBinding | null;
}

export function toStoredProvenance(provenance: Provenance): StoredProvenance {
  return {
    format: provenance.format,
    attribution: provenance.attribution,
    forgeable: provenance.forgeable,
    transport: provenance.transport,
    host_binding: provenance.hostBinding,
  };
}

/** Reads a stored provenance back; null for rows written before provenance was recorded. */
export function fromStoredProvenance(stored: StoredProvenance | null | undefined): Provenance | null {
  if (!stored || !(ATTRIBUTIONS as readonly string[]).includes(stored.attribution)) return null;
  return {
    format: typeof stored.format === 'string' ? stored.format : 'unknown',
    attribution: stored.attribution,
    forgeable: stored.forgeable === true,
    transport: stored.transport === 'http' || stored.transport === 'file' ? stored.transport : null,
    hostBinding: stored.host_binding === 'bound' || stored.host_binding === 'unbound' ? stored.host_binding : null,
  };
}

/** The command_events columns that hold a provenance. */
export function provenanceColumns(provenance: Provenance): {
  attribution: Attribution;
  forgeable: boolean;
  transport: Transport | null;
  host_binding: HostBinding | null;
} {
  const { attribution, forgeable, transport, hostBinding } = provenance;
  return { attribution, forgeable, transport, host_binding: hostBinding };
}
