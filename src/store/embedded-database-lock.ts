import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { DatabaseInUseError } from '../errors.js';
import { PRIVATE_FILE_MODE } from '../private-files.js';
import { liveness, thisProcess, type ProcessIdentity } from '../process-identity.js';

/** Who holds the lock, as its file says. */
export interface LockHolder extends ProcessIdentity {
  /** When it took the lock (ISO 8601). */
  since: string;
}

export interface EmbeddedDatabaseLock {
  /** The lock file, `<database directory>.lock`. */
  readonly file: string;
  /** Gives the lock up (removing the file only while it is still this one's). Idempotent. */
  release(): void;
}

/** How many times a lock found stale is broken and taken again before giving up. */
const ATTEMPTS = 5;
/** How long to wait for another process breaking a stale lock at the same moment. */
const RETRY_PAUSE_MS = 50;
/** A lock file with no readable holder younger than this is being written; older, it is debris. */
const UNREADABLE_GRACE_MS = 5000;

/** Lock files this process holds, with the text it wrote in each (released at exit at the latest). */
const held = new Map<string, string>();
let releaseAtExit = false;

/**
 * Takes the lock of the embedded database in `dir` for as long as it is open: PGlite admits one
 * process, and a second one opening the same files (another `vouch start`, a `vouch migrate`
 * beside a running service) corrupts them, so committed rows are lost after a crash. The lock is
 * a file beside the directory, created exclusively (a hard link of a complete file, so nobody
 * ever reads half of it) and naming its holder. A lock whose holder is gone (killed with -9, a
 * crash, a reboot; a pid now someone else's) is broken and taken; one whose holder may still run
 * is not, and this throws DatabaseInUseError naming the directory and the pid.
 */
export function lockEmbeddedDatabase(dir: string): EmbeddedDatabaseLock {
  const file = `${dir}.lock`;
  const text = `${JSON.stringify({ ...thisProcess(), since: new Date().toISOString() } satisfies LockHolder)}\n`;
  let unreadable = false;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (createExclusively(file, text)) return holdLock(file, text);
    const found = readLock(file);
    if (found === null) continue;
    const verdict = judge(file, found);
    if (verdict === 'stale') {
      if (!breakStaleLock(file, found.text, text)) pause(RETRY_PAUSE_MS);
      continue;
    }
    if (found.holder !== null) throw inUse(dir, file, found.holder, verdict);
    // Being written (only where the file system has no hard links): look again in a moment.
    unreadable = true;
    pause(RETRY_PAUSE_MS);
  }
  if (unreadable) throw inUse(dir, file, null, 'unknown');
  throw new DatabaseInUseError(dir, 0, `cannot take the lock ${file} of the embedded database in ${dir}: other processes keep taking it; try again`);
}

/** The live holder of the embedded database in `dir`, or null when nobody (alive) holds it. */
export function embeddedDatabaseHolder(dir: string): LockHolder | null {
  const found = readLock(`${dir}.lock`);
  return found !== null && found.holder !== null && judge(`${dir}.lock`, found) !== 'stale' ? found.holder : null;
}

type Verdict = 'this-process' | 'running' | 'unknown' | 'stale';

function judge(file: string, found: { holder: LockHolder | null; ageMs: number }): Verdict {
  const { holder } = found;
  if (holder === null) return found.ageMs < UNREADABLE_GRACE_MS ? 'unknown' : 'stale';
  const me = thisProcess();
  if (holder.pid === me.pid && holder.host === me.host) {
    // This pid without this process's lock is an earlier process that had the same pid (pid 1 in a container).
    return held.get(file) === undefined ? 'stale' : 'this-process';
  }
  const state = liveness(holder);
  return state === 'gone' ? 'stale' : state;
}

