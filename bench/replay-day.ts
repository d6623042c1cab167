/**
 * The replay benchmark: a generated working day (bench/replay-day-plan.ts) written to the audit
 * log in time order and replayed through the real service in process against the Slack and Duo
 * simulators, with simulated engineers answering their DMs. It measures what people see: DMs per
 * person, channel posts by kind, attacks missed, reminders, and what clearing an activity costs;
 * and, on a fresh service, how many DMs a burst of hits gives each person in its first minute.
 */
import type { DemoCommand } from '../src/sandbox/demo-log.js';
import type { SimulatedMessage } from '../src/sandbox/slack-simulator.js';
import type { AlertRow } from '../src/store/schema.js';
import { planDay, truthKey, type CommandLabel, type DayPlan, type Engineer, type PlannedCommand } from './replay-day-plan.js';
import { startReplayWorld, type ReplayWorld } from './replay-world.js';
import { SeededRandom } from './seeded-random.js';

export interface ReplayBenchOptions {
  /** Postgres to run on (a schema of its own); null for an in-memory PGlite. */
  databaseUrl: string | null;
  seed: number;
  /** About this many commands in the day. */
  commands: number;
  /** Hosts in the fleet; default 25. */
  hosts?: number;
  /** The burst: this many hits, spread over this many people. */
  burstHits: number;
  burstPeople: number;
  log: (message: string) => void;
}

/** The owner's goals, as figures. */
export const REPLAY_GOALS = {
  maxDmsPerEngineer: 3,
  /** Top-level channel posts that are not escalations (digests, health notices, anything else). */
  maxOtherPostsPerDay: 3,
  maxBurstDmsPerPersonPerMinute: 5,
  clearing: { clicks: 2, sentences: 1, taps: 1 },
} as const;

export interface ActivityCost {
  activity: string;
  alerts: number;
  conversations: number;
  /** Alerts per conversation, in the order they started (e.g. `1, 6, 6`). */
  conversationSizes: string;
  questions: number;
  clicks: number;
  sentences: number;
  taps: number;
  /** Every alert of the activity ended verified. */
  cleared: boolean;
  /** Where its alerts ended, e.g. `verified: 24, escalated: 1`. */
  outcomes: string;
}

export interface AttackOutcome {
  attack: string;
  commands: number;
  alerts: number;
  /** Commands counted on escalated alerts (a repeat folded into an alert adds an occurrence). */
  escalatedCommands: number;
  /** Some command raised no alert, or its alert ended anything but escalated. */
  missed: boolean;
  outcomes: string;
  reasons: string;
}

export interface ReplayDayResult {
  commands: number;
  hosts: number;
  engineers: number;
  alerts: number;
  /** Question DMs per engineer (login to count), and the highest. */
  dmsPerPerson: Record<string, number>;
  maxDms: number;
  reminders: number;
  /** Top-level posts by kind, and thread replies: "seen again", health recoveries, anything else. */
  posts: { escalation: number; digest: number; health: number; other: number; seenAgain: number; recoveries: number; otherReplies: number };
  /** Escalation posts beyond one per conversation. */
  repeatedEscalationPosts: number;
  /** Escalation posts whose conversation held only legitimate or system commands. */
  escalationsOfLegitimateWork: number;
  attacks: AttackOutcome[];
  attacksMissed: number;
  activities: ActivityCost[];
  /** Conversations that listed an attack beside legitimate commands. */
  mixedConversations: number;
  systemAlerts: number;
  burst: { hits: number; people: number; maxDmsFirstMinute: number; meanDmsFirstMinute: number; seconds: number };
  replaySeconds: number;
}

/** The clock moves this far per step while anything happens, and QUIET_STEP_MS otherwise. */
const STEP_MS = 30_000;
const QUIET_STEP_MS = 120_000;
const MINUTE = 60_000;

export async function runReplayBenchmark(options: ReplayBenchOptions): Promise<ReplayDayResult> {
  const plan = planDay({ seed: options.seed, commands: options.commands, hosts: options.hosts });
  options.log(`replay: ${plan.commands.length} commands on ${plan.hosts.length} hosts by ${plan.engineers.length} engineers`);
  const started = performance.now();
  const world = await startReplayWorld({ databaseUrl: options.databaseUrl, people: plan.engineers, start: plan.day });
  let day: Omit<ReplayDayResult, 'burst' | 'replaySeconds'>;
  try {
    day = await replay(world, plan, new SeededRandom(options.seed + 1));
  } finally {
    await world.stop();
  }
  const replaySeconds = (performance.now() - started) / 1000;
  options.log(`replay: ${day.alerts} alerts, max ${day.maxDms} DMs per engineer, ${day.attacksMissed} attacks missed (${replaySeconds.toFixed(0)} s)`);
  const burst = await runBurst(options);
  options.log(`burst: ${burst.hits} hits from ${burst.people} people, at most ${burst.maxDmsFirstMinute} DMs per person in the first minute`);
  return { ...day, burst, replaySeconds };
}

