import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { lineBlock } from '../../../src/sources/line-block.js';
import { emptyOutput, parseBlock } from '../../../src/sources/parser.js';
import {
  PARSER_FORMATS,
  createAutoParser,
  createParser,
  detectFormat,
} from '../../../src/sources/parsers/index.js';
import { NOW, baseOptions, run } from './parser-harness.js';

const SAMPLES: Record<string, string[]> = {
  auditd: [
    'type=SYSCALL msg=audit(1795530208.123:4567): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=100 pid=101 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="id" exe="/usr/bin/id" key=(null)',
    'type=EXECVE msg=audit(1795530208.123:4567): argc=1 a0="id"',
  ],
  'auditd-node': ['node=web-1 type=EOE msg=audit(1795530208.123:4567): '],
  sudo: [
    'Nov 24 14:23:00 web-1 sshd[10]: Accepted publickey for alice',
    'Nov 24 14:23:28 web-1 sudo[4211]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id',
  ],
  'sudo-journald': [
    JSON.stringify({ __CURSOR: 'c1', __REALTIME_TIMESTAMP: '1795530208000000', SYSLOG_IDENTIFIER: 'sudo', MESSAGE: '   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls' }),
  ],
  'sudo-json': [JSON.stringify({ accept: { submituser: 'alice', runargv: ['ls'], submit_time: { seconds: 1795530208, nanoseconds: 0 } } })],
  'sudo-json-cee': ['Nov 24 14:23:28 web-1 sudo[1]: @cee:{"sudo":{"reject":{"submituser":"bob","runargv":["ls"],"reason":"user NOT in sudoers"}}}'],
  'sudo-json-file': ['{', '    "accept": {', '        "submituser": "alice",'],
  'go-audit': [JSON.stringify({ sequence: 4567, timestamp: '1795530208.123', messages: [{ type: 1309, data: 'argc=1 a0="id"' }], uid_map: { '0': 'root' } })],
  laurel: [JSON.stringify({ ID: '1795530208.123:4567', SYSCALL: { syscall: 59 }, EXECVE: { argc: 1, ARGV: ['id'] } })],
  osquery: [JSON.stringify({ name: 'process_events', hostIdentifier: 'web-1', unixTime: 1795530208, columns: { cmdline: 'id', pid: '1' }, action: 'added' })],
  'osquery-batch': [JSON.stringify({ name: 'process_events', diffResults: { added: [], removed: [] } })],
  falco: [JSON.stringify({ time: '2026-11-24T14:23:28.123456789Z', rule: 'r', priority: 'Notice', output: 'o', output_fields: { 'proc.cmdline': 'id' } })],
  json: [JSON.stringify({ time: '2026-11-24T14:23:28Z', host: 'web-1', argv: ['id'] })],
};

describe('parser registry', () => {
  it('creates a parser for every format', () => {
    for (const format of PARSER_FORMATS) {
      expect(createParser(format, baseOptions).format).toBe(format);
    }
  });

  it('rejects an unknown format with the list of valid ones', () => {
    expect(() => createParser('syslog-ng', baseOptions)).toThrow(ConfigError);
    expect(() => createParser('syslog-ng', baseOptions)).toThrow(/unknown log format "syslog-ng".*auditd, sudo, sudo-journald/);
  });

  it.each(Object.entries(SAMPLES))('detects %s', (name, lines) => {
    const expected = name.replace(/-(node|cee|file|batch)$/, '');
    expect(detectFormat(['', ...lines])).toBe(expected);
  });

  it('returns null for nothing recognisable, and lets the majority win', () => {
    expect(detectFormat(['hello', '{"a":1}', '', 'Nov 24 14:23:00 web-1 sshd[10]: hi'])).toBeNull();
    expect(detectFormat([])).toBeNull();
    expect(detectFormat([...SAMPLES.json!, ...SAMPLES.falco!, ...SAMPLES.falco!])).toBe('falco');
  });

  it('auto parser holds lines until it recognises the format, then replays them', () => {
    const p = createParser('auto', baseOptions);
    expect(p.format).toBe('auto');
    const preamble = 'Nov 24 14:23:00 web-1 sshd[10]: Accepted publickey for alice';
    expect(p.push(preamble, 0, NOW)).toEqual({ events: [], malformed: [] });
    expect(p.lowWaterMark()).toBe(0);
    const sudo = 'Nov 24 14:23:28 web-1 sudo[4211]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/id';
    p.push(sudo, 61, NOW);
    expect(p.format).toBe('sudo');
    expect(p.lowWaterMark()).toBe(61);
    const { events } = p.flush();
    expect(events.map((e) => [e.user, e.command])).toEqual([['alice', '/usr/bin/id']]);
  });

  it('auto parser reads blocks of bytes as it reads their lines, before and after detection', () => {
    const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../fixtures/go-libaudit/${name}`, import.meta.url)), 'utf8');
    const lines = ['', 'not a record', 'Nov 24 14:23:00 web-1 sshd[10]: Accepted publickey for alice', ...fixture('audit-rhel7.log').split('\n'), ...SAMPLES.auditd];
    const byLine = run(createAutoParser(baseOptions), lines);
    const bytes = Buffer.from(lines.join('\n') + '\n');
    // Cut so that detection happens inside the first block, and later blocks go straight through.
    const cuts = [0, bytes.indexOf('\n', 200) + 1, bytes.indexOf('\n', 5000) + 1, bytes.length];
    const parser = createAutoParser(baseOptions);
    const out = emptyOutput();
    for (let i = 0; i + 1 < cuts.length; i++) parseBlock(parser, lineBlock(bytes, cuts[i]!, cuts[i + 1]!, cuts[i]!), NOW, out);
    const rest = parser.flush();
    expect(parser.format).toBe('auditd');
    expect(byLine.events.length).toBeGreaterThan(5);
    expect([...out.events, ...rest.events]).toEqual(byLine.events);
    expect([...out.malformed, ...rest.malformed]).toEqual(byLine.malformed);
  });

  it('auto parser streams JSON formats straight through once detected', () => {
    const lines = [...SAMPLES.json!, JSON.stringify({ time: 1795530208, host: 'h', command: 'uname -a' })];
    const { events, malformed } = run(createAutoParser(baseOptions), lines);
    expect(malformed).toEqual([]);
    expect(events.map((e) => e.command)).toEqual(['id', 'uname -a']);
  });

  it('auto parser reports unrecognisable input instead of holding it forever', () => {
    const p = createAutoParser(baseOptions);
    let malformed = 0;
    for (let i = 0; i < 60; i++) malformed += p.push(`random text ${i}`, i * 20, NOW).malformed.length;
    expect(malformed).toBe(50);
    expect(p.flush().malformed).toHaveLength(10);
    expect(p.lowWaterMark()).toBeNull();
  });

  it('auto parser takes a long syslog preamble without sudo lines as the sudo format', () => {
    const p = createAutoParser(baseOptions);
    for (let i = 0; i < 50; i++) {
      expect(p.push(`Nov 24 14:23:00 web-1 sshd[${i}]: Accepted publickey for alice`, i * 70, NOW).malformed).toEqual([]);
    }
    expect(p.format).toBe('sudo');
  });
});
