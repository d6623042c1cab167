import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeField, decodeHex, decodeRuleKey, fieldMap, rawFieldAt } from '../../../src/sources/parsers/decode-field.js';
import { execVerdict, execVerdictAt } from '../../../src/sources/parsers/exec-verdict.js';
import { ExecveArgs } from '../../../src/sources/parsers/execve-args.js';
import { parseUserCmd } from '../../../src/sources/parsers/parse-user-cmd.js';
import { EventTable, eventNameAt } from '../../../src/sources/parsers/event-table.js';
import { newHeaderScan, parseAuditId, parseRecordHeader, rawEndOf, scanRecordHeader, scanRecordHeaderBytes } from '../../../src/sources/parsers/record-header.js';

describe('audit record parsing', () => {
  it('splits node, type, id and body; the ENRICHED part starts after 0x1D', () => {
    const line = 'node=web1 type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=59 auid=1000\x1dAUID="alice"';
    const header = parseRecordHeader(line);
    expect(header).toEqual({ node: 'web1', type: 'SYSCALL', id: '1700000000.123:42', bodyStart: line.indexOf('arch=') });
    if (typeof header === 'string') throw new Error('unreachable');
    const rawEnd = rawEndOf(line, header.bodyStart);
    expect(line.slice(header.bodyStart, rawEnd)).toBe('arch=c000003e syscall=59 auid=1000');
    expect(rawFieldAt(line, rawEnd + 1, line.length, 'AUID=')).toBe('"alice"');
    expect(execVerdict(line, header.bodyStart, rawEnd)).toBe('exec');
  });

  it('finds a field only at a field start (uid= is not inside auid=)', () => {
    const body = 'ppid=1 pid=2 auid=1000 uid=0 euid=0 suid=0';
    expect(rawFieldAt(body, 0, body.length, 'uid=')).toBe('0');
    expect(rawFieldAt(body, 0, body.length, 'pid=')).toBe('2');
    expect(rawFieldAt(body, 0, body.length, 'gid=')).toBeNull();
  });

  it('parses event ids', () => {
    expect(parseAuditId('1492037291.036:59')?.time.toISOString()).toBe('2017-04-12T22:48:11.036Z');
    expect(parseAuditId('1492037291.036:59')?.serial).toBe('59');
    for (const bad of ['', '1:2', 'a.b:c', '1.5:', '.5:1', '1.2:3:4']) expect(parseAuditId(bad)).toBeNull();
  });

  it('decodes hex in both cases and rejects odd or non-hex input', () => {
    expect(decodeHex('48692021')?.toString()).toBe('Hi !');
    expect(decodeHex('6a6B')?.toString()).toBe('jk');
    expect(decodeHex('abc')).toBeUndefined();
    expect(decodeHex('zz')).toBeUndefined();
    expect(decodeField('"quoted"')).toBe('quoted');
    expect(decodeField('(null)')).toBeNull();
    expect(decodeField('E298830A')).toBe('☃\n');
    expect(decodeField('E29')).toBeUndefined();
    expect(decodeRuleKey('"a"')).toBe('a');
    expect(decodeRuleKey('(null)')).toBeNull();
  });

  it("keeps quotes in raw values and reads msg='...' to its last quote", () => {
    const body = `pid=1 msg='cwd="/it's here" cmd="it's" res=success' trailing`;
    const fields = fieldMap(body, 0, body.lastIndexOf("'") + 1);
    expect(fields.get('pid')).toBe('1');
    expect(fields.get('msg')).toBe(`'cwd="/it's here" cmd="it's" res=success'`);
  });

  it('parses sudo USER_CMD bodies, old and new', () => {
    const old = `user pid=3027 uid=497 auid=700 ses=11988 msg='cwd="/" cmd=6C73202D6C terminal=? res=success'`;
    expect(parseUserCmd(old, 0, old.length)).toMatchObject({ pid: 3027, auid: 700, ses: 11988, cmd: 'ls -l', cwd: '/', terminal: null, success: true });
    const enriched = `pid=1 uid=1000 auid=1000 ses=2 msg='cwd="/x" cmd="id" exe="/usr/bin/sudo" terminal=pts/0 res=failed'\x1dUID="alice" AUID="alice"`;
    const sep = enriched.indexOf('\x1d');
    expect(parseUserCmd(enriched, 0, sep)).toMatchObject({ cmd: 'id', success: false, auidName: 'alice', exe: '/usr/bin/sudo', terminal: 'pts/0' });
    expect(parseUserCmd(`pid=1 msg='cwd="/" res=success'`, 0, 29)).toBe('unrecognized');
  });

  it('assembles split arguments from chunks in any record order and reports holes', () => {
    const add = (args: ExecveArgs, body: string) => args.addRecord(body, 0, body.length);
    const args = new ExecveArgs();
    add(args, 'argc=2 a0="x" a1_len=6 a1[1]=6566');
    add(args, ' a1[0]="abcd"');
    expect(args.assemble()).toEqual({ argv: ['x', 'abcdef'], complete: true });
    const holes = new ExecveArgs();
    add(holes, 'argc=3 a0="x" a2="z"');
    expect(holes.assemble()).toEqual({ argv: ['x'], complete: false });
  });
});