/** One engineer's view of a question DM: when they will get to it, and whether they did. */
interface QuestionSeen {
  message: SimulatedMessage;
  person: Engineer;
  answerAt: number;
  handled: boolean;
}

/** What answering one question cost, and what it covered when it was answered. */
interface Answer {
  leadId: string;
  labels: CommandLabel[];
  clicks: number;
  sentences: number;
  taps: number;
  expectsPush: boolean;
}

async function replay(world: ReplayWorld, plan: DayPlan, rnd: SeededRandom): Promise<Omit<ReplayDayResult, 'burst' | 'replaySeconds'>> {
  const truth = new Map(plan.commands.map((c) => [truthKey(c.host, c.at), c.label]));
  const labelOf = (alert: AlertRow): CommandLabel => truth.get(truthKey(alert.host, alert.occurred_at)) ?? { kind: 'benign' };
  const seen = new Map<string, QuestionSeen>();
  const answers: Answer[] = [];
  const end = plan.end.getTime();
  let next = 0;
  for (let now = plan.day.getTime(); now <= end; ) {
    const waiting = [...seen.values()].some((q) => !q.handled && availableAt(q.person, now));
    const soon = next < plan.commands.length && plan.commands[next]!.at.getTime() < now + QUIET_STEP_MS;
    const step = waiting || soon || world.duo.pendingPushes().length > 0 ? STEP_MS : QUIET_STEP_MS;
    const batch: Array<{ command: DemoCommand; time: Date }> = [];
    while (next < plan.commands.length && plan.commands[next]!.at.getTime() < now + step) {
      const planned = plan.commands[next]!;
      batch.push({ command: demoCommand(planned), time: planned.at });
      next += 1;
    }
    world.clock.set(new Date(now + step));
    world.write(batch);
    await world.settle();
    noticeQuestions(world, plan.engineers, seen, rnd);
    await answerDue(world, seen, answers, labelOf);
    now += step;
  }
  return figures(world, plan, answers, labelOf);
}

function demoCommand(planned: PlannedCommand): DemoCommand {
  const { login, uid, runAs, runAsUid, argv, cwd, host, session } = planned;
  return { login, uid, runAs, runAsUid, argv, cwd, host, session };
}

const isQuestion = (m: SimulatedMessage) => m.metadata?.event_type === 'vouch_question';
const hourOf = (ms: number) => (ms % 86_400_000) / 3_600_000;
const availableAt = (person: Engineer, ms: number) => person.available.some(([from, to]) => hourOf(ms) >= from && hourOf(ms) < to);

/** Each new question DM gets an answer time: 1 to 8 minutes after the person is next at Slack. */
function noticeQuestions(world: ReplayWorld, engineers: Engineer[], seen: Map<string, QuestionSeen>, rnd: SeededRandom): void {
  const now = world.clock.now().getTime();
  for (const person of engineers) {
    for (const message of world.dm(person).filter(isQuestion)) {
      if (seen.has(message.ts)) continue;
      seen.set(message.ts, { message, person, answerAt: now + rnd.int(1, 8) * MINUTE, handled: false });
    }
  }
}

async function answerDue(world: ReplayWorld, seen: Map<string, QuestionSeen>, answers: Answer[], labelOf: (alert: AlertRow) => CommandLabel): Promise<void> {
  const now = world.clock.now().getTime();
  for (const question of seen.values()) {
    if (question.handled || now < question.answerAt || !availableAt(question.person, now)) continue;
    question.handled = true;
    const answer = await answerQuestion(world, question, labelOf);
    if (answer) answers.push(answer);
  }
  await world.settle();
  // Tap "Approve" on the pushes the person expects (they just said "yes, it was me").
  for (const answer of answers.filter((a) => a.expectsPush)) {
    const lead = await world.service.store.db.selectFrom('alerts').select(['second_factor_user']).where('id', '=', answer.leadId).executeTakeFirst();
    const push = world.duo.pendingPushes().find((p) => p.username === lead?.second_factor_user);
    if (!push) continue;
    world.duo.respond(push.txid, 'allow');
    answer.taps += 1;
    answer.expectsPush = false;
  }
  await world.settle();
}

