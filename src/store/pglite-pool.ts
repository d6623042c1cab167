import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/** One queue per PGlite instance, shared by every pool over it. */
const queues = new WeakMap<PGlite, { tail: Promise<void> }>();

/**
 * Presents an embedded PGlite database as the small pool interface kysely's Postgres dialect needs.
 * PGlite is one connection, so it is lent to one borrower at a time: a transaction holds it from
 * BEGIN to COMMIT and other queries wait, exactly as they would for a pool of size one. Several
 * pools may share one instance, each in its own schema (tests isolate themselves this way).
 */
export class PGlitePool implements PostgresPool {
  constructor(
    private readonly db: PGlite,
    private readonly options: {
      schema?: string;
      closeOnEnd: boolean;
      /** Called once the instance is closed by end() (e.g. to give up the lock on its files). */
      onClosed?: () => void;
    } = { closeOnEnd: true },
  ) {
    if (!queues.has(db)) queues.set(db, { tail: Promise.resolve() });
  }

  async connect(): Promise<PostgresPoolClient> {
    const queue = queues.get(this.db) as { tail: Promise<void> };
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    const previous = queue.tail;
    queue.tail = previous.then(() => turn);
    await previous;
    const db = this.db;
    try {
      if (this.options.schema) await db.exec(`set search_path to "${this.options.schema.replace(/"/g, '""')}"`);
    } catch (error) {
      // A borrower that never got its client must still hand the turn on, or every later one waits forever.
      release();
      throw error;
    }
    let released = false;
    const client = {
      async query<R>(sqlText: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
        const result = await db.query<R>(sqlText, [...parameters]);
        return {
          command: commandOf(sqlText),
          rowCount: result.affectedRows ?? result.rows.length,
          rows: result.rows,
        };
      },
      release() {
        if (released) return;
        released = true;
        release();
      },
    };
    return client as unknown as PostgresPoolClient;
  }

  async end(): Promise<void> {
    await queues.get(this.db)?.tail;
    if (!this.options.closeOnEnd) return;
    try {
      await this.db.close();
    } finally {
      this.options.onClosed?.();
    }
  }
}

/**
 * The statement's command tag, which kysely uses to report affected rows. Statements that start
 * with WITH report as SELECT; code that needs their row count uses RETURNING.
 */
function commandOf(sqlText: string): PostgresQueryResult<unknown>['command'] {
  const match = /^\s*(\w+)/.exec(sqlText);
  const word = (match?.[1] ?? '').toUpperCase();
  return (['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'SELECT'].includes(word) ? word : 'SELECT') as PostgresQueryResult<unknown>['command'];
}
