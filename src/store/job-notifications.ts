import pg from 'pg';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { JOBS_CHANNEL } from './queries/jobs.js';

export interface JobNotificationsOptions {
  /** The Postgres URL (the pool's own; a dedicated connection is opened for LISTEN). */
  url: string;
  /** Called on each notification, and after every (re)connect, since notifications sent while disconnected are lost. */
  onNotify: () => void;
  logger: Logger;
  /** Longest wait between reconnect attempts. Default 30 s. */
  maxReconnectMs?: number;
}

export interface JobNotifications {
  close(): Promise<void>;
}

/**
 * LISTENs on the jobs channel over a dedicated connection, so a replica starts work another one
 * scheduled at once instead of at its next poll. A lost connection is reconnected with backoff;
 * the poll timer covers the gap, so nothing waits longer than a poll interval.
 */
export function listenForJobs(options: JobNotificationsOptions): JobNotifications {
  const maxReconnectMs = options.maxReconnectMs ?? 30_000;
  let client: pg.Client | null = null;
  let closed = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | null = null;

  const scheduleReconnect = () => {
    if (closed || retryTimer) return;
    const delay = Math.min(maxReconnectMs, 500 * 2 ** Math.min(failures, 10));
    failures += 1;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      void connect();
    }, delay);
    retryTimer.unref();
  };

  const connect = async () => {
    if (closed) return;
    const next = new pg.Client({ connectionString: options.url, application_name: 'vouch-listen', keepAlive: true });
    // Without a listener an `error` event would be an uncaught exception; a lost connection reconnects.
    next.on('error', (error) => {
      options.logger.warn('job notifications connection lost; reconnecting', { error: coerceError(error) });
      void next.end().catch(() => undefined);
      if (client === next) client = null;
      scheduleReconnect();
    });
    next.on('end', () => {
      if (client === next) client = null;
      scheduleReconnect();
    });
    next.on('notification', () => options.onNotify());
    try {
      await next.connect();
      await next.query(`LISTEN ${JOBS_CHANNEL}`);
    } catch (error) {
      options.logger.warn('cannot listen for job notifications; polling meanwhile', { error: coerceError(error) });
      await next.end().catch(() => undefined);
      scheduleReconnect();
      return;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    failures = 0;
    options.onNotify();
  };

  void connect();
  return {
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
    },
  };
}
