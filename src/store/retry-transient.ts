import { DatabaseUnavailableError } from '../errors.js';
import { classifyDatabaseError } from './database-errors.js';

/** How often, and how patiently, work that failed for a transient reason is run again. */
export interface RetryPolicy {
  /** Runs in all, the first included. Default 5. */
  attempts: number;
  /** Delay before the first retry; doubled each time. Default 200 ms. */
  baseDelayMs: number;
  /** Longest delay between two runs. Default 5 s. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 5000 };

/** What retrying needs from the outside world; injected so tests never really wait. */
export interface RetryEnvironment {
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1); Math.random by default. */
  random: () => number;
  /** Told about each failure that will be retried. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Whether a failure is worth another run; default: classifyDatabaseError says `transient`. */
  isTransient?: (error: unknown) => boolean;
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The delay before retry `attempt` (1 for the first): exponential, capped, with "equal jitter"
 * (half fixed, half random) so replicas that failed together do not retry together.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Runs `work`, running it again from the start when it fails for a transient reason
 * (classifyDatabaseError), up to `policy.attempts` runs in all. Any other failure is thrown at
 * once. When the transient failures outlast the retries, throws DatabaseUnavailableError with the
 * last failure as its cause.
 */
export async function retryTransient<T>(work: (attempt: number) => Promise<T>, policy: RetryPolicy, env: RetryEnvironment): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work(attempt);
    } catch (error) {
      if (!(env.isTransient ? env.isTransient(error) : classifyDatabaseError(error) === 'transient')) throw error;
      if (attempt >= policy.attempts) {
        throw new DatabaseUnavailableError(`the database is unavailable (${attempt} attempts): ${(error as Error).message}`, { cause: error });
      }
      const delayMs = retryDelayMs(policy, attempt, env.random);
      env.onRetry?.({ attempt, delayMs, error });
      await env.sleep(delayMs);
    }
  }
}