/**
 * The engineer reads the DM: if it lists anything they did not run they click "No, not me";
 * otherwise "Yes, it was me", one sentence in the form, and (next) the push.
 */
async function answerQuestion(world: ReplayWorld, question: QuestionSeen, labelOf: (alert: AlertRow) => CommandLabel): Promise<Answer | null> {
  const leadId = String(question.message.metadata?.event_payload.alert_id ?? '');
  const db = world.service.store.db;
  const lead = await db.selectFrom('alerts').selectAll().where('id', '=', leadId).executeTakeFirst();
  if (!lead || lead.status !== 'asked') return null;
  const members = await db.selectFrom('alerts').selectAll().where('conversation_id', '=', lead.conversation_id).execute();
  const labels = members.map(labelOf);
  const userId = question.person.slackId;
  const ref = { userId, channel: question.message.channel, ts: question.message.ts };
  if (labels.some((label) => label.kind === 'attack')) {
    await world.slack.clickButton({ ...ref, actionId: 'vouch.deny' });
    return { leadId, labels, clicks: 1, sentences: 0, taps: 0, expectsPush: false };
  }
  await world.slack.clickButton({ ...ref, actionId: 'vouch.confirm' });
  const view = await waitFor(() => world.slack.openViews(userId).find((v) => v.open), 'the justification form');
  await world.slack.submitView({ userId, viewId: view.id, values: { reason: 'Planned work, see the change ticket.' } });
  return { leadId, labels, clicks: 2, sentences: 1, taps: 0, expectsPush: true };
}

