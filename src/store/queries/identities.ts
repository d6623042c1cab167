import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The cached chat time zones of these logins; a login without one is absent. */
export async function cachedTimeZones(db: Db, logins: readonly string[]): Promise<Map<string, string>> {
  if (logins.length === 0) return new Map();
  const rows = await db.selectFrom('identities').select(['login', 'time_zone']).where('login', 'in', logins).where('time_zone', 'is not', null).execute();
  return new Map(rows.flatMap((row) => (row.time_zone ? [[row.login, row.time_zone] as const] : [])));
}
