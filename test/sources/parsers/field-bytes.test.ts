import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeField, decodeRuleKey, fieldMap, intField, isNoValue, rawFieldAt, stripQuotes } from '../../../src/sources/parsers/decode-field.js';
import { execVerdict } from '../../../src/sources/parsers/exec-verdict.js';
import { decodeFieldAt, fieldValueAt, intAt, wordEnd } from '../../../src/sources/parsers/field-bytes.js';
import { parseUserCmd, type UserCmdRecord } from '../../../src/sources/parsers/parse-user-cmd.js';
import { readSyscallAt, type SyscallFacts } from '../../../src/sources/parsers/syscall-record.js';

/** Raw values as records carry them: quoted, hex (good and bad), markers, numbers, garbage. */
const rawValue = fc.oneof(
  fc.constantFrom('', '?', '(null)', '(none)', '"', "'", '""', '"a', "'x'", '"/usr/bin/ls"', '2F746D70', '2f746d70', '2F7', 'ZZ', 'C3A9', 'FF', '00', '7365637265740173736864', '0', '007', '1000', '4294967295', '1234567890123456', 'yes', 'no', 'c000003e', 'C000003E', '59', '059', '257'),
  fc.string({ unit: fc.constantFrom('0', '1', '9', 'a', 'F', 'z', '"', "'", '(', ')', '?', '=', '\x1d'), maxLength: 8 }),
);

const FIELD_NAMES = ['arch', 'syscall', 'success', 'exit', 'ppid', 'pid', 'auid', 'uid', 'gid', 'euid', 'suid', 'fsuid', 'tty', 'ses', 'comm', 'exe', 'key', 'xpid', 'a0'];
const ENRICHED_NAMES = ['ARCH', 'SYSCALL', 'AUID', 'UID', 'GID', 'EUID', 'XUID'];

const fields = (names: readonly string[]) =>
  fc.array(
    fc.tuple(fc.constantFrom(...names), rawValue).map(([k, v]) => `${k}=${v}`),
    { maxLength: 14 },
  );

/**
 * Words `name=value` for `order`, each mostly as it is, sometimes dropped, repeated, moved one
 * place back, renamed (to one of `others`), or preceded by a stray or an empty word: records in
 * their writer's order, and ones that leave it at any point.
 */
function inOrderMostly(order: readonly string[], valueOf: (name: string) => fc.Arbitrary<string>, others: readonly string[]): fc.Arbitrary<string> {
  const change = fc.constantFrom('keep', 'keep', 'keep', 'keep', 'keep', 'keep', 'keep', 'keep', 'drop', 'twice', 'swap', 'rename', 'junk', 'space');
  return fc.tuple(...order.map((name) => fc.tuple(valueOf(name), valueOf(name), change, fc.constantFrom(...others)))).map((parts) => {
    const words: string[] = [];
    parts.forEach(([value, second, how, other], k) => {
      const word = `${order[k]!}=${value}`;
      if (how === 'drop') return;
      if (how === 'rename') words.push(`${other}=${value}`);
      else if (how === 'junk') words.push('junk', word);
      else if (how === 'space') words.push('', word);
      else if (how === 'swap' && words.length > 0) words.splice(words.length - 1, 0, word);
      else words.push(word);
      if (how === 'twice') words.push(`${order[k]!}=${second}`);
    });
    return words.join(' ');
  });
}

/** What the text decoders say of a SYSCALL body: the reference readSyscallAt must agree with. */
function referenceFacts(line: string, start: number, rawEnd: number): SyscallFacts {
  const raw = (name: string) => rawFieldAt(line, start, rawEnd, name) ?? undefined;
  const enriched = (name: string) => {
    const value = rawEnd < line.length ? rawFieldAt(line, rawEnd + 1, line.length, name) : null;
    return value === null ? undefined : stripQuotes(value);
  };
  const arch = raw('arch=');
  const syscall = raw('syscall=');
  const tty = raw('tty=');
  const success = raw('success=');
  return {
    verdict: arch && syscall ? execVerdict(line, start, rawEnd) : 'unknown',
    success: success === 'yes' ? true : success === 'no' ? false : undefined,
    pid: intField(raw('pid=')),
    ppid: intField(raw('ppid=')),
    auid: intField(raw('auid=')),
    uid: intField(raw('uid=')),
    euid: intField(raw('euid=')),
    ses: intField(raw('ses=')),
    tty: tty === undefined || isNoValue(tty) ? null : tty,
    exe: decodeField(raw('exe=')) ?? null,
    key: decodeRuleKey(raw('key=')),
    AUID: enriched('AUID='),
    UID: enriched('UID='),
    EUID: enriched('EUID='),
  };
}

/** USER_CMD as the text field maps read it: the reference parseUserCmd must agree with. */
function referenceUserCmd(line: string, rawEnd: number): UserCmdRecord | string {
  const outer = fieldMap(line, 0, rawEnd);
  const enriched = rawEnd < line.length ? fieldMap(line, rawEnd + 1, line.length) : null;
  const msg = outer.get('msg');
  const inner = msg ? fieldMap(stripQuotes(msg), 0, stripQuotes(msg).length) : outer;
  const rawCmd = inner.get('cmd');
  if (rawCmd === undefined) return 'unrecognized';
  const cmd = decodeField(rawCmd);
  const cwd = decodeField(inner.get('cwd'));
  if (cmd === undefined || cwd === undefined) return 'bad_hex';
  const terminal = inner.get('terminal');
  const auidName = enriched?.get('AUID');
  return {
    pid: intField(outer.get('pid')),
    auid: intField(outer.get('auid')),
    ses: intField(outer.get('ses')),
    uid: intField(outer.get('uid')),
    cmd: cmd ?? '',
    cmdCut: (rawCmd.startsWith('"') || rawCmd.startsWith("'") ? rawCmd.length - 2 : rawCmd.length >> 1) >= 4095,
    cwd,
    exe: decodeField(inner.get('exe')) ?? null,
    terminal: terminal === undefined || isNoValue(stripQuotes(terminal)) ? null : stripQuotes(terminal),
    success: inner.get('res') !== 'failed' && inner.get('res') !== '0',
    auidName: auidName === undefined ? undefined : stripQuotes(auidName),
  };
}

