import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAuditLog } from '../../bench/generate-auditd.js';
import { scanCommand, type ScanOptions } from '../../src/cli/scan-command.js';
import { ManualClock } from '../../src/clock.js';
import { GO_LIBAUDIT, captureStream, tempDir } from './cli-fixtures.js';

/**
 * Output of the scan as it was before the hand-written JSON encoder and the cached timestamps
 * (generic serialisation, toISOString per event), kept in golden/: the new output must be the
 * same bytes, plus the `provenance` field added after them. `@HOST@` stands for this machine's name
 * (logs without `node=` take it).
 */
const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');
const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));

let tmp: Awaited<ReturnType<typeof tempDir>>;
let generated: string;

beforeAll(async () => {
  tmp = await tempDir('vouch-scan-output-');
  generated = path.join(tmp.dir, 'generated-150.log');
  // The benchmark's generator is deterministic for a seed: the same log the golden files were made from.
  await writeAuditLog(generated, { commands: 150, seed: 7 });
});

afterAll(async () => {
  await tmp.cleanup();
});

async function scanText(file: string, options: Partial<ScanOptions>): Promise<string> {
  const stdout = captureStream();
  await scanCommand(file, { format: 'auto', ...options }, { stdout, clock, env: {} });
  return stdout.text();
}

async function golden(name: string): Promise<string> {
  return (await readFile(path.join(GOLDEN, name), 'utf8')).replaceAll('@HOST@', hostname());
}

describe('scan output is byte-identical to before', () => {
  for (const name of ['normal', 'out_of_order', 'audit-rhel6', 'audit-rhel7']) {
    it(`on the go-libaudit sample ${name}.log, JSON and text`, async () => {
      const file = path.join(GO_LIBAUDIT, `${name}.log`);
      expect(await scanText(file, { all: true, json: true })).toBe(await golden(`${name}.jsonl`));
      expect(await scanText(file, { all: true })).toBe(await golden(`${name}.txt`));
    });
  }

  it('on a generated ENRICHED log: every command, rule hits only, and text', async () => {
    expect(await scanText(generated, { all: true, json: true })).toBe(await golden('generated-150.jsonl'));
    expect(await scanText(generated, { json: true })).toBe(await golden('generated-150-hits.jsonl'));
    expect(await scanText(generated, { all: true })).toBe(await golden('generated-150.txt'));
  });
});

describe('scan redacts secrets by default', () => {
  const line = (argv: string[]) => JSON.stringify({ time: '2026-01-01T00:00:00Z', host: 'h', user: 'alice', argv });

  it('in JSON and text; --no-redact (redact: false) prints the raw command', async () => {
    const log = await tmp.file('secrets.jsonl', [line(['mysql', '-uroot', '-phunter2', 'prod']), line(['env', 'PGPASSWORD=hunter2', 'psql']), line(['ls', '-la'])].join('\n') + '\n');
    const objects = (await scanText(log, { all: true, json: true })).trim().split('\n').map((text) => JSON.parse(text) as { argv: string[]; command: string });
    expect(objects.map((o) => o.command)).toEqual(['mysql -uroot -p[REDACTED] prod', 'env PGPASSWORD=[REDACTED] psql', 'ls -la']);
    expect(objects[0]?.argv).toEqual(['mysql', '-uroot', '-p[REDACTED]', 'prod']);
    const text = await scanText(log, { all: true });
    expect(text).not.toContain('hunter2');
    expect(text).toContain('mysql -uroot -p[REDACTED] prod');

    const raw = (await scanText(log, { all: true, json: true, redact: false })).trim().split('\n').map((t) => JSON.parse(t) as { argv: string[]; command: string });
    expect(raw.map((o) => o.command)).toEqual(['mysql -uroot -phunter2 prod', 'env PGPASSWORD=hunter2 psql', 'ls -la']);
    expect(await scanText(log, { all: true, redact: false })).toContain('-phunter2');
  });

  it('still escapes control characters of a redacted command in text output', async () => {
    const log = await tmp.file('hostile.jsonl', line(['mysql', '-phunter2', '\u001b[2Jdb']) + '\n');
    const text = await scanText(log, { all: true });
    expect(text).toContain('mysql -p[REDACTED] \\x1b[2Jdb');
    expect(text).not.toContain('\u001b');
  });
});
