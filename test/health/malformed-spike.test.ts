import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatPort } from '../../src/chat/chat-port.js';
import { ManualClock } from '../../src/clock.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { silentLogger } from '../../src/logger.js';
import { openNotices } from '../../src/store/queries/health.js';
import { countMalformed } from '../../src/store/queries/sources.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

/** The two calls a health round makes; the rest of the port is never reached. */
const chat = {
  postHealthNotice: async () => ({ channel: 'C0SECURITY', ts: '1.0' }),
  postHealthRecovery: async () => ({ channel: 'C0SECURITY', ts: '2.0' }),
} as unknown as ChatPort;

const config = { silentAfterMs: 0, malformedSpike: 150, quietAfterMs: 30 * 60_000 };

describe('malformed-line spikes under cron jitter', () => {
  let store: TestStore;
  let clock: ManualClock;
  let monitor: HealthMonitor;
  beforeEach(async () => {
    store = await createTestStore();
    clock = new ManualClock();
    monitor = new HealthMonitor({ db: store.db, chat, clock, logger: silentLogger, config });
  });
  afterEach(async () => store.destroy());

  /** A round fired by cron at `iso`, after `lines` unrecognized lines since the last one. */
  async function roundAt(iso: string, lines = 0): Promise<void> {
    if (lines > 0) await countMalformed(store.db, 'audit', 'unrecognized', lines, 'garbage', clock.now());
    clock.set(new Date(iso));
    await monitor.runOnce();
  }
  const spikes = async () => (await openNotices(store.db)).filter((notice) => notice.kind === 'malformed_spike');

  it('sees a spike of one minute when this round starts a millisecond earlier than the last', async () => {
    await roundAt('2026-11-24T15:00:00.005Z');
    await roundAt('2026-11-24T15:01:00.004Z', 151);
    expect(await spikes()).toMatchObject([{ host: 'audit', detail: expect.stringMatching(/^151 malformed lines a minute/) }]);
  });

  it('sees a spike of one minute when this round starts seconds late, after a slow digest round', async () => {
    await roundAt('2026-11-24T15:00:00.002Z');
    await roundAt('2026-11-24T15:01:03.500Z', 151);
    expect(await spikes()).toMatchObject([{ host: 'audit', detail: expect.stringMatching(/^151 malformed lines a minute/) }]);
  });

  it('opens nothing for the threshold itself, early or late', async () => {
    await roundAt('2026-11-24T15:00:00.005Z');
    await roundAt('2026-11-24T15:01:00.001Z', 150);
    await roundAt('2026-11-24T15:02:00.009Z', 150);
    expect(await spikes()).toEqual([]);
  });

  it('skips a second replica in the same minute without moving the baseline', async () => {
    await roundAt('2026-11-24T15:00:00.005Z');
    await roundAt('2026-11-24T15:00:00.040Z', 100);
    await roundAt('2026-11-24T15:00:59.999Z', 51);
    expect(await spikes()).toHaveLength(1);
  });

  it('averages over the minutes when rounds were missed', async () => {
    await roundAt('2026-11-24T15:00:00.005Z');
    await roundAt('2026-11-24T15:02:59.998Z', 300);
    expect(await spikes()).toEqual([]);
  });
});
