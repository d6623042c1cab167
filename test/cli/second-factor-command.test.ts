import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openConfiguredStore } from '../../src/cli/open-store.js';
import { resumeCommand } from '../../src/cli/second-factor-command.js';
import { loadConfig } from '../../src/config/load-config.js';
import { insertAlert } from '../../src/store/queries/alerts.js';
import { auditTrailFor } from '../../src/store/queries/audit-trail.js';
import { activePauses, pauseSecondFactor } from '../../src/store/queries/second-factor.js';

describe('vouch second-factor resume', () => {
  it('ends the pause a fraud report put on a person, records who did, and refuses a name with no pause', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vouch-resume-'));
    const config = loadConfig({ env: { VOUCH_DATA_DIR: path.join(dir, 'data') } });
    const at = new Date('2026-11-24T09:00:00Z');
    const setup = await openConfiguredStore(config, { migrate: true });
    await insertAlert(setup.db, {
      id: 'al_fraud', status: 'escalated', owner: 'alice', host: 'db-1', command: 'cat /etc/shadow', occurred_at: at,
      rule_id: 'shadow-read', rule_name: 'Read of password hashes', severity: 'high', attack: '[]', dedupe_key: 'k', conversation_id: 'al_fraud', created_at: at, updated_at: at,
    });
    await pauseSecondFactor(setup.db, { username: 'alice.smith', login: 'alice', alertId: 'al_fraud', reason: 'fraud_reported', at });
    await setup.close();

    await expect(resumeCommand(config, 'alice', {})).rejects.toThrow(/--by: required/);
    await expect(resumeCommand(config, 'bob', { by: 'dana' })).rejects.toThrow(/pushes to bob are not paused/);
    // The login finds the pause of the Duo account behind it.
    expect(await resumeCommand(config, 'alice', { by: 'dana', note: 'new phone' })).toMatch(/^resumed pushes to alice\.smith \(paused 2026-11-24T09:00:00\.000Z by alert al_fraud\)\n$/);

    const check = await openConfiguredStore(config, { migrate: false });
    try {
      expect(await activePauses(check.db)).toEqual([]);
      const step = (await auditTrailFor(check.db, 'al_fraud')).find((s) => s.action === 'second_factor_resumed');
      expect(step).toMatchObject({ actor: 'dana', detail: { username: 'alice.smith', note: 'new phone' } });
    } finally {
      await check.close();
    }
  }, 60_000);
});
