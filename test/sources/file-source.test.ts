import { appendFile, copyFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock, type Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import { createLogger, silentLogger, type Logger } from '../../src/logger.js';
import { auditdRecords } from '../../src/sandbox/demo-log.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { FileSource } from '../../src/sources/file-source.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';
import { FlakyIngestor, NumberedLog, eventually } from './file-source-support.js';

let dir: string;
let store: TestStore;
const sources: FileSource[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vouch-source-'));
  store = await createTestStore();
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  await store.destroy();
  await rm(dir, { recursive: true, force: true });
});

function source(options: { file: string; ingestor: FlakyIngestor; clock?: Clock; logger?: Logger; maxBatchBytes?: number; rotateWaitMs?: number }): FileSource {
  const s = new FileSource({
    source: { name: 'audit', type: 'auditd', path: options.file, token: null, host: null },
    ingestor: options.ingestor,
    db: store.db,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    tail: { maxBatchBytes: options.maxBatchBytes ?? 4096, rotateWaitMs: options.rotateWaitMs },
    retry: { initialMs: 2, maxMs: 10 },
  });
  sources.push(s);
  return s;
}

/** Calls runOnce until it succeeds without anything new, counting the rejections. */
async function drain(s: FileSource): Promise<number> {
  let rejections = 0;
  for (let attempt = 0; attempt < 100; attempt += 1) {
    try {
      const stats = await s.runOnce();
      if (stats.events === 0) return rejections;
    } catch {
      rejections += 1;
    }
  }
  throw new Error('the source never caught up');
}

describe('FileSource when a commit fails', () => {
  it('reads a failed batch again: a backlog is stored whole, once, and no checkpoint passes an unstored line', async () => {
    const log = new NumberedLog(path.join(dir, 'audit.log'));
    await writeFile(log.file, '');
    const numbers = await log.append(120);
    // Failures in the middle of the backlog, one of them twice in a row.
    const ingestor = new FlakyIngestor(log, (call) => [4, 5, 11, 19].includes(call));
    const rejections = await drain(source({ file: log.file, ingestor }));
    expect(rejections).toBe(4);
    expect(ingestor.storedNumbers()).toEqual(numbers);
    expect(ingestor.violations).toEqual([]);
    expect(ingestor.checkpoints.at(-1)?.offset).toBe(log.size);
  });

  it('loses nothing when the file is rotated by copytruncate while commits fail', async () => {
    const log = new NumberedLog(path.join(dir, 'audit.log'));
    await writeFile(log.file, '');
    const before = await log.append(20);
    let down = false;
    const ingestor = new FlakyIngestor(log, () => down);
    const s = source({ file: log.file, ingestor });
    await drain(s);
    // The database goes away; lines are read, their commit fails, and more are written.
    down = true;
    const during = await log.append(15);
    await expect(s.runOnce()).rejects.toThrow();
    const unread = await log.append(15);
    // logrotate's copytruncate: the copy holds everything, the file starts again empty.
    await copyFile(log.file, `${log.file}.1`);
    await truncate(log.file, 0);
    log.restart();
    const after = await log.append(5);
    down = false;
    await drain(s);
    expect(ingestor.storedNumbers()).toEqual([...before, ...during, ...unread, ...after]);
    expect(ingestor.violations).toEqual([]);
  });

  it('keeps the events of a failed idle flush and flushes them again after the next pause', async () => {
    const clock = new ManualClock();
    const log = new NumberedLog(path.join(dir, 'audit.log'));
    await writeFile(log.file, '');
    // No end-of-event record: the parser holds the event until the file has been quiet a while.
    await log.append(1, { withoutEoe: true });
    const ingestor = new FlakyIngestor(log, (call) => call === 2);
    const s = source({ file: log.file, ingestor, clock });
    await s.runOnce();
    expect(ingestor.stored.size).toBe(0);
    clock.advance(6000);
    await expect(s.runOnce()).rejects.toThrow(/statement timeout/);
    expect(ingestor.stored.size).toBe(0);
    await s.runOnce();
    clock.advance(6000);
    await s.runOnce();
    expect(ingestor.storedNumbers()).toEqual([1]);
    expect(ingestor.checkpoints.at(-1)?.offset).toBe(log.size);
    expect(ingestor.violations).toEqual([]);
  });

  it('backs off while commits fail, logs the outage once, and resumes by itself', async () => {
    const lines: Array<{ level: string; message: string }> = [];
    const logger = createLogger({ level: 'debug', write: (line) => void lines.push(JSON.parse(line) as { level: string; message: string }) });
    const log = new NumberedLog(path.join(dir, 'audit.log'));
    await writeFile(log.file, '');
    const numbers = await log.append(30);
    const ingestor = new FlakyIngestor(log, (call) => call >= 2 && call <= 8);
    const s = source({ file: log.file, ingestor, logger });
    s.start(60_000);
    await eventually(() => ingestor.stored.size === numbers.length, 'every event to be stored');
    expect(ingestor.failures).toBe(7);
    expect(ingestor.storedNumbers()).toEqual(numbers);
    expect(ingestor.violations).toEqual([]);
    expect(lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual(['reading source failed; retrying with back-off']);
    expect(lines.filter((l) => l.message === 'source resumed')).toHaveLength(1);
  });
});

describe('FileSource following a file', () => {
  it('reads a line appended to a watched file without waiting for the poll interval', async () => {
    const log = new NumberedLog(path.join(dir, 'audit.log'));
    await writeFile(log.file, '');
    await log.append(1);
    const ingestor = new FlakyIngestor(log, () => false);
    // A poll interval far beyond the test's patience: only a change notification, or the end of
    // the wait after a rotation, can wake it.
    source({ file: log.file, ingestor, rotateWaitMs: 300 }).start(600_000);
    await eventually(() => ingestor.stored.size === 1, 'the first event');
    const appendedAt = Date.now();
    await log.append(1);
    await eventually(() => ingestor.stored.size === 2, 'the appended event', 3000);
    expect(Date.now() - appendedAt).toBeLessThan(1000);
    // A rotation by rename and the new file are seen as promptly.
    await rename(log.file, `${log.file}.1`);
    log.restart();
    await writeFile(log.file, '');
    const rotatedAt = Date.now();
    await log.append(1);
    await eventually(() => ingestor.stored.size === 3, 'the event in the new file', 3000);
    // The new file is started once the old one has been quiet for the rotation wait.
    expect(Date.now() - rotatedAt).toBeGreaterThanOrEqual(300);
    expect(Date.now() - rotatedAt).toBeLessThan(1300);
    expect(ingestor.violations).toEqual([]);
  });
});

describe('FileSource after a restart', () => {
  const shadow = (n: number, host: string) =>
    auditdRecords({ login: 'alice', uid: 1000, runAs: 'root', runAsUid: 0, argv: ['cat', '/etc/shadow', `#${n}`], cwd: '/root', host }, new Date(Date.UTC(2026, 0, 1, 0, 0, n)), 7000 + n, 30_000 + n)
      .trimEnd()
      .split('\n');

  it("does not count again what the lines it reads again held: a stored event's end, a malformed line", async () => {
    const file = path.join(dir, 'audit.log');
    const clock = new ManualClock(new Date('2026-01-01T00:01:00Z'));
    const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock });
    const open = () =>
      new FileSource({
        source: { name: 'audit', type: 'auditd', path: file, token: null, host: null },
        ingestor,
        db: store.db,
        clock,
        logger: silentLogger,
        retry: { initialMs: 2, maxMs: 10 },
      });
    // Event 1 closes after event 2 began, and a damaged line lies between; event 2 is still open
    // at the end of the file, so the durable checkpoint stays at its first line.
    const [s1, ...rest1] = shadow(1, 'db-1');
    const [s2, ...rest2] = shadow(2, 'db-2');
    await writeFile(file, [s1, s2, 'type=SYSCALL msg=audit(garbage', ...rest1, ''].join('\n'));
    const first = open();
    await first.runOnce();
    const malformed = () => store.db.selectFrom('source_malformed').select(['reason', 'count']).orderBy('reason').execute();
    expect(await malformed()).toEqual([{ reason: 'truncated', count: 1 }]);
    await first.stop();

    // A new process reads again from event 2's first line, then the rest of event 2 comes.
    const second = open();
    sources.push(second);
    await second.runOnce();
    await appendFile(file, [...rest2, ''].join('\n'));
    await second.runOnce();
    expect(await malformed()).toEqual([{ reason: 'truncated', count: 1 }]);
    const stored = await store.db.selectFrom('command_events').select(['event_key', 'login_user']).orderBy('event_key').execute();
    expect(stored.map((row) => [row.event_key.split(':')[0], row.login_user])).toEqual([
      ['db-1', 'alice'],
      ['db-2', 'alice'],
    ]);
  });
});

