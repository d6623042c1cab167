import { describe, expect, it } from 'vitest';
import { alertShortCode } from '../../src/alerts/short-code.js';
import { PagerDutySimulator } from '../../src/sandbox/pagerduty-simulator.js';
import { sandboxState, type SandboxAlert, type SandboxState } from '../../src/sandbox/sandbox-state.js';
import { ALICE, BOB, EVE, Harness, harnessPerTest, SECURITY_CHANNEL, waitFor, type HarnessOptions } from './harness.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ROUTING_KEY = 'R0UT1NGKEY0000000000000000000000';
const KERNEL = 'Attribution: auditd (kernel record)';

/**
 * The sandbox page's snapshot over a whole service driven by a manual clock: what the page says
 * of a question held for working hours, one waiting behind another, the reminders, the contact,
 * a critical alert's heads-up and its page.
 */
describe('the sandbox state tells what the quiet engine is doing', () => {
  const harness = harnessPerTest();
  let h: Harness;
  const start = async (options: HarnessOptions) => (h = await harness.start(options));

  function state(): Promise<SandboxState> {
    return sandboxState({ slack: h.slack, duo: h.duo, store: h.service.store, securityChannel: SECURITY_CHANNEL, clock: h.clock });
  }

  function alertOf(current: SandboxState, owner: string, command: string): SandboxAlert {
    const found = current.alerts.find((alert) => alert.owner === owner && alert.command === command);
    if (!found) throw new Error(`no alert of ${owner} for ${command}: ${JSON.stringify(current.alerts.map((a) => [a.owner, a.command]))}`);
    return found;
  }

  const notes = (alert: SandboxAlert, kind: string) => alert.notes.filter((note) => note.kind === kind).map((note) => note.text);

  it('a deferred question, one waiting behind another, reminders sent, the next step and the manager told', async () => {
    await start({
      workflowYaml:
        'workflow: { reminders: [30m, 90m], escalation_contact: manager, contact_after: 2h, escalate_after: 3h, push_timeout: 90s, working_hours: "09:00-18:00 Mon-Fri" }',
      identityYaml: ['  users: { alice: { manager: bob } }'],
      timeZones: { bob: 'America/New_York' },
    });
    // 09:00 UTC on a Tuesday. Alice's high question goes out at once (with a second command of the
    // same session in it); bob's medium one waits for his morning in New York.
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    h.runCommand(ALICE, ['nc', '-lvnp', '4444']);
    h.runCommand(BOB, ['tcpdump', '-i', 'eth0']);
    await h.settle();
    // Another session of alice's, asked while her first question is open: it waits its turn.
    h.runCommand(ALICE, ['tcpdump', '-i', 'eth0'], { host: 'db-2', session: 9 });
    await h.settle();

    let current = await state();
    const shadow = alertOf(current, 'alice', 'cat /etc/shadow');
    const code = alertShortCode(shadow.id);
    expect(shadow).toMatchObject({ status: 'asked', code, conversationId: shadow.id });
    expect(notes(shadow, 'conversation')).toEqual(['2 commands on 1 host, asked as one question']);
    expect(notes(shadow, 'next-step')).toEqual(['Next: reminder 1 Tue 24 Nov, 09:30 UTC (in 30 minutes)']);
    expect(notes(shadow, 'provenance')).toEqual([KERNEL]);
    const member = alertOf(current, 'alice', 'nc -lvnp 4444');
    expect(member.conversationId).toBe(shadow.id);
    expect(notes(member, 'conversation')).toEqual([`Part of question ${code} (cat /etc/shadow on db-1)`]);

    const behind = alertOf(current, 'alice', 'tcpdump -i eth0');
    expect(behind.status).toBe('new');
    expect(notes(behind, 'waiting')).toEqual([`Not asked yet: waiting behind alice's open question ${code} (cat /etc/shadow on db-1); Vouch asks one question at a time`]);
    const deferred = alertOf(current, 'bob', 'tcpdump -i eth0');
    expect(deferred.status).toBe('new');
    expect(notes(deferred, 'waiting')).toEqual([
      "Not asked yet: waiting for bob's working hours (09:00-18:00 Mon-Fri); asked Tue 24 Nov, 09:00 America/New_York (in 5 hours)",
    ]);

    // Two reminders, then the manager (bob) hears of it; the deadline is what comes next.
    // In the ladder's own steps, so each runs at its time (one jump would run them all at its end).
    for (const step of [30 * MINUTE, HOUR, 30 * MINUTE]) await h.advance(step);
    current = await state();
    const waited = alertOf(current, 'alice', 'cat /etc/shadow');
    expect(waited.status).toBe('asked');
    expect(notes(waited, 'reminders')).toEqual(['2 reminders sent, the last Tue 24 Nov, 10:30 UTC']);
    expect(notes(waited, 'contact')).toEqual(['Escalation contact told: manager @bob, by direct message, Tue 24 Nov, 11:00 UTC']);
    expect(notes(waited, 'next-step')).toEqual(['Next: escalated to the security team Tue 24 Nov, 12:00 UTC (in 1 hour) if still unanswered']);
    expect(notes(alertOf(current, 'bob', 'tcpdump -i eth0'), 'waiting')).toEqual([
      "Not asked yet: waiting for bob's working hours (09:00-18:00 Mon-Fri); asked Tue 24 Nov, 09:00 America/New_York (in 3 hours)",
    ]);

    // The deadline escalates alice's conversation; the one behind it is asked at once.
    await h.advance(HOUR);
    current = await state();
    const escalated = alertOf(current, 'alice', 'cat /etc/shadow');
    expect(escalated.status).toBe('escalated');
    expect(notes(escalated, 'escalation')).toEqual(['Escalated: No answer from the owner (no answer within 3 hours)']);
    expect(notes(escalated, 'next-step')).toEqual([]);
    const next = alertOf(current, 'alice', 'tcpdump -i eth0');
    expect(next.status).toBe('asked');
    expect(notes(next, 'waiting')).toEqual([]);
  });

  it("a critical alert's heads-up in the security channel and its PagerDuty page", async () => {
    const pagerduty = new PagerDutySimulator({ routingKeys: [ROUTING_KEY] });
    const listener = await pagerduty.listen(0);
    harness.closeAfter(() => listener.close());
    await start({ extraYaml: [`pagerduty: { routing_key: ${ROUTING_KEY}, api_url: ${listener.url} }`] });
    h.runCommand(EVE, ['systemctl', 'stop', 'auditd']);
    await h.settle();
    let critical = alertOf(await state(), 'eve', 'systemctl stop auditd');
    expect(critical.severity).toBe('critical');
    expect(notes(critical, 'heads-up')).toEqual(['Critical: heads-up posted in the security channel Tue 24 Nov, 09:00 UTC']);
    expect(notes(critical, 'page')).toEqual([]);

    const row = await h.alert(critical.id);
    await h.click(EVE, row, 'vouch.deny');
    await waitFor(async () => (await h.alert(critical.id)).paged_at !== null, 'the page triggered');
    await h.settle();
    critical = alertOf(await state(), 'eve', 'systemctl stop auditd');
    expect(notes(critical, 'escalation')).toEqual(['Escalated: Owner says it was not them (the owner said they did not run this command)']);
    expect(notes(critical, 'heads-up')).toEqual(['Critical: heads-up posted in the security channel Tue 24 Nov, 09:00 UTC; the outcome is in its thread']);
    expect(notes(critical, 'page')).toEqual(['PagerDuty incident triggered Tue 24 Nov, 09:00 UTC; open until a reviewer marks the alert reviewed']);
  });

  it('shows control, bidi and zero-width characters of a command as visible escapes', async () => {
    await start({});
    h.runCommand(ALICE, ['cat', '/etc/shadow', '\u202eevil\u200b\x1b[2J']);
    await h.settle();
    const [alert] = (await state()).alerts;
    expect(alert?.command).toBe('cat /etc/shadow \\u202eevil\\u200b\\x1b[2J');
    for (const note of alert?.notes ?? []) expect(note.text).not.toMatch(/[\u202e\u200b\x1b]/);
  });
});
