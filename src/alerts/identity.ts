import type { Kysely } from 'kysely';
import type { ChatPort } from '../chat/chat-port.js';
import type { Clock } from '../clock.js';
import type { IdentityConfig } from '../config/config.js';
import type { Database } from '../store/schema.js';

/** Who to ask about a login, on which channels. */
export interface Owner {
  login: string;
  email: string | null;
  /** Null when no chat user could be found: the alert escalates as unknown_owner. */
  chatUserId: string | null;
  /** The second-factor account (Duo username). */
  secondFactorUser: string;
}

/**
 * Maps a login user to chat and second-factor identities: `identity.users` overrides first, then
 * login@email_domain looked up in chat. Lookups are cached in the identities table for `ttlMs`,
 * so a burst of alerts for one person costs one chat API call.
 */
export class IdentityResolver {
  constructor(
    private readonly options: { config: IdentityConfig; chat: ChatPort; db: Kysely<Database>; clock: Clock; ttlMs: number },
  ) {}

  async resolve(login: string): Promise<Owner> {
    // The login comes from a log line: only the configuration's own entries count.
    const users = this.options.config.users;
    const override = Object.hasOwn(users, login) ? (users[login] ?? {}) : {};
    const secondFactorUser = override.duo ?? login;
    const email = override.email ?? (this.options.config.emailDomain ? `${login}@${this.options.config.emailDomain}` : null);
    if (override.slack) return { login, email, chatUserId: override.slack, secondFactorUser };
    if (!email) return { login, email: null, chatUserId: null, secondFactorUser };
    return { login, email, chatUserId: await this.lookup(login, email), secondFactorUser };
  }

  /**
   * The person's time zone from chat (Slack's `tz`), cached in their identities row for the same
   * TTL as the identity itself. Null when chat does not say: the caller then does not defer.
   */
  async timeZone(login: string, chatUserId: string): Promise<string | null> {
    const { db, clock, ttlMs, chat } = this.options;
    const now = clock.now();
    const cached = await db.selectFrom('identities').select(['time_zone', 'time_zone_resolved_at', 'chat_user_id']).where('login', '=', login).executeTakeFirst();
    const fresh = cached?.time_zone_resolved_at && cached.chat_user_id === chatUserId && now.getTime() - cached.time_zone_resolved_at.getTime() < ttlMs;
    if (fresh) return cached.time_zone;
    const timeZone = await chat.userTimeZone(chatUserId);
    await db
      .insertInto('identities')
      .values({ login, email: null, chat_user_id: chatUserId, resolved_at: now, time_zone: timeZone, time_zone_resolved_at: now })
      .onConflict((oc) => oc.column('login').doUpdateSet({ time_zone: timeZone, time_zone_resolved_at: now }))
      .execute();
    return timeZone;
  }

  /** The chat user to tell when `login` does not answer (`identity.users.<login>.manager`), or null. */
  async managerOf(login: string): Promise<string | null> {
    const users = this.options.config.users;
    const manager = Object.hasOwn(users, login) ? users[login]?.manager : undefined;
    if (!manager) return null;
    if (/^[UW][A-Z0-9]{2,}$/.test(manager)) return manager;
    return (await this.resolve(manager)).chatUserId;
  }

  private async lookup(login: string, email: string): Promise<string | null> {
    const { db, clock, ttlMs, chat } = this.options;
    const now = clock.now();
    const cached = await db.selectFrom('identities').selectAll().where('login', '=', login).executeTakeFirst();
    if (cached && cached.email === email && cached.chat_user_id && now.getTime() - cached.resolved_at.getTime() < ttlMs) {
      return cached.chat_user_id;
    }
    const chatUserId = await chat.lookupUserByEmail(email);
    await db
      .insertInto('identities')
      .values({ login, email, chat_user_id: chatUserId, resolved_at: now })
      .onConflict((oc) => oc.column('login').doUpdateSet({ email, chat_user_id: chatUserId, resolved_at: now }))
      .execute();
    return chatUserId;
  }
}
