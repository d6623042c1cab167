import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import { deleteConsoleSession, deleteExpiredConsoleSessions, findConsoleSession, insertConsoleSession, touchConsoleSession } from '../../store/queries/console-sessions.js';
import type { Database, StoredSignedInPerson } from '../../store/schema.js';

/** A session as found: who it is, its CSRF token and the hash it is stored under. */
export interface FoundSession {
  idHash: string;
  person: StoredSignedInPerson;
  csrfToken: string;
}

/**
 * Last-seen is written at most this often, so reading pages does not cost a write each; with a
 * short idle timeout, at least four times per timeout, so a session in use never idles out.
 */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Console sessions in Postgres. The browser holds a random 32-byte id; the table holds only its
 * sha256, so reading the table (a backup, a replica) signs nobody in. A session ends when idle
 * longer than `idleMs`, `maxAgeMs` after sign-in, or at sign-out, and an ended one is deleted.
 */
export class ConsoleSessionStore {
  constructor(private readonly options: { db: Kysely<Database>; clock: Clock; idleMs: number; maxAgeMs: number }) {}

  /** Starts a session; returns the id for the cookie (never stored as such). */
  async create(person: StoredSignedInPerson): Promise<{ id: string; csrfToken: string }> {
    const id = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const now = this.options.clock.now();
    // Ended sessions are swept as new ones start, so the table holds about the live ones.
    await deleteExpiredConsoleSessions(this.options.db, now, this.options.idleMs);
    await insertConsoleSession(this.options.db, { idHash: hashId(id), person, csrfToken, now, expiresAt: new Date(now.getTime() + this.options.maxAgeMs) });
    return { id, csrfToken };
  }

  /** The live session for a cookie's id, or null; an expired one is deleted on the way. */
  /** The people with a session that has not ended (at most 1,000), each once. */
  async signedInPeople(): Promise<StoredSignedInPerson[]> {
    const rows = await this.options.db.selectFrom('console_sessions').select('identity').where('expires_at', '>', this.options.clock.now()).limit(1000).execute();
    const byActor = new Map(rows.map((row) => [row.identity.actor, row.identity]));
    return [...byActor.values()];
  }

  async find(id: string): Promise<FoundSession | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const idHash = hashId(id);
    const row = await findConsoleSession(this.options.db, idHash);
    if (!row) return null;
    const now = this.options.clock.now();
    const idleSince = now.getTime() - row.last_seen_at.getTime();
    if (row.expires_at <= now || idleSince >= this.options.idleMs) {
      await deleteConsoleSession(this.options.db, idHash);
      return null;
    }
    if (idleSince >= Math.min(TOUCH_INTERVAL_MS, this.options.idleMs / 4)) await touchConsoleSession(this.options.db, idHash, now);
    return { idHash, person: row.identity, csrfToken: row.csrf_token };
  }

  async end(id: string): Promise<void> {
    await deleteConsoleSession(this.options.db, hashId(id));
  }
}

/** The stored form of a random id (session or sign-in): its sha256, hex. */
export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}
