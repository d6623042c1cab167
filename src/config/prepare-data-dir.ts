import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { makePrivateDir } from '../private-files.js';

/**
 * Creates the data directory (`database.data_dir`, VOUCH_DATA_DIR) when it is missing, makes it
 * private to this user when it exists open (see makePrivateDir: whatever the database, the
 * service file and the sandbox's files live there), and checks that it can be written. A path
 * that cannot be one (it runs through a file, or this user may not create, own or write it) is a
 * ConfigError naming the key, what is in the way, and the fix, instead of the file system's
 * ENOTDIR, EPERM or EACCES from deep inside the store.
 */
export function prepareDataDir(dataDir: string): void {
  try {
    makePrivateDir(dataDir, { recursive: false });
    accessSync(dataDir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new ConfigError(
      'database.data_dir',
      `cannot use ${dataDir} as the data directory: ${obstacle(dataDir, error as NodeJS.ErrnoException)}; ` +
        'set database.data_dir (VOUCH_DATA_DIR) to a directory this user may create and write, or database.url (DATABASE_URL) to use Postgres',
    );
  }
}

/** What stands in the way, in words: the file a directory should be, or the missing permission. */
function obstacle(dataDir: string, error: NodeJS.ErrnoException): string {
  const existing = nearestExisting(dataDir);
  if (existing !== null && !statSync(existing).isDirectory()) return `${existing} is a file, not a directory`;
  // chmod is refused (EPERM) on a directory of another user's, even a writable one.
  if (existing === dataDir && process.getuid && statSync(dataDir).uid !== process.getuid()) {
    return 'it belongs to another user, and only its owner may make it private (0700)';
  }
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    return existing === dataDir ? 'this user may not write to it' : `this user may not create directories in ${existing ?? dataDir}`;
  }
  if (error.code === 'EROFS') return `${existing ?? dataDir} is on a read-only file system`;
  return error.code ?? error.message;
}

/** The path itself or its closest ancestor that exists (null if even the root cannot be read). */
function nearestExisting(target: string): string | null {
  for (let current = target; ; current = path.dirname(current)) {
    try {
      statSync(current);
      return current;
    } catch {
      if (path.dirname(current) === current) return null;
    }
  }
}
