import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { claimDueJobs, countFailedJobs, failedJobs, scheduleJob, type JobKind } from '../../src/store/queries/jobs.js';
import type { JobRow } from '../../src/store/schema.js';
import { newAlertId } from '../../src/workflow/alert-intake.js';
import { JobRunner, type JobContext, type JobRunnerOptions } from '../../src/workflow/job-runner.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

const T0 = new Date('2026-11-24T15:00:00Z');

/** A promise with its resolve, so a test decides when a job finishes. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('JobRunner', () => {
  let store: TestStore;
  const clock = new ManualClock(T0);
  const runners: JobRunner[] = [];

  async function alertWithJob(kind: JobKind = 'ask', runAt = T0): Promise<string> {
    const id = newAlertId();
    await store.db
      .insertInto('alerts')
      .values({
        id, event_id: null, status: 'new', owner: 'alice', host: 'db-1', command: 'cat /etc/shadow', run_as: 'root', cwd: '/',
        occurred_at: T0, rule_id: 'shadow-read', rule_name: 'Read of password hashes', severity: 'high', attack: JSON.stringify([]),
        dedupe_key: id, chat_user_id: null, dm_channel: null, dm_ts: null, asked_at: null, reminded_at: null, answered_at: null,
        justification: null, second_factor_user: null, push_txid: null, push_started_at: null, second_factor: null, escalation_reason: null,
        escalation_detail: null, escalation_channel: null, escalation_ts: null, resolved_at: null, reviewed_by: null, reviewed_at: null,
        review_note: null, created_at: T0, updated_at: T0, conversation_id: id,
      })
      .execute();
    await scheduleJob(store.db, id, kind, runAt);
    return id;
  }

  function runner(handle: (job: JobRow, context: JobContext) => Promise<void>, options: Partial<JobRunnerOptions> = {}): JobRunner {
    const made = new JobRunner({ db: store.db, clock, logger: silentLogger, handle, ...options });
    runners.push(made);
    return made;
  }

  const jobsLeft = async () => store.db.selectFrom('jobs').selectAll().orderBy('id').execute();

  beforeEach(async () => {
    store = await createTestStore();
  });

  afterEach(async () => {
    for (const made of runners.splice(0)) await made.stop();
    await store.destroy();
  });

  it('gives each job its own slot: a slow job holds up nobody, and a freed slot claims at once', async () => {
    const slow = await alertWithJob();
    const held = gate();
    const finished: string[] = [];
    const jobs = runner(async (job) => {
      if (job.alert_id === slow) await held.promise;
      finished.push(job.alert_id);
    }, { concurrency: 2 });
    jobs.wake();
    await until(() => jobs.running === 1, 'the slow job to start');
    // Work scheduled while the slow job runs starts without waiting for it.
    const quick = await alertWithJob();
    jobs.wake();
    await until(() => finished.includes(quick), 'the quick job');
    expect(finished).toEqual([quick]);
    held.open();
    await jobs.idle();
    expect(finished).toEqual([quick, slow]);
    expect(await jobsLeft()).toEqual([]);
  });

  it('never runs more jobs at once than its concurrency', async () => {
    for (let i = 0; i < 7; i += 1) await alertWithJob();
    let running = 0;
    let most = 0;
    const jobs = runner(async () => {
      running += 1;
      most = Math.max(most, running);
      await sleep(20);
      running -= 1;
    }, { concurrency: 3 });
    expect(await jobs.runOnce()).toBe(7);
    expect(most).toBe(3);
  });

  it('renews the lease of a running job, so another replica never takes it while it runs', async () => {
    await alertWithJob();
    const held = gate();
    const first = runner(async () => held.promise, { leaseMs: 150 });
    const secondRuns: number[] = [];
    const second = runner(async (job) => void secondRuns.push(job.id), { leaseMs: 150 });
    first.wake();
    await until(() => first.running === 1, 'the job to start');
    for (let i = 0; i < 8; i += 1) {
      await sleep(60);
      second.wake();
      await second.idle();
    }
    expect(secondRuns).toEqual([]);
    held.open();
    await first.idle();
    expect(await jobsLeft()).toEqual([]);
  });

  it('renews every third of the lease however short it is, so a renewal never comes after the lease ran out', async () => {
    await alertWithJob();
    const held = gate();
    const timers = vi.spyOn(globalThis, 'setInterval');
    try {
      const jobs = runner(async () => held.promise, { leaseMs: 30 });
      jobs.wake();
      await until(() => jobs.running === 1, 'the job to start');
      expect(timers).toHaveBeenCalledWith(expect.any(Function), 10);
    } finally {
      timers.mockRestore();
      held.open();
    }
  });

  it("takes over a crashed worker's job when its lease runs out, and counts it", async () => {
    await alertWithJob();
    // A worker claims the job and dies without finishing or renewing.
    expect(await claimDueJobs(store.db, { worker: 'crashed', now: T0, leaseMs: 100, limit: 10 })).toHaveLength(1);
    const expired: string[] = [];
    const ran: string[] = [];
    const jobs = runner(async (job) => void ran.push(job.kind), { events: { failed: () => {}, exhausted: () => {}, leaseExpired: (kind) => void expired.push(kind) } });
    await jobs.runOnce();
    expect(ran).toEqual([]);
    await sleep(150);
    await jobs.runOnce();
    expect(ran).toEqual(['ask']);
    expect(expired).toEqual(['ask']);
  });

  it('a reschedule while the job runs keeps it locked, and the new schedule runs after', async () => {
    const id = await alertWithJob('poll');
    const held = gate();
    let runs = 0;
    const first = runner(async () => {
      runs += 1;
      if (runs === 1) await held.promise;
    });
    const secondRuns: string[] = [];
    const second = runner(async (job) => void secondRuns.push(job.kind));
    first.wake();
    await until(() => first.running === 1, 'the job to start');
    await scheduleJob(store.db, id, 'poll', T0);
    const [row] = await jobsLeft();
    expect(row?.locked_by).toBe(first.worker);
    second.wake();
    await second.idle();
    expect(secondRuns).toEqual([]);
    held.open();
    await until(() => runs === 2, 'the rescheduled run');
    await first.idle();
    expect(await jobsLeft()).toEqual([]);
  });

  it('a job that keeps failing is retried with backoff, then handed to onExhausted once and parked, never deleted', async () => {
    const id = await alertWithJob('notify_security');
    const exhausted: Array<{ kind: string; error: string }> = [];
    const counted = { failed: 0, exhausted: 0 };
    const jobs = runner(async () => {
      throw new Error('Slack chat.postMessage failed: channel_not_found');
    }, {
      maxAttempts: 3,
      onExhausted: async (job, error) => void exhausted.push({ kind: job.kind, error: error.message }),
      events: { failed: () => void (counted.failed += 1), exhausted: () => void (counted.exhausted += 1), leaseExpired: () => {} },
    });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await jobs.runOnce();
      clock.advance(10 * 60_000);
    }
    expect(exhausted).toEqual([{ kind: 'notify_security', error: 'Slack chat.postMessage failed: channel_not_found' }]);
    expect(counted).toEqual({ failed: 3, exhausted: 1 });
    const [parked] = await jobsLeft();
    expect(parked).toMatchObject({ alert_id: id, kind: 'notify_security', locked_by: null, attempts: 3 });
    expect(parked?.failed_at).toBeInstanceOf(Date);
    expect(parked?.last_error).toMatch(/channel_not_found/);
    // Parked, it is tried again later; failing again does not escalate twice.
    clock.advance(16 * 60_000);
    await jobs.runOnce();
    expect(exhausted).toHaveLength(1);
    expect(await jobsLeft()).toHaveLength(1);
  });

  it('runs that fail on a database fault do not use up its attempts: a long lock does not escalate what then succeeds', async () => {
    const id = await alertWithJob('poll');
    const exhausted: string[] = [];
    let runs = 0;
    const jobs = runner(async () => {
      runs += 1;
      // Each run waits on a table lock past the lock timeout, as under a long ALTER TABLE.
      if (runs <= 5) throw Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });
    }, { maxAttempts: 3, onExhausted: async (job) => void exhausted.push(job.kind) });
    for (let run = 0; run < 5; run += 1) {
      await jobs.runOnce();
      const [row] = await jobsLeft();
      expect(row).toMatchObject({ alert_id: id, attempts: 0, failed_at: null });
      clock.advance(10 * 60_000);
    }
    await jobs.runOnce();
    expect(runs).toBe(6);
    expect(exhausted).toEqual([]);
    expect(await jobsLeft()).toEqual([]);
  });

  it('an escalation that throws is made again after the next failed run, until one returns; only then is the job marked failed', async () => {
    await alertWithJob('notify_security');
    let calls = 0;
    let abandoned = 0;
    const jobs = runner(async () => {
      throw new Error('Slack chat.postMessage failed: channel_not_found');
    }, {
      maxAttempts: 2,
      onExhausted: async () => {
        calls += 1;
        if (calls === 1) throw new Error('Connection terminated unexpectedly');
      },
      events: { failed: () => {}, exhausted: () => void (abandoned += 1), leaseExpired: () => {} },
    });
    await jobs.runOnce();
    clock.advance(10 * 60_000);
    await jobs.runOnce();
    expect({ calls, abandoned }).toEqual({ calls: 1, abandoned: 0 });
    const [unmarked] = await jobsLeft();
    expect(unmarked).toMatchObject({ attempts: 2, failed_at: null, locked_by: null });
    // Not yet marked, but /metrics, /healthz and doctor count it already: its escalation is what failed.
    expect(await countFailedJobs(store.db, 2)).toEqual([{ kind: 'notify_security', count: 1 }]);
    expect((await failedJobs(store.db, 2)).map((job) => job.id)).toEqual([unmarked!.id]);
    // Due again at the retry pace (2 s after a second attempt), not after a parked retry's 15 min.
    expect(unmarked!.run_at.getTime() - clock.now().getTime()).toBe(2000);
    clock.advance(2000);
    await jobs.runOnce();
    expect(calls).toBe(2);
    const [marked] = await jobsLeft();
    expect(marked?.failed_at).toBeInstanceOf(Date);
    // Escalated now: later parked retries that fail do not escalate again.
    for (let retry = 0; retry < 3; retry += 1) {
      clock.advance(16 * 60_000);
      await jobs.runOnce();
    }
    expect({ calls, abandoned }).toEqual({ calls: 2, abandoned: 1 });
    expect(await jobsLeft()).toMatchObject([{ attempts: 6 }]);
    expect(await countFailedJobs(store.db, 2)).toEqual([{ kind: 'notify_security', count: 1 }]);
    // A reschedule starts the job's attempts over: it no longer counts as failed.
    await scheduleJob(store.db, marked!.alert_id, 'notify_security', clock.now());
    expect(await countFailedJobs(store.db, 2)).toEqual([]);
  });

  it('does not count a job as failed while it has attempts left, nor while it runs its last one', async () => {
    await alertWithJob('notify_security');
    let hold: ReturnType<typeof gate> | null = null;
    let running = false;
    const jobs = runner(async () => {
      running = true;
      if (hold) await hold.promise;
      throw new Error('Slack chat.postMessage failed: ratelimited');
    }, { maxAttempts: 2 });
    await jobs.runOnce();
    expect(await jobsLeft()).toMatchObject([{ attempts: 1, failed_at: null, locked_by: null }]);
    expect(await countFailedJobs(store.db, 2)).toEqual([]);
    hold = gate();
    running = false;
    clock.advance(10 * 60_000);
    const last = jobs.runOnce();
    await until(() => running, 'the last attempt to start');
    expect(await countFailedJobs(store.db, 2)).toEqual([]);
    hold.open();
    await last;
    expect(await countFailedJobs(store.db, 2)).toEqual([{ kind: 'notify_security', count: 1 }]);
  });

  it('aborts the signal of a job whose lease another worker took over', async () => {
    await alertWithJob();
    let signal: AbortSignal | null = null;
    const held = gate();
    const jobs = runner(async (_job, context) => {
      signal = context.signal;
      await held.promise;
    }, { leaseMs: 150 });
    jobs.wake();
    await until(() => signal !== null, 'the job to start');
    // Another worker steals the row (as after a long stall past the lease).
    await store.db.updateTable('jobs').set({ locked_by: 'someone-else', locked_until: new Date(Date.now() + 3600_000) }).execute();
    await until(() => signal!.aborted, 'the abort');
    held.open();
    await jobs.idle();
    // The finished run may not delete or release what it no longer holds.
    expect((await jobsLeft())[0]?.locked_by).toBe('someone-else');
  });
});
