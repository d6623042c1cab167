/**
 * Where the sandbox's identity provider keeps its own artifacts (its sessions, codes, tokens):
 * memory, on purpose. It is the sandbox's stand-in for a company's SSO; everything that matters
 * to Vouch (console sessions, reviews) lives in Postgres, and a restart only means signing in at
 * the provider again. This is oidc-provider's adapter contract, kept to what a code flow uses.
 */
type Payload = Record<string, unknown> & { uid?: string; userCode?: string; grantId?: string; consumed?: number };

interface Entry {
  payload: Payload;
  expiresAt: number;
}

export function sandboxIdentityStore(): new (model: string) => SandboxIdentityStoreModel {
  const entries = new Map<string, Entry>();
  const live = (key: string): Payload | undefined => {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  const find = (model: string, test: (payload: Payload) => boolean): Payload | undefined => {
    for (const key of entries.keys()) {
      const payload = key.startsWith(`${model}:`) ? live(key) : undefined;
      if (payload && test(payload)) return payload;
    }
    return undefined;
  };
  return class implements SandboxIdentityStoreModel {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: Payload, expiresIn: number): Promise<void> {
      entries.set(`${this.model}:${id}`, { payload, expiresAt: Date.now() + expiresIn * 1000 });
    }

    async find(id: string): Promise<Payload | undefined> {
      return live(`${this.model}:${id}`);
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      return find(this.model, (payload) => payload.uid === uid);
    }

    async findByUserCode(userCode: string): Promise<Payload | undefined> {
      return find(this.model, (payload) => payload.userCode === userCode);
    }

    async consume(id: string): Promise<void> {
      const payload = live(`${this.model}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id: string): Promise<void> {
      entries.delete(`${this.model}:${id}`);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(key);
    }
  };
}

export interface SandboxIdentityStoreModel {
  upsert(id: string, payload: Payload, expiresIn: number): Promise<void>;
  find(id: string): Promise<Payload | undefined>;
  findByUid(uid: string): Promise<Payload | undefined>;
  findByUserCode(userCode: string): Promise<Payload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}
