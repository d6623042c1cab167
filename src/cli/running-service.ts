import { existsSync, readFileSync } from 'node:fs';
import { VouchError } from '../errors.js';
import { serviceFilePath } from '../service.js';

export interface RunningServiceInfo {
  url: string;
  /** The review API's bearer token. */
  token: string;
  pid: number;
}

/**
 * The service that recorded itself in the data directory (it does so on embedded PGlite, which
 * only one process can open), when its process is still alive.
 */
export function runningService(dataDir: string): RunningServiceInfo | null {
  const file = serviceFilePath(dataDir);
  if (!existsSync(file)) return null;
  let info: { url?: unknown; token?: unknown; pid?: unknown };
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as typeof info;
  } catch {
    return null;
  }
  if (typeof info.pid !== 'number' || typeof info.url !== 'string' || typeof info.token !== 'string') return null;
  try {
    process.kill(info.pid, 0);
  } catch (error) {
    // EPERM: alive but another user's; ESRCH: gone (a crash left the file behind).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return { url: info.url, token: info.token, pid: info.pid };
}

/**
 * Throws while a live service holds the embedded database in `dataDir`, which only one process can
 * open. `instead` tells the operator what else to do; by default, stop the service and retry.
 */
export function refuseWhileServiceRuns(dataDir: string, instead?: (running: RunningServiceInfo) => string): void {
  const running = runningService(dataDir);
  if (!running) return;
  throw new VouchError(
    'request_invalid',
    `the service is running (pid ${running.pid}) on the embedded database, which only one process can open. ` +
      (instead ? instead(running) : 'Stop the service and run this again.'),
  );
}
