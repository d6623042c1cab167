import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DatabaseInUseError } from '../../src/errors.js';
import { identityOf } from '../../src/process-identity.js';
import { openDatabase, type VouchDatabase } from '../../src/store/database.js';
import { embeddedDatabaseHolder, lockEmbeddedDatabase } from '../../src/store/embedded-database-lock.js';

const onLinux = existsSync('/proc/self/stat');

/** The error `run` throws (it must throw a DatabaseInUseError). */
async function refusal(run: () => unknown): Promise<DatabaseInUseError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof DatabaseInUseError) return error;
    throw error;
  }
  throw new Error('expected a DatabaseInUseError');
}

/** A pid that was a process a moment ago and is none now (it exited and was reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

/**
 * PGlite admits one process: a second opening the same files (a second `vouch start`, a
 * `vouch migrate` beside a running service) corrupts them. The embedded database is locked while
 * open; a lock whose holder is gone (kill -9, a crash, its pid now another process's) is taken.
 */
describe('the embedded database is locked while open', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'vouch-lock-'));
  const children: ChildProcess[] = [];
  let count = 0;
  const newDir = () => path.join(root, `db-${++count}`);
  const writeLock = (dir: string, holder: Record<string, unknown>) =>
    writeFileSync(`${dir}.lock`, `${JSON.stringify({ since: '2026-12-01T00:00:00.000Z', ...holder })}\n`);

  /** A live process other than this one. */
  const otherProcess = async (): Promise<ChildProcess & { pid: number }> => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    return child as ChildProcess & { pid: number };
  };

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a second opening while the first is open, naming the directory and the pid, and admits one after it closed', async () => {
    const dir = newDir();
    const first = await openDatabase({ url: null, dataDir: dir });
    const error = await refusal(() => openDatabase({ url: null, dataDir: dir }));
    expect(error.code).toBe('database_in_use');
    expect(error.holderPid).toBe(process.pid);
    expect(error.message).toContain(`the embedded database in ${dir} is in use by this process (pid ${process.pid})`);
    await first.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);
    const second: VouchDatabase = await openDatabase({ url: null, dataDir: dir });
    await second.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    await second.close();
  }, 60_000);

  it.skipIf(!onLinux)('refuses while another live process holds it, without offering to remove its lock', async () => {
    const dir = newDir();
    const other = await otherProcess();
    writeLock(dir, { ...identityOf(other.pid) });
    const error = await refusal(() => lockEmbeddedDatabase(dir));
    expect(error.holderPid).toBe(other.pid);
    expect(error.message).toContain(`the embedded database in ${dir} is in use by another process (pid ${other.pid}, since 2026-12-01T00:00:00.000Z)`);
    expect(error.message).toContain('Stop that process first, or give this one another data directory (database.data_dir, VOUCH_DATA_DIR)');
    expect(error.message).not.toContain('remove');
    expect(embeddedDatabaseHolder(dir)).toMatchObject({ pid: other.pid });
  });

  it('takes over the lock of a process that is gone (kill -9, a crash)', () => {
    const dir = newDir();
    writeLock(dir, { pid: deadPid(), host: hostname(), start: null });
    expect(embeddedDatabaseHolder(dir)).toBeNull();
    const lock = lockEmbeddedDatabase(dir);
    expect(JSON.parse(readFileSync(lock.file, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
  });

  it.skipIf(!onLinux)('takes over a lock whose pid now belongs to another process (pid reuse)', async () => {
    const dir = newDir();
    const other = await otherProcess();
    writeLock(dir, { pid: other.pid, host: hostname(), start: `${identityOf(other.pid).start}0` });
    lockEmbeddedDatabase(dir).release();
  });

  it('takes over a lock naming this pid but left by an earlier process (pid 1 in a container at every start)', () => {
    const dir = newDir();
    writeLock(dir, { pid: process.pid, host: hostname(), start: 'an-earlier-boot:1' });
    lockEmbeddedDatabase(dir).release();
  });

  it.skipIf(!onLinux)('refuses a lock it cannot judge (a live pid without a start time, another host), saying how to remove it', async () => {
    const other = await otherProcess();
    const cases = [
      { holder: { pid: other.pid, host: hostname(), start: null }, names: `pid ${other.pid}, since` },
      { holder: { pid: 1, host: 'db-host-2', start: 'boot:1' }, names: 'pid 1 on db-host-2, since' },
    ];
    for (const { holder, names } of cases) {
      const dir = newDir();
      writeLock(dir, holder);
      const error = await refusal(() => lockEmbeddedDatabase(dir));
      expect(error.message).toContain(names);
      expect(error.message).toContain(`If no vouch process runs as pid ${holder.pid} on ${holder.host} (a crash can leave the lock behind, and its pid be reused), remove ${dir}.lock.`);
    }
  });

  it('breaks a stale lock even when a process that crashed while breaking one left its guard behind', () => {
    const dir = newDir();
    writeLock(dir, { pid: deadPid(), host: hostname(), start: null });
    writeFileSync(`${dir}.lock.break`, JSON.stringify({ pid: deadPid(), host: hostname(), start: null, since: '2026-12-01T00:00:00.000Z' }));
    const lock = lockEmbeddedDatabase(dir);
    expect(existsSync(`${dir}.lock.break`)).toBe(false);
    lock.release();
  });

  it('releases only its own lock: a lock file another process has taken meanwhile stays', () => {
    const dir = newDir();
    const lock = lockEmbeddedDatabase(dir);
    writeLock(dir, { pid: 1, host: 'db-host-2', start: null });
    lock.release();
    expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8'))).toMatchObject({ host: 'db-host-2' });
  });
});
