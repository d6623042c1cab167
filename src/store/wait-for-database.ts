/**
 * Waiting for the database at start: a service restarted during an outage (a host reboot, an OOM
 * kill, a deploy while Postgres fails over) must come up by itself once the database is back, as
 * a running one resumes, instead of exiting and staying down until someone restarts it.
 */
import type { Logger } from '../logger.js';
import { classifyDatabaseError } from './database-errors.js';
import { realSleep, retryTransient } from './retry-transient.js';

/** The first wait after a failed attempt; it doubles up to MAX_WAIT_MS (with jitter, as every retry here). */
export const FIRST_WAIT_MS = 1000;
export const MAX_WAIT_MS = 30_000;

export interface WaitOptions {
  logger: Logger;
  /** Replaced by tests; the real one is a timer. */
  sleep?: (ms: number) => Promise<void>;
  firstWaitMs?: number;
  maxWaitMs?: number;
}

/**
 * Runs `attempt` until it succeeds, waiting between attempts that failed for a reason that
 * passes (the database unreachable, restarting, refusing sessions, a connection lost midway; see
 * classifyDatabaseError), each wait logged with what failed. Any other failure (a wrong password,
 * a database that does not exist, a broken migration) is the configuration's or the code's to
 * fix: thrown at once, so the start fails with its message. retryTransient with no end to its runs.
 */
export async function untilDatabaseAnswers<T>(what: string, attempt: () => Promise<T>, options: WaitOptions): Promise<T> {
  const policy = { attempts: Number.POSITIVE_INFINITY, baseDelayMs: options.firstWaitMs ?? FIRST_WAIT_MS, maxDelayMs: options.maxWaitMs ?? MAX_WAIT_MS };
  return retryTransient(() => attempt(), policy, {
    sleep: options.sleep ?? realSleep,
    random: Math.random,
    isTransient: passes,
    onRetry: ({ attempt: failures, delayMs, error }) =>
      options.logger.warn(`database not ready (${what}); trying again`, { attempt: failures, retryInMs: delayMs, error: error as Error }),
  });
}

/** A failure that passes by itself, looked for through the errors that wrap it (DatabaseError, MigrationError). */
function passes(error: unknown): boolean {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (classifyDatabaseError(current) === 'transient') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
