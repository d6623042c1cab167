import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestCommand, renderProgress } from '../../src/cli/ingest-command.js';
import type { Clock } from '../../src/clock.js';
import type { VouchConfig } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import { serviceFilePath } from '../../src/service-file.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';
import { GO_LIBAUDIT, tempDir } from './cli-fixtures.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let store: TestStore;
let config: VouchConfig;

/** A clock that moves a quarter second every time it is read, so progress redraws are due. */
function tickingClock(): Clock {
  let at = Date.UTC(2026, 10, 24, 15, 0, 0);
  return { now: () => new Date((at += 250)) };
}

function fakeTerminal() {
  const writes: string[] = [];
  return { isTTY: true, columns: 100, writes, write: (text: string) => writes.push(text) };
}

beforeEach(async () => {
  tmp = await tempDir('vouch-ingest-');
  store = await createTestStore();
  config = loadConfig({ env: { VOUCH_DATA_DIR: tmp.dir } });
});

afterEach(async () => {
  await store.destroy();
  await tmp.cleanup();
});

const event = (argv: string[], user = 'alice', time = '2026-11-24T14:00:00Z') =>
  JSON.stringify({ time, host: 'web-1', user, run_as: 'root', argv });

async function alertCount(): Promise<number> {
  const rows = await store.db.selectFrom('alerts').select('id').execute();
  return rows.length;
}

