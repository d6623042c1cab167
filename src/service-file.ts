import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseInUseError } from './errors.js';
import { PRIVATE_FILE_MODE, makePrivateDir } from './private-files.js';
import { liveness, thisProcess, type ProcessIdentity } from './process-identity.js';

/**
 * What the service on embedded PGlite writes to `<data_dir>/service.json`: PGlite admits one
 * process, so the CLI asks the running service (`vouch report` uses its API) instead of opening
 * the files. `host` and `start` are absent from files written before they were recorded.
 */
export interface ServiceRecord extends Partial<Omit<ProcessIdentity, 'pid'>> {
  url: string;
  /** The review API's bearer token. */
  token: string;
  pid: number;
}

export function serviceFilePath(dataDir: string): string {
  return path.join(dataDir, 'service.json');
}

/** The service file's record, or null when there is none or it is unreadable. */
export function readServiceFile(dataDir: string): ServiceRecord | null {
  const file = serviceFilePath(dataDir);
  if (!existsSync(file)) return null;
  let value: Partial<Record<keyof ServiceRecord, unknown>>;
  try {
    value = JSON.parse(readFileSync(file, 'utf8')) as typeof value;
  } catch {
    return null;
  }
  if (typeof value.pid !== 'number' || typeof value.url !== 'string' || typeof value.token !== 'string') return null;
  return {
    url: value.url,
    token: value.token,
    pid: value.pid,
    ...(typeof value.host === 'string' ? { host: value.host } : {}),
    ...(typeof value.start === 'string' || value.start === null ? { start: value.start } : {}),
  };
}

/**
 * Records this process as the service running on the data directory, readable only by this
 * user (it holds the token), and returns the function that removes the record again. It never
 * overwrites the record of another process that may still run (DatabaseInUseError), and the
 * removal leaves the file alone once it names someone else.
 */
export function writeServiceFile(dataDir: string, url: string, token: string): () => void {
  makePrivateDir(dataDir, { recursive: false });
  const file = serviceFilePath(dataDir);
  const me = thisProcess();
  const existing = readServiceFile(dataDir);
  if (existing !== null && existing.pid !== me.pid && liveness(existing) !== 'gone') {
    throw new DatabaseInUseError(
      dataDir,
      existing.pid,
      `${file} names another running vouch (pid ${existing.pid}, ${existing.url}) on the embedded database in ${dataDir}: ` +
        `stop that one first, or give this one another data directory (database.data_dir, VOUCH_DATA_DIR). If pid ${existing.pid} is not vouch, remove ${file}.`,
    );
  }
  const record: ServiceRecord = { url, token, ...me };
  // Written aside and renamed into place: a reader never sees half a file.
  const temporary = `${file}.${me.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, `${JSON.stringify(record)}\n`, { mode: PRIVATE_FILE_MODE });
  renameSync(temporary, file);
  return () => {
    const current = readServiceFile(dataDir);
    if (current !== null && current.pid === me.pid && current.start === me.start && current.url === url) rmSync(file, { force: true });
  };
}
