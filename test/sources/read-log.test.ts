import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { NotFoundError, VouchError } from '../../src/errors.js';
import type { CommandEvent } from '../../src/sources/command-event.js';
import type { Malformed } from '../../src/sources/parser.js';
import { openLog, type LogReader } from '../../src/sources/read-log.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vouch-read-log-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const jsonLine = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ time: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`, host: 'web-1', user: 'alice', argv: ['echo', String(i)], ...extra });

async function drain(log: LogReader): Promise<{ events: CommandEvent[]; malformed: Malformed[]; progress: number[] }> {
  const events: CommandEvent[] = [];
  const malformed: Malformed[] = [];
  const progress: number[] = [];
  for await (const batch of log) {
    events.push(...batch.events);
    malformed.push(...batch.malformed);
    progress.push(batch.bytesRead);
  }
  return { events, malformed, progress };
}

const options = { parser: { defaultHost: 'here' }, clock: new ManualClock() };

describe('openLog', () => {
  it('reads a file in batches with growing byte counts, including a last line without newline', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => jsonLine(i));
    const text = lines.join('\n');
    const file = path.join(dir, 'events.jsonl');
    await writeFile(file, text);
    const log = await openLog(file, { ...options, batchBytes: 4096 });
    expect(log.totalBytes).toBe(Buffer.byteLength(text));
    const { events, malformed, progress } = await drain(log);
    expect(malformed).toEqual([]);
    expect(events.map((e) => e.argv[1])).toEqual(lines.map((_, i) => String(i)));
    expect(log.format).toBe('json');
    expect(progress.length).toBeGreaterThan(5);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(Buffer.byteLength(text));
  });

  it('reads a log that begins with a byte order mark, its first record included', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const json = path.join(dir, 'bom.jsonl');
    await writeFile(json, Buffer.concat([bom, Buffer.from(`${jsonLine(1)}\n${jsonLine(2)}\n`)]));
    const audit = path.join(dir, 'bom-audit.log');
    const records = [
      'type=SYSCALL msg=audit(1764000000.100:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=42 auid=1001 uid=0 euid=0 tty=pts0 ses=3 comm="cat" exe="/usr/bin/cat"',
      'type=EXECVE msg=audit(1764000000.100:7): argc=2 a0="cat" a1="/etc/shadow"',
      'type=EOE msg=audit(1764000000.100:7): ',
    ];
    await writeFile(audit, Buffer.concat([bom, Buffer.from(records.join('\n') + '\n')]));
    for (const format of ['auto', undefined]) {
      const fromJson = await drain(await openLog(json, { ...options, format: format ?? 'json' }));
      expect(fromJson.malformed).toEqual([]);
      expect(fromJson.events.map((e) => e.argv[1])).toEqual(['1', '2']);
      const fromAudit = await drain(await openLog(audit, { ...options, format: format ?? 'auditd' }));
      expect(fromAudit.malformed).toEqual([]);
      expect(fromAudit.events.map((e) => [e.loginUid, e.command])).toEqual([[1001, 'cat /etc/shadow']]);
    }
    const sampled = await openLog(json, options);
    await drain(sampled);
    expect(sampled.sampleLines[0]).toBe(jsonLine(1));
  });

  it('reports lines over the length limit as too_long without holding them', async () => {
    const file = path.join(dir, 'long.jsonl');
    await writeFile(file, [jsonLine(1), jsonLine(2, { pad: 'x'.repeat(5000) }), jsonLine(3)].join('\n') + '\n');
    const { events, malformed } = await drain(await openLog(file, { ...options, format: 'json', maxLineBytes: 1000 }));
    expect(events.map((e) => e.argv[1])).toEqual(['1', '3']);
    expect(malformed).toHaveLength(1);
    expect(malformed[0]).toMatchObject({ reason: 'too_long', offset: Buffer.byteLength(jsonLine(1)) + 1 });
  });

  it('reads standard input for "-" with the same results as the file', async () => {
    const text = Array.from({ length: 200 }, (_, i) => jsonLine(i)).join('\n') + '\n';
    const file = path.join(dir, 'same.jsonl');
    await writeFile(file, text);
    const fromFile = await drain(await openLog(file, options));
    // Chunks that split lines (and a multi-byte character) at arbitrary points.
    const bytes = Buffer.from(text);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 333) }, (_, i) => bytes.subarray(i * 333, (i + 1) * 333));
    const log = await openLog('-', { ...options, stdin: Readable.from(chunks), batchBytes: 2048 });
    expect(log.totalBytes).toBeNull();
    const fromStdin = await drain(log);
    expect(fromStdin.events).toEqual(fromFile.events);
    expect(fromStdin.progress.at(-1)).toBe(bytes.length);
  });

  it('reads a file whose name looks like a glob as that one file', async () => {
    await writeFile(path.join(dir, 'a-1.log'), jsonLine(1) + '\n');
    const odd = path.join(dir, 'a-?.log');
    await writeFile(odd, jsonLine(2) + '\n');
    const { events } = await drain(await openLog(odd, options));
    expect(events.map((e) => e.argv[1])).toEqual(['2']);
  });

  it('reads a named pipe as a stream, as standard input', async () => {
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const writer = writeFile(fifo, [jsonLine(7), jsonLine(8)].join('\n') + '\n');
    const { events } = await drain(await openLog(fifo, options));
    await writer;
    expect(events.map((e) => e.argv[1])).toEqual(['7', '8']);
  });

  it('throws NotFoundError for a missing file and VouchError for a directory or an unknown format', async () => {
    await expect(openLog(path.join(dir, 'nope.log'), options)).rejects.toBeInstanceOf(NotFoundError);
    await mkdir(path.join(dir, 'sub'));
    await expect(openLog(path.join(dir, 'sub'), options)).rejects.toThrow(/sub: a directory, not a log file/);
    await writeFile(path.join(dir, 'x.log'), '');
    const unknown = openLog(path.join(dir, 'x.log'), { ...options, format: 'syslog-ng' });
    await expect(unknown).rejects.toBeInstanceOf(VouchError);
    await expect(unknown).rejects.toThrow(/unknown log format "syslog-ng".*auditd/);
  });

  it('yields a flush batch for an empty file', async () => {
    const file = path.join(dir, 'empty.log');
    await writeFile(file, '');
    const { events, malformed } = await drain(await openLog(file, options));
    expect(events).toEqual([]);
    expect(malformed).toEqual([]);
  });

  it('reads ahead into two buffers in turn without mixing them up, and stops cleanly when left early', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => jsonLine(i, { pad: 'é'.repeat(i % 37) }));
    const file = path.join(dir, 'ahead.jsonl');
    await writeFile(file, lines.join('\n') + '\n');
    const { events } = await drain(await openLog(file, { ...options, batchBytes: 1000 }));
    expect(events.map((e) => e.argv[1])).toEqual(lines.map((_, i) => String(i)));
    const log = await openLog(file, { ...options, batchBytes: 1000 });
    let batches = 0;
    for await (const batch of log) if (batch.events.length > 0 && ++batches === 3) break;
    expect(batches).toBe(3);
  });

  it('counts non-blank lines until the first event and keeps a sample of the first lines', async () => {
    const file = path.join(dir, 'sample.jsonl');
    await writeFile(file, ['garbage one', '   ', '', 'garbage two', jsonLine(1), 'garbage three'].join('\n') + '\n');
    const log = await openLog(file, { ...options, format: 'json', batchBytes: 16 });
    const { events } = await drain(log);
    expect(events).toHaveLength(1);
    expect(log.linesUntilFirstEvent).toBe(2);
    expect(log.sampleLines.slice(0, 4)).toEqual(['garbage one', '   ', '', 'garbage two']);
    const none = path.join(dir, 'none.log');
    await writeFile(none, 'a\n \t\r\nb\nc');
    const nothing = await openLog(none, { ...options, format: 'json' });
    await drain(nothing);
    expect(nothing.linesUntilFirstEvent).toBe(3);
  });
});