describe('execVerdictAt', () => {
  it('gives the verdict execVerdict gives on the decoded line, for any ASCII body', () => {
    const word = fc.constantFrom('arch=', 'syscall=', 'arch=c000003e', 'syscall=59', 'syscall=257', 'arch=C000003E', 'xarch=1', ' ', '  ', '\x1d', 'a0=1', '"', '=', 'syscall=59\x1dARCH=x86_64', 'syscall=059', 'syscall=0', 'arch=\x1c000003e', 'arch=c\x10\x10\x10\x10\x103e', 'syscall=5\x19');
    fc.assert(
      fc.property(fc.array(fc.oneof(word, fc.string({ unit: 'grapheme-ascii', maxLength: 6 })), { maxLength: 12 }), fc.nat(5), (words, pad) => {
        const body = words.join(words.length % 2 === 0 ? ' ' : '');
        const line = `${'#'.repeat(pad)}${body}`;
        const expected = execVerdict(line, pad, rawEndOf(line, pad));
        expect(execVerdictAt(Buffer.from(line, 'latin1'), pad, line.length)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same verdict when the body starts as the kernel writes it, arch= then syscall=, or almost', () => {
    const arch = fc.constantFrom('arch=c000003e', 'arch=C000003E', 'arch=40000003', 'arch=c000003', 'arch=', 'arch=c000003e\x1d', 'arch=c00000b7', 'arch=zz');
    const syscall = fc.constantFrom('syscall=59', 'syscall=322', 'syscall=257', 'syscall=059', 'syscall=', 'syscall=59\x1dARCH=x86_64', 'syscalls=59', 'syscall=221');
    const between = fc.constantFrom(' ', '  ', '', '\x1d', ' arch=40000003 ', ' x=1 ');
    const rest = fc.constantFrom('', ' success=yes', ' syscall=11', ' arch=40000003 syscall=11', '\x1dSYSCALL=execve');
    fc.assert(
      fc.property(arch, between, syscall, rest, fc.nat(3), (a, b, c, d, pad) => {
        const line = `${'#'.repeat(pad)}${a}${b}${c}${d}`;
        const expected = execVerdict(line, pad, rawEndOf(line, pad));
        expect(execVerdictAt(Buffer.from(line, 'latin1'), pad, line.length)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('scanRecordHeaderBytes', () => {
  // The byte scan reads auditd's own id shape by fixed offsets and any other by a walk; both must
  // say what the text scan and parseAuditId say of the same line.
  const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
  const id = fc.oneof(
    fc.tuple(digits(10, 10), digits(3, 3), digits(1, 16)).map(([s, ms, serial]) => `${s}.${ms}:${serial}`),
    fc.tuple(digits(0, 12), digits(0, 5), digits(0, 17)).map(([s, ms, serial]) => `${s}.${ms}:${serial}`),
    fc.tuple(digits(10, 10), fc.constantFrom('.', ':', 'x', ''), digits(3, 3), fc.constantFrom(':', '.', ''), digits(1, 6)).map((parts) => parts.join('')),
    fc.string({ unit: fc.constantFrom(...'0123456789.:)x '), maxLength: 24 }),
  );
  const line = fc.tuple(fc.constantFrom('', 'node=web-1 '), fc.constantFrom('SYSCALL', 'EOE', 'PATH'), id, fc.constantFrom('): cwd="/"', '):', ')', ': x', '')).map(([node, type, i, rest]) => `${node}type=${type} msg=audit(${i}${rest}`);

  it('agrees with the text scan and parseAuditId on every id shape', () => {
    fc.assert(
      fc.property(line, fc.nat(4), (text, pad) => {
        const bytes = Buffer.from(' '.repeat(pad) + text + '\n');
        const h = newHeaderScan();
        const scanned = scanRecordHeaderBytes(bytes, pad, bytes.length - 1, h);
        const t = newHeaderScan();
        expect(scanned).toBe(scanRecordHeader(text, t) === null);
        if (!scanned) return;
        const shifted = (at: number) => at - pad;
        expect([h.typeStart, h.typeEnd, h.idStart, h.idEnd, h.serialStart, h.bodyStart].map(shifted)).toEqual([t.typeStart, t.typeEnd, t.idStart, t.idEnd, t.serialStart, t.bodyStart]);
        const parsed = parseAuditId(text.slice(t.idStart, t.idEnd));
        const serialText = text.slice(t.serialStart, t.idEnd);
        expect(h.idValid).toBe(parsed !== null && serialText.length <= 15);
        if (h.idValid) {
          expect(h.timeMs).toBe(parsed!.time.getTime());
          expect(h.serial).toBe(Number(serialText));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('lets an event table find an event from another line exactly when their node and id are the same text', () => {
    // Ids of auditd's own shape are told apart by their time, serial and length instead of their
    // text: same answer as the text, including serials with leading zeros and near-equal times.
    const near = fc.tuple(digits(10, 10), digits(3, 3), digits(1, 6)).chain(([s, ms, serial]) =>
      fc.tuple(
        fc.constant(`${s}.${ms}:${serial}`),
        fc.oneof(
          fc.constant(`${s}.${ms}:${serial}`),
          fc.constant(`${s}.${ms}:0${serial}`),
          fc.constant(`${s}.${ms}:${serial.replace(/^0+(?=.)/, '')}`),
          digits(3, 3).map((other) => `${s}.${other}:${serial}`),
          digits(1, 6).map((other) => `${s}.${ms}:${other}`),
          id,
        ),
      ),
    );
    const record = (node: string, i: string) => Buffer.from(`${node}type=SYSCALL msg=audit(${i}): x`);
    fc.assert(
      fc.property(near, fc.constantFrom('', 'node=web-1 '), fc.constantFrom('', 'node=web-1 ', 'node=web-2 '), ([firstId, secondId], firstNode, secondNode) => {
        const first = record(firstNode, firstId);
        const second = record(secondNode, secondId);
        const h = newHeaderScan();
        if (!scanRecordHeaderBytes(first, 0, first.length, h)) return;
        const table = new EventTable<string>();
        table.add(eventNameAt(first, h, false), 'held');
        if (!scanRecordHeaderBytes(second, 0, second.length, h)) return;
        const same = firstNode === secondNode && firstId === secondId;
        expect(table.findAt(second, h, false)?.value).toBe(same ? 'held' : undefined);
      }),
      { numRuns: 3000 },
    );
  });
});
