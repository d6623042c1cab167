import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { PGlitePool } from '../../src/store/pglite-pool.js';

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms))]);

describe('PGlitePool', () => {
  it('hands the turn on when preparing a client fails, so later borrowers get an error, not a wait forever', async () => {
    const db = new PGlite();
    await db.waitReady;
    const pool = new PGlitePool(db, { schema: 'some_schema', closeOnEnd: false });
    const client = await pool.connect();
    client.release();
    await db.close();
    await expect(within(pool.connect(), 5000)).rejects.not.toThrow(/still waiting/);
    await expect(within(pool.connect(), 5000)).rejects.not.toThrow(/still waiting/);
  });
});
