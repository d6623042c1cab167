import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { ConsoleSessionStore } from '../../../src/review/console/console-session-store.js';
import { createTestStore, type TestStore } from '../../helpers/test-store.js';

const DANA = { actor: 'dana@example.com', name: 'Dana', groups: [] };

describe('console sessions', () => {
  let store: TestStore;
  const clock = new ManualClock(new Date('2026-11-24T09:00:00Z'));
  beforeEach(async () => {
    store = await createTestStore();
  });
  afterEach(async () => {
    await store.destroy();
  });

  it('a session in use never idles out, even with an idle timeout under a minute', async () => {
    const sessions = new ConsoleSessionStore({ db: store.db, clock, idleMs: 60_000, maxAgeMs: 8 * 3600_000 });
    const { id } = await sessions.create(DANA);
    for (let i = 0; i < 6; i += 1) {
      clock.advance(50_000);
      expect(await sessions.find(id)).toMatchObject({ person: DANA });
    }
    // Left alone past the timeout, it ends.
    clock.advance(61_000);
    expect(await sessions.find(id)).toBeNull();
  });
});
