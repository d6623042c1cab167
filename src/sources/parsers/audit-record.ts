/**
 * Low-level Linux audit record parsing shared by the auditd, go-audit and laurel parsers, gathered
 * from its parts: header scanning (record-header.ts), field decoding (decode-field.ts), the exec
 * verdict (exec-verdict.ts), argument assembly (execve-args.ts), the event builder
 * (audit-event-builder.ts), uid naming (uid-namer.ts) and sudo correlation (parse-user-cmd.ts,
 * sudo-correlator.ts). Import from the part; this index keeps one import path for them all.
 */
export * from './record-header.js';
export * from './decode-field.js';
export * from './exec-verdict.js';
export * from './execve-args.js';
export * from './uid-namer.js';
export * from './audit-event-builder.js';
export * from './parse-user-cmd.js';
export * from './sudo-correlator.js';