describe('ingest', () => {
  it('creates alerts for rule hits once: ingesting the same file again adds nothing', async () => {
    const log = await tmp.file('history.jsonl', [
      event(['cat', '/etc/shadow']),
      event(['nc', '-lvp', '4444'], 'bob'),
      event(['ls', '-la']),
      '{"broken',
      event(['cat', '/etc/shadow'], 'carol', '2026-11-24T14:05:00Z'),
    ].join('\n') + '\n');
    const first = await ingestCommand(config, log, { format: 'auto', source: 'backfill' }, { store, clock: tickingClock(), stderr: { write: () => true } });
    expect(first).toMatch(/ingested .*history\.jsonl as source "backfill" \(json\)/);
    expect(first).toMatch(/\s4 {2}command events/);
    expect(first).toMatch(/\s3 {2}rule hits/);
    expect(first).toMatch(/\s3 {2}alerts created/);
    expect(first).toMatch(/\s0 {2}duplicates skipped/);
    expect(first).toMatch(/\s1 {2}malformed lines\nmalformed lines by reason:\n\s+1\s+truncated/);
    expect(await alertCount()).toBe(3);

    const second = await ingestCommand(config, log, { format: 'auto', source: 'backfill' }, { store, clock: tickingClock(), stderr: { write: () => true } });
    expect(second).toMatch(/\s0 {2}alerts created/);
    expect(second).toMatch(/\s3 {2}duplicates skipped/);
    expect(second).toContain('every rule hit was already stored under source "backfill": nothing new');
    expect(await alertCount()).toBe(3);
    const events = await store.db.selectFrom('command_events').select(['source', 'login_user']).execute();
    expect(events).toHaveLength(3);
    expect(new Set(events.map((row) => row.source))).toEqual(new Set(['backfill']));
  });

  it('draws a progress bar on a terminal and erases it before the summary', async () => {
    const log = await tmp.file('one.jsonl', event(['cat', '/etc/shadow']) + '\n');
    const terminal = fakeTerminal();
    await ingestCommand(config, log, { format: 'json', source: 'backfill' }, { store, clock: tickingClock(), stderr: terminal });
    const drawn = terminal.writes.join('');
    expect(drawn).toMatch(/\r\[#+-*\] 100% {2}0\.0\/0\.0 MB {2}1 events {2}\d+ events\/s\x1b\[K/);
    expect(terminal.writes.at(-1)).toBe('\r\x1b[K');
  });

  it('writes nothing on stderr when it is not a terminal', async () => {
    const log = await tmp.file('one.jsonl', event(['cat', '/etc/shadow']) + '\n');
    const writes: string[] = [];
    await ingestCommand(config, log, { format: 'json', source: 'backfill' }, { store, clock: tickingClock(), stderr: { isTTY: false, write: (t: string) => writes.push(t) } });
    expect(writes).toEqual([]);
  });

  it('ingests a real auditd sample', async () => {
    const summary = await ingestCommand(config, path.join(GO_LIBAUDIT, 'audit-rhel7.log'), { format: 'auto', source: 'rhel7' }, { store, clock: tickingClock(), stderr: { write: () => true } });
    expect(summary).toMatch(/\(auditd\)/);
    expect(summary).toMatch(/incomplete_event/);
  });

  it('stores malformed-line samples with NUL bytes and escapes in them, escaped', async () => {
    const lines = await readFile(path.join(GO_LIBAUDIT, 'normal.log'), 'utf8');
    const log = await tmp.file('nul.log', `\u0000\u0001\u001b[2Jgarbage\n${lines}`);
    const summary = await ingestCommand(config, log, { format: 'auditd', source: 'nul' }, { store, clock: tickingClock(), stderr: { write: () => true } });
    expect(summary).toMatch(/\s2 {2}command events/);
    const rows = await store.db.selectFrom('source_malformed').select(['reason', 'count', 'sample']).execute();
    expect(rows).toEqual([{ reason: 'binary', count: 1, sample: '\\x00\\x01\\x1b[2Jgarbage' }]);
  });

  it('leaves no malformed counts behind when it refuses a log in no format it reads', async () => {
    // An /etc/passwd, long enough to be read in several batches.
    const passwd = Array.from({ length: 20_000 }, (_, index) => `user${index}:x:${1000 + index}:${1000 + index}:User ${index}:/home/user${index}:/bin/bash`);
    const log = await tmp.file('passwd', passwd.join('\n') + '\n');
    await expect(ingestCommand(config, log, { format: 'auto', source: 'probex' }, { store, clock: tickingClock(), stderr: { write: () => true } })).rejects.toThrow(
      /no line of .*passwd is in a log format Vouch reads \(20000 malformed\)/,
    );
    expect(await store.db.selectFrom('source_malformed').selectAll().execute()).toEqual([]);
    expect(await store.db.selectFrom('command_events').select('id').execute()).toEqual([]);

    // Malformed lines before the first event are counted once the event confirms the format.
    const mixed = await tmp.file('mixed.jsonl', ['{"broken', '{"broken', event(['cat', '/etc/shadow']), '{"broken'].join('\n') + '\n');
    const summary = await ingestCommand(config, mixed, { format: 'auto', source: 'probex' }, { store, clock: tickingClock(), stderr: { write: () => true } });
    expect(summary).toMatch(/\s3 {2}malformed lines/);
    expect(await store.db.selectFrom('source_malformed').select(['source', 'count']).execute()).toEqual([{ source: 'probex', count: 3 }]);
  });

  it('refuses while the service runs on embedded PGlite, naming both ways out', async () => {
    await writeFile(serviceFilePath(tmp.dir), JSON.stringify({ url: 'http://127.0.0.1:8080', token: 'x', pid: process.pid }));
    const log = await tmp.file('one.jsonl', event(['ls']) + '\n');
    const attempt = ingestCommand(config, log, { format: 'auto', source: 'backfill' });
    await expect(attempt).rejects.toThrow(/service is running \(pid \d+\) on the embedded database/);
    await expect(ingestCommand(config, log, { format: 'auto', source: 'backfill' })).rejects.toThrow(/Stop the service.*\n.*http:\/\/127\.0\.0\.1:8080\/ingest/);
  });

  it('rejects a bad source name and a missing file before touching the database', async () => {
    await expect(ingestCommand(config, 'x', { format: 'auto', source: 'no spaces' }, { store })).rejects.toThrow(/--source/);
    await expect(ingestCommand(config, path.join(tmp.dir, 'missing.log'), { format: 'auto', source: 'backfill' }, { store })).rejects.toThrow(/no such file/);
  });
});

describe('renderProgress', () => {
  it('shows a bar, percent, megabytes and rate, fitted to the terminal', () => {
    const line = renderProgress({ bytesRead: 70 * 1024 * 1024, totalBytes: 140 * 1024 * 1024, events: 50_000, elapsedMs: 2000, columns: 100 });
    expect(line).toMatch(/^\[#{20}-{20}\] {2}50% {2}70\.0\/140\.0 MB {2}50,000 events {2}25,000 events\/s$/);
    expect(line.length).toBeLessThan(100);
    expect(renderProgress({ bytesRead: 1, totalBytes: 2, events: 0, elapsedMs: 0, columns: 40 })).not.toContain('[');
    expect(renderProgress({ bytesRead: 3 * 1024 * 1024, totalBytes: null, events: 10, elapsedMs: 1000, columns: 80 })).toBe('3.0 MB read  10 events  10 events/s');
  });
});
