import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';

/**
 * What Vouch keeps on disk is this user's alone, whatever the database: the embedded database
 * holds every alert and answer, the service file the review token, the sandbox's demo log every
 * command typed on its page. Directories are 0700 and files 0600.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and its missing parents) private, and tightens it when it exists open, as an
 * earlier version or a hand-made `mkdir` left it; with `recursive`, everything below it too.
 * It also sets the process umask to 077, and leaves it set: PGlite creates its files 0666 (now
 * and later: WAL segments, relations) and an append creates its file with the umask, so the
 * umask is what keeps the files written from now on private.
 */
export function makePrivateDir(dir: string, options: { recursive: boolean }): void {
  process.umask(0o077);
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    restrictToOwner(dir, options.recursive);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'EACCES' && code !== 'EROFS') throw error;
    // Everything Vouch keeps lives under the data directory: name the key and the fix, not a stack.
    const where = (error as NodeJS.ErrnoException).path ?? dir;
    throw new ConfigError(
      'database.data_dir',
      `cannot make ${where} private (${code}: it belongs to another user or is read-only); give it to the user Vouch runs as (chown), or choose another VOUCH_DATA_DIR`,
    );
  }
}

/**
 * chmod 0700 on a directory (and, when recursive, on those below it) and 0600 on its files.
 * Symbolic links are left alone: following one could change a file outside the data directory.
 */
export function restrictToOwner(target: string, recursive: boolean): void {
  const stat = lstatSync(target);
  if (stat.isSymbolicLink()) return;
  if (!stat.isDirectory()) {
    if ((stat.mode & 0o777) !== PRIVATE_FILE_MODE) chmodSync(target, PRIVATE_FILE_MODE);
    return;
  }
  if ((stat.mode & 0o777) !== PRIVATE_DIR_MODE) chmodSync(target, PRIVATE_DIR_MODE);
  if (!recursive) return;
  for (const entry of readdirSync(target)) restrictToOwner(path.join(target, entry), true);
}