function holdLock(file: string, text: string): EmbeddedDatabaseLock {
  held.set(file, text);
  if (!releaseAtExit) {
    releaseAtExit = true;
    // An exit without the store closed (process.exit on an error) must not leave the lock to be judged stale later.
    process.once('exit', () => {
      for (const [heldFile, heldText] of held) removeIfStill(heldFile, heldText);
    });
  }
  return {
    file,
    release() {
      if (held.get(file) !== text) return;
      held.delete(file);
      removeIfStill(file, text);
    },
  };
}

/**
 * Creates `file` with `text` unless it exists. The text is written to a file of its own first and
 * linked into place, so the lock never exists half-written; a file system without hard links
 * falls back to an exclusive create.
 */
function createExclusively(file: string, text: string): boolean {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, text, { mode: PRIVATE_FILE_MODE });
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    return writeExclusively(file, text);
  } finally {
    unlinkQuietly(temporary);
  }
}

function writeExclusively(file: string, text: string): boolean {
  try {
    writeFileSync(file, text, { flag: 'wx', mode: PRIVATE_FILE_MODE });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The lock file's text and holder (null when unreadable), or null when there is no lock file. */
function readLock(file: string): { text: string; holder: LockHolder | null; ageMs: number } | null {
  let text: string;
  let ageMs: number;
  try {
    text = readFileSync(file, 'utf8');
    ageMs = Date.now() - statSync(file).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return { text, holder: parseHolder(text), ageMs };
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string' || typeof value.since !== 'string') return null;
    return { pid: value.pid, host: value.host, start: typeof value.start === 'string' ? value.start : null, since: value.since };
  } catch {
    return null;
  }
}

/**
 * Removes a stale lock, unless another process got there first. Breaking is itself guarded by an
 * exclusive `<lock>.break` file: without it, two processes that both found the same stale lock
 * could each remove it, the second removing the fresh lock the first had just taken. A guard left
 * by a process that crashed while breaking is removed once its holder is gone. False when the
 * guard was someone else's (the caller waits a moment and looks again).
 */
function breakStaleLock(file: string, staleText: string, text: string): boolean {
  const guard = `${file}.break`;
  if (!createExclusively(guard, text)) {
    const breaker = readLock(guard);
    if (breaker !== null && judge(guard, breaker) === 'stale') removeIfStill(guard, breaker.text);
    return false;
  }
  try {
    removeIfStill(file, staleText);
  } finally {
    unlinkQuietly(guard);
  }
  return true;
}

/** Removes `file` if it still holds `text`: never a lock another process has taken meanwhile. */
function removeIfStill(file: string, text: string): void {
  try {
    if (readFileSync(file, 'utf8') === text) unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function inUse(dir: string, file: string, holder: LockHolder | null, verdict: Exclude<Verdict, 'stale'>): DatabaseInUseError {
  const pid = holder?.pid ?? 0;
  const who = holder === null ? 'another process (its lock is being written)' : describeHolder(holder, verdict);
  const ways = 'Stop that process first, or give this one another data directory (database.data_dir, VOUCH_DATA_DIR) or a Postgres database (database.url, DATABASE_URL)';
  // Only where nothing proves the holder alive: removing the lock of a running service is the corruption it prevents.
  const debris =
    verdict === 'unknown' && holder !== null
      ? ` If no vouch process runs as pid ${holder.pid} on ${holder.host} (a crash can leave the lock behind, and its pid be reused), remove ${file}.`
      : '';
  return new DatabaseInUseError(
    dir,
    pid,
    `the embedded database in ${dir} is in use by ${who}: PGlite admits one process, and a second one would corrupt it. ${ways}.${debris}`,
  );
}

function describeHolder(holder: LockHolder, verdict: 'this-process' | 'running' | 'unknown'): string {
  if (verdict === 'this-process') return `this process (pid ${holder.pid}), which opened it already`;
  const host = holder.host === thisProcess().host ? '' : ` on ${holder.host}`;
  return `another process (pid ${holder.pid}${host}, since ${holder.since})`;
}