const USER_CMD_NAMES = ['pid', 'uid', 'auid', 'ses', 'cmd', 'cwd', 'exe', 'terminal', 'res', 'subj', 'x'];

describe('field decoding from bytes', () => {
  it('decodes a value as decodeField decodes the same text, wherever it sits in the buffer', () => {
    fc.assert(
      fc.property(rawValue, fc.nat(4), fc.nat(4), (raw, before, after) => {
        const bytes = Buffer.from(`${'#'.repeat(before)}${raw}${'#'.repeat(after)}`, 'latin1');
        expect(decodeFieldAt(bytes, before, before + raw.length, false)).toBe(decodeField(raw));
        expect(intAt(bytes, before, before + raw.length)).toBe(intField(raw));
      }),
      { numRuns: 2000 },
    );
  });

  it('finds a field where rawFieldAt finds it, at a field start only', () => {
    fc.assert(
      fc.property(fields(FIELD_NAMES), fc.constantFrom(...FIELD_NAMES), (words, name) => {
        const body = words.join(' ');
        const bytes = Buffer.from(body, 'latin1');
        const at = fieldValueAt(bytes, 0, bytes.length, `${name}=`);
        const expected = rawFieldAt(body, 0, body.length, `${name}=`);
        expect(at < 0 ? null : body.slice(at, wordEnd(bytes, at, bytes.length))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a SYSCALL record as the text decoders read it, raw and ENRICHED', () => {
    fc.assert(
      fc.property(fields(FIELD_NAMES), fc.option(fields(ENRICHED_NAMES)), fc.nat(3), (raw, enriched, pad) => {
        const line = `${'x'.repeat(pad)}${raw.join(' ')}${enriched === null ? '' : `\x1d${enriched.join(' ')}`}`;
        const rawEnd = enriched === null ? line.length : line.indexOf('\x1d', pad);
        const bytes = Buffer.from(line, 'latin1');
        expect(readSyscallAt(bytes, pad, rawEnd, line.length, false)).toEqual(referenceFacts(line, pad, rawEnd));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads a SYSCALL record in the kernel\'s and auditd\'s field order, or one differing from it anywhere, as the text decoders read it', () => {
    // The kernel's order of the raw fields and auditd's of the ENRICHED ones (readSyscallAt's fast
    // paths), with changes that make each walk leave its fast path at any point, or never.
    const kernelOrder = ['arch', 'syscall', 'success', 'exit', 'a0', 'a1', 'a2', 'a3', 'items', 'ppid', 'pid', 'auid', 'uid', 'gid', 'euid', 'suid', 'fsuid', 'egid', 'sgid', 'fsgid', 'tty', 'ses', 'comm', 'exe', 'subj', 'key'];
    const typical: Record<string, fc.Arbitrary<string>> = {
      arch: fc.constantFrom('c000003e', 'C000003E', '40000003', 'ffff'),
      syscall: fc.constantFrom('59', '322', '257', '059'),
      success: fc.constantFrom('yes', 'no', 'maybe'),
      tty: fc.constantFrom('pts0', '(none)', '?'),
      exe: fc.constantFrom('"/usr/bin/sudo"', '2F62696E2F7368', '2F7', '"/a'),
      key: fc.constantFrom('"exec"', '(null)', '6B6579310173736864'),
    };
    const valueOf = (name: string) => fc.oneof({ weight: 4, arbitrary: typical[name] ?? fc.constantFrom('0', '1000', '4294967295', '55d3a8c0e2a0', '"sudo"') }, { weight: 1, arbitrary: rawValue });
    const record = inOrderMostly(kernelOrder, valueOf, FIELD_NAMES);
    const enrichedOrder = ['ARCH', 'SYSCALL', 'AUID', 'UID', 'GID', 'EUID', 'SUID'];
    const enrichedValue = () => fc.constantFrom('x86_64', 'execve', '"dave"', '"root"', 'unset', '"', '');
    const enriched = fc.option(inOrderMostly(enrichedOrder, enrichedValue, ENRICHED_NAMES));
    fc.assert(
      fc.property(record, enriched, (raw, names) => {
        const line = names === null ? raw : `${raw}\x1d${names}`;
        const rawEnd = names === null ? line.length : raw.length;
        expect(readSyscallAt(Buffer.from(line, 'latin1'), 0, rawEnd, line.length, false)).toEqual(referenceFacts(line, 0, rawEnd));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads a USER_CMD record as the text field maps read it, msg and ENRICHED parts included', () => {
    const inner = fields(USER_CMD_NAMES).map((words) => words.join(' '));
    const res = fc.constantFrom('res=success', 'res=failed', 'res=0', '');
    fc.assert(
      fc.property(fields(USER_CMD_NAMES), fc.option(fc.tuple(inner, res)), fc.option(fields(['AUID', 'UID'])), (outer, msg, enriched) => {
        const body = [...outer, ...(msg === null ? [] : [`msg='${msg[0]} ${msg[1]}'`])].join(' ');
        const line = enriched === null ? body : `${body}\x1d${enriched.join(' ')}`;
        const rawEnd = enriched === null ? line.length : body.length;
        expect(parseUserCmd(line, 0, rawEnd)).toEqual(referenceUserCmd(line, rawEnd));
      }),
      { numRuns: 3000 },
    );
  });
});