async function waitFor<T>(check: () => T, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function figures(world: ReplayWorld, plan: DayPlan, answers: Answer[], labelOf: (alert: AlertRow) => CommandLabel): Promise<Omit<ReplayDayResult, 'burst' | 'replaySeconds'>> {
  const alerts = await world.service.store.db.selectFrom('alerts').selectAll().execute();
  const labelled = alerts.map((alert) => ({ alert, label: labelOf(alert) }));
  const dmsPerPerson: Record<string, number> = {};
  let reminders = 0;
  for (const person of plan.engineers) {
    const dm = world.dm(person);
    dmsPerPerson[person.login] = dm.filter(isQuestion).length;
    reminders += dm.filter((m) => m.metadata?.event_type === 'vouch_reminder').length;
  }
  const byConversation = groupBy(labelled, ({ alert }) => alert.conversation_id);
  return {
    commands: plan.commands.length,
    hosts: plan.hosts.length,
    engineers: plan.engineers.length,
    alerts: alerts.length,
    dmsPerPerson,
    maxDms: Math.max(0, ...Object.values(dmsPerPerson)),
    reminders,
    ...channelFigures(world.security(), byConversation),
    ...attackFigures(plan, labelled),
    activities: plan.activities.map((activity) => activityCost(activity, labelled, answers)),
    mixedConversations: [...byConversation.values()].filter((members) => members.some((m) => m.label.kind === 'attack') && members.some((m) => m.label.kind !== 'attack')).length,
    systemAlerts: labelled.filter((m) => m.label.kind === 'system').length,
  };
}

type Labelled = { alert: AlertRow; label: CommandLabel };

function channelFigures(posts: SimulatedMessage[], byConversation: Map<string, Labelled[]>) {
  const counts = { escalation: 0, digest: 0, health: 0, other: 0, seenAgain: 0, recoveries: 0, otherReplies: 0 };
  const escalatedConversations = new Map<string, number>();
  let escalationsOfLegitimateWork = 0;
  for (const post of posts) {
    if (post.threadTs !== null && post.threadTs !== post.ts) {
      if (post.text.startsWith('Seen again')) counts.seenAgain += 1;
      else if (post.text.startsWith('Recovered')) counts.recoveries += 1;
      else counts.otherReplies += 1;
    } else if (post.metadata?.event_type === 'vouch_escalation') {
      counts.escalation += 1;
      const alertId = String(post.metadata.event_payload.alert_id);
      const conversation = [...byConversation.entries()].find(([, members]) => members.some((m) => m.alert.id === alertId));
      const key = conversation?.[0] ?? alertId;
      escalatedConversations.set(key, (escalatedConversations.get(key) ?? 0) + 1);
      if (conversation && !conversation[1].some((m) => m.label.kind === 'attack')) escalationsOfLegitimateWork += 1;
    } else if (/digest/i.test(post.text)) counts.digest += 1;
    else if (post.text.startsWith('⚠️')) counts.health += 1;
    else counts.other += 1;
  }
  const repeatedEscalationPosts = [...escalatedConversations.values()].reduce((sum, n) => sum + n - 1, 0);
  return { posts: counts, repeatedEscalationPosts, escalationsOfLegitimateWork };
}

function attackFigures(plan: DayPlan, labelled: Labelled[]) {
  const attacks = plan.attacks.map((attack): AttackOutcome => {
    const commands = plan.commands.filter((c) => c.label.kind === 'attack' && c.label.attack === attack).length;
    const alerts = labelled.filter((m) => m.label.kind === 'attack' && m.label.attack === attack).map((m) => m.alert);
    const escalatedCommands = alerts.filter((a) => a.status === 'escalated').reduce((sum, a) => sum + a.occurrences, 0);
    return {
      attack,
      commands,
      alerts: alerts.length,
      escalatedCommands,
      missed: escalatedCommands < commands,
      outcomes: tally(alerts.map((a) => a.status)),
      reasons: tally(alerts.map((a) => a.escalation_reason ?? '-')),
    };
  });
  return { attacks, attacksMissed: attacks.filter((a) => a.missed).length };
}

function activityCost(activity: string, labelled: Labelled[], answers: Answer[]): ActivityCost {
  const isThis = (label: CommandLabel) => label.kind === 'legit' && label.activity === activity;
  const alerts = labelled.filter((m) => isThis(m.label)).map((m) => m.alert);
  const mine = answers.filter((a) => a.labels.some(isThis));
  const sum = (pick: (a: Answer) => number) => mine.reduce((total, a) => total + pick(a), 0);
  return {
    activity,
    alerts: alerts.length,
    conversations: new Set(alerts.map((a) => a.conversation_id)).size,
    conversationSizes: [...groupBy(alerts.sort((a, b) => a.occurred_at.getTime() - b.occurred_at.getTime()), (a) => a.conversation_id).values()].map((members) => members.length).join(', '),
    questions: new Set(alerts.filter((a) => a.dm_ts !== null).map((a) => a.dm_ts)).size,
    clicks: sum((a) => a.clicks),
    sentences: sum((a) => a.sentences),
    taps: sum((a) => a.taps),
    cleared: alerts.length > 0 && alerts.every((a) => a.status === 'verified'),
    outcomes: tally(alerts.map((a) => a.status)),
  };
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

/** `verified: 3, escalated: 1`, most frequent first. */
function tally(values: string[]): string {
  const counts = groupBy(values, (v) => v);
  return [...counts.entries()].sort((a, b) => b[1].length - a[1].length).map(([value, all]) => `${value}: ${all.length}`).join(', ') || '-';
}

/**
 * The burst: `burstHits` alert-worthy commands from `burstPeople` people written at once (each in
 * a session and on a host of its own, so nothing groups them but the person), then a minute of
 * the clock in ten-second steps; nobody answers.
 */
async function runBurst(options: ReplayBenchOptions): Promise<ReplayDayResult['burst']> {
  const people = Array.from({ length: options.burstPeople }, (_, i) => ({ login: `eng${i}`, uid: 3000 + i, slackId: `UBURST${i}` }));
  const start = new Date('2026-11-25T10:00:00.000Z');
  const started = performance.now();
  const world = await startReplayWorld({ databaseUrl: options.databaseUrl, people, start });
  try {
    const batch = Array.from({ length: options.burstHits }, (_, n) => {
      const person = people[n % people.length]!;
      const command: DemoCommand = { login: person.login, uid: person.uid, runAs: 'root', runAsUid: 0, argv: ['cat', '/etc/shadow', `#${n}`], cwd: '/root', host: `burst-${n % 37}`, session: 50_000 + n };
      return { command, time: new Date(start.getTime() + (n % 1000)) };
    });
    world.write(batch);
    for (let elapsed = 10_000; elapsed <= MINUTE; elapsed += 10_000) {
      world.clock.set(new Date(start.getTime() + elapsed));
      await world.settle();
    }
    const firstMinute = people.map((person) => world.dm(person).filter((m) => isQuestion(m) && m.postedAt.getTime() <= start.getTime() + MINUTE).length);
    return {
      hits: options.burstHits,
      people: options.burstPeople,
      maxDmsFirstMinute: Math.max(0, ...firstMinute),
      meanDmsFirstMinute: firstMinute.reduce((a, b) => a + b, 0) / Math.max(1, firstMinute.length),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await world.stop();
  }
}