describe('FileSource start_at', () => {
  const line = (n: number) => auditdRecords({ login: 'alice', uid: 1000, runAs: 'root', runAsUid: 0, argv: ['cat', '/etc/shadow', `#${n}`], cwd: '/root', host: 'db-1' }, new Date(Date.UTC(2026, 0, 1, 0, 0, n)), 9000 + n, 40_000 + n);

  async function run(startAt: 'start' | 'end' | undefined, file: string): Promise<string[]> {
    const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock: systemClock });
    const s = new FileSource({ source: { name: `audit-${startAt ?? 'default'}`, type: 'auditd', path: file, token: null, host: null, startAt }, ingestor, db: store.db, clock: systemClock, logger: silentLogger });
    sources.push(s);
    await s.runOnce();
    await appendFile(file, line(3));
    await s.runOnce();
    await s.stop();
    const rows = await store.db.selectFrom('command_events').select(['command']).where('source', '=', `audit-${startAt ?? 'default'}`).orderBy('id').execute();
    return rows.map((row) => row.command);
  }

  it('end: a file never read is read from the lines written after the start, not from what it held', async () => {
    const file = path.join(dir, 'end.log');
    await writeFile(file, line(1) + line(2));
    expect(await run('end', file)).toEqual(['cat /etc/shadow #3']);
  });

  it('start (the default): what the file already holds is read too', async () => {
    const file = path.join(dir, 'start.log');
    await writeFile(file, line(1) + line(2));
    expect(await run(undefined, file)).toEqual(['cat /etc/shadow #1', 'cat /etc/shadow #2', 'cat /etc/shadow #3']);
  });

  it('end: a file read before goes on from its checkpoint after a restart', async () => {
    const file = path.join(dir, 'restart.log');
    await writeFile(file, line(1));
    expect(await run('end', file)).toEqual(['cat /etc/shadow #3']);
    await appendFile(file, line(4));
    const again = new FileSource({ source: { name: 'audit-end', type: 'auditd', path: file, token: null, host: null, startAt: 'end' }, ingestor: new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock: systemClock }), db: store.db, clock: systemClock, logger: silentLogger });
    sources.push(again);
    await again.runOnce();
    const rows = await store.db.selectFrom('command_events').select(['command']).where('source', '=', 'audit-end').orderBy('id').execute();
    expect(rows.map((row) => row.command)).toEqual(['cat /etc/shadow #3', 'cat /etc/shadow #4']);
  });
});
