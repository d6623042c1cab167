import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync } from 'node:fs';
import { auditdRecords } from '../../src/sandbox/demo-log.js';
import { ALICE, Harness, waitFor } from './harness.js';

/** Report windows against a log time the log writer chose (forged, a clock at 1970, a backlog). */
describe('report windows and log times', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await new Harness().start();
  });
  afterEach(async () => {
    await h.stop();
  });

  let serial = 4000;
  function runAt(argv: string[], time: Date, session: number): void {
    serial += 1;
    appendFileSync(h.logPath, auditdRecords({ login: 'alice', uid: ALICE.uid, runAs: 'root', runAsUid: 0, argv, cwd: '/root', host: 'db-1', session }, time, serial, 6000 + serial));
  }
  const api = async (query: string) =>
    (await (await fetch(`${h.service.url}/api/alerts${query}`, { headers: { authorization: `Bearer ${h.service.reviewToken}` } })).json()) as Array<{ command: string; status: string }>;

  it('an alert raised and escalated today is in today\'s report whatever time its log claims', async () => {
    runAt(['cat', '/etc/shadow'], new Date('2001-01-01T00:00:00Z'), 5);
    await h.settle();
    const [lead] = await h.alerts();
    await h.click(ALICE, lead!, 'vouch.deny');
    await waitFor(async () => (await h.alert(lead!.id)).status === 'escalated', 'escalation');
    await h.settle();
    runAt(['nc', '-l', '4444'], new Date('2100-01-01T00:00:00Z'), 6);
    await h.settle();
    const lastDay = await api('?since=24h');
    expect(lastDay.map((row) => row.command).sort()).toEqual(['cat /etc/shadow', 'nc -l 4444']);
    expect((await api('?status=escalated&since=7d')).map((row) => row.command)).toEqual(['cat /etc/shadow']);
    const until = new Date(h.clock.now().getTime() + 60_000).toISOString();
    expect((await api(`?since=1h&until=${until}`)).map((row) => row.command).sort()).toEqual(['cat /etc/shadow', 'nc -l 4444']);
    // What neither clock puts in the window stays out.
    expect(await api('?since=2026-01-01&until=2026-02-01')).toEqual([]);
    expect((await api('?since=2000-12-31&until=2001-01-02')).map((row) => row.command)).toEqual(['cat /etc/shadow']);
  });
});
