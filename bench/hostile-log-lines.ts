/**
 * Decoding and rule matching on hostile text: the same adversarial families as the redaction and
 * escaping paths (hostile-text.ts), wrapped in the log lines that carry them, fed through the
 * parsers' one byte-block input path, and matched against the default rule pack.
 */
import { loadDefaultRules } from '../src/detect/load-rules.js';
import type { CompiledRuleSet } from '../src/detect/compile-rules.js';
import type { CommandEvent } from '../src/sources/command-event.js';
import { lineBlock } from '../src/sources/line-block.js';
import { appendOutput, emptyOutput, parseBlock, type ParseOutput } from '../src/sources/parser.js';
import { createParser } from '../src/sources/parsers/index.js';

/** auditd's own limit on one EXECVE field: longer arguments are split into `aN[i]` chunks. */
const AUDIT_CHUNK_HEX = 7000;
const NOW = new Date('2026-11-24T15:00:00Z');

/** Parses whole lines with a fresh parser of `format`, through blocks, and flushes it. */
export function parseLines(format: string, text: string): ParseOutput {
  const parser = createParser(format, { defaultHost: 'bench' });
  const bytes = Buffer.from(text);
  const out = emptyOutput();
  parseBlock(parser, lineBlock(bytes, 0, bytes.length, 0), NOW, out);
  appendOutput(out, parser.flush());
  return out;
}

/** An execve whose second argument is `text`, hex-encoded and cut into chunks as auditd does. */
export function auditdExecLines(text: string): string {
  const hex = Buffer.from(text).toString('hex').toUpperCase();
  const head = 'type=SYSCALL msg=audit(1795530208.100:77): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="sh" exe="/bin/sh" key=(null)\n';
  const lines = [head, `type=EXECVE msg=audit(1795530208.100:77): argc=3 a0="sh" a1="-c" a2_len=${hex.length}\n`];
  for (let at = 0, i = 0; at < hex.length; at += AUDIT_CHUNK_HEX, i++) {
    lines.push(`type=EXECVE msg=audit(1795530208.100:77): a2[${i}]=${hex.slice(at, at + AUDIT_CHUNK_HEX)}\n`);
  }
  lines.push('type=EOE msg=audit(1795530208.100:77): \n');
  return lines.join('');
}

/** A sudo syslog line whose command is `text` (newlines become spaces: one line). */
export function sudoSyslogLine(text: string): string {
  return `Nov 24 15:00:00 web-1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh -c ${text.replace(/\n/g, ' ')}\n`;
}

/** A JSON-lines event whose argv carries `text`. */
export function jsonLinesLine(text: string): string {
  return `${JSON.stringify({ time: '2026-11-24T15:00:00Z', host: 'web-1', user: 'alice', argv: ['sh', '-c', text] })}\n`;
}

let rules: CompiledRuleSet | null = null;

export function matchCommand(text: string): unknown {
  rules ??= loadDefaultRules();
  const argv = ['sh', '-c', text];
  const event: CommandEvent = {
    time: NOW,
    host: 'web-1',
    user: 'alice',
    loginUid: 1000,
    runAs: 'root',
    argv,
    command: argv.join(' '),
    exe: '/bin/sh',
    cwd: '/home/alice',
    pid: 2,
    ppid: 1,
    sourceFormat: 'auditd',
    eventKey: 'bench',
  };
  return rules.match(event);
}

/** Decoding and matching targets, in the shape of hostile-text.ts's HostileTarget. */
export const LOG_LINE_TARGETS: ReadonlyArray<{ name: string; run: (text: string) => unknown }> = [
  { name: 'auditd: hex argument in chunks', run: (text) => parseLines('auditd', auditdExecLines(text)) },
  { name: 'sudo syslog: COMMAND=', run: (text) => parseLines('sudo', sudoSyslogLine(text)) },
  { name: 'json lines: argv', run: (text) => parseLines('json', jsonLinesLine(text)) },
  { name: 'rules: default pack', run: matchCommand },
];
