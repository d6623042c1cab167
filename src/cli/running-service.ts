import { VouchError } from '../errors.js';
import { liveness } from '../process-identity.js';
import { readServiceFile } from '../service-file.js';

export interface RunningServiceInfo {
  url: string;
  /** The review API's bearer token. */
  token: string;
  pid: number;
}

/**
 * The service that recorded itself in the data directory (it does so on embedded PGlite, which
 * only one process can open), while it may still run: a record whose process is gone (a crash
 * left the file behind, and perhaps its pid to another process) is ignored.
 */
export function runningService(dataDir: string): RunningServiceInfo | null {
  const record = readServiceFile(dataDir);
  if (record === null || liveness(record) === 'gone') return null;
  return { url: record.url, token: record.token, pid: record.pid };
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
