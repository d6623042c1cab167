/** Renders benchmark results as the Markdown page bench/RESULTS.md. */
import type { ConversationBenchResult } from './conversations.js';
import { CONFIRM_GROWTH, CONFIRM_RUNS, type HostileMeasurement, type HostileTextBenchResult } from './hostile-text.js';
import type { IngestBenchResult } from './ingest-throughput.js';
import type { MachineInfo } from './machine-info.js';
import { REPLAY_GOALS, type ReplayDayResult } from './replay-day.js';
import type { ScanBenchResult } from './scan-vs-ausearch.js';

/** Peak memory allowed for `vouch scan`, whatever the log size. */
export const SCAN_MEMORY_LIMIT_BYTES = 200e6;
/**
 * The scan's live heap late in the largest log may exceed its live heap early on by at most this
 * factor to count as flat (nothing held per event). Peak RSS is not used for this: it varies by
 * about ±20 % from run to run with garbage-collection timing.
 */
export const FLAT_HEAP_FACTOR = 1.1;

export interface BenchReport {
  startedAt: Date;
  seconds: number;
  machine: MachineInfo;
  loadAverageAfter: number;
  ausearchVersion: string | null;
  scan: ScanBenchResult | { skipped: string };
  ingest: IngestBenchResult;
  /** Absent when the run predates the hostile-text benchmark. */
  hostileText?: HostileTextBenchResult | { skipped: string };
  /** Absent when the run predates the conversation benchmark. */
  conversations?: ConversationBenchResult | { skipped: string };
  /** Absent when the run predates the replay benchmark. */
  replay?: ReplayDayResult | { skipped: string };
}

/** Cost per KiB at the large size may be at most this many times that at the small size. */
export const HOSTILE_GROWTH_LIMIT = 3;

/** The whole page. */
export function renderResults(report: BenchReport): string {
  const { machine } = report;
  const lines = [
    '# Benchmark results',
    '',
    `Produced by \`npm run bench\` (bench/run.ts) on ${report.startedAt.toISOString()} in ${report.seconds.toFixed(0)} s. See bench/README.md for what each number means.`,
    '',
    '| Machine | |',
    '|---|---|',
    `| CPU | ${machine.cpu} |`,
    `| Cores | ${machine.cores} |`,
    `| Memory | ${machine.memoryGiB.toFixed(1)} GiB |`,
    `| OS | ${machine.os} |`,
    `| Node.js | ${machine.node} |`,
    `| ausearch | ${report.ausearchVersion ?? 'not installed'} |`,
    `| Commit | ${machine.commit} |`,
    `| Load average (1 min) at start / end | ${machine.loadAverage.toFixed(2)} / ${report.loadAverageAfter.toFixed(2)} |`,
    '',
    ...scanSection(report.scan),
    ...ingestSection(report.ingest),
    ...(report.hostileText === undefined ? [] : hostileTextSection(report.hostileText)),
    ...(report.conversations === undefined ? [] : conversationSection(report.conversations)),
    ...(report.replay === undefined ? [] : replaySection(report.replay)),
  ];
  return lines.join('\n') + '\n';
}

function scanSection(scan: BenchReport['scan']): string[] {
  if ('skipped' in scan) return ['## vouch scan vs ausearch', '', `Not run: ${scan.skipped}`, ''];
  const f = scan.file;
  const mb = f.bytes / 1e6;
  const rows: string[][] = [];
  const hasAusearch = 'medianMs' in scan.ausearch;
  if ('medianMs' in scan.ausearch) {
    rows.push(['`ausearch --raw -m EXECVE -if FILE`, wall time: median (best)', `${seconds(scan.ausearch.medianMs)} (${seconds(best(scan.ausearch.runs))})`, '', '']);
    rows.push(['`vouch scan FILE --all --json`, wall time: median (best)', `${seconds(scan.scan.medianMs)} (${seconds(best(scan.scan.runs))})`, '', '']);
    rows.push([
      'Speed ratio (ausearch time / scan time)',
      `${(scan.ratio ?? 0).toFixed(2)}×`,
      '≥ 1.00×',
      passFail((scan.ratio ?? 0) >= 1),
    ]);
    if (scan.ausearch.medianCpuMs !== null && scan.scan.medianCpuMs !== null) {
      rows.push([
        'CPU time (user + system), median: ausearch / scan',
        `${seconds(scan.ausearch.medianCpuMs)} / ${seconds(scan.scan.medianCpuMs)} (ratio ${(scan.ausearch.medianCpuMs / scan.scan.medianCpuMs).toFixed(2)}×)`,
        '',
        '',
      ]);
    }
    if (scan.ausearchInterpreted) {
      rows.push([
        '`ausearch -i -m EXECVE -if FILE` (decodes the records, as the scan does), wall time: median (best)',
        `${seconds(scan.ausearchInterpreted.medianMs)} (${seconds(best(scan.ausearchInterpreted.runs))}); ratio to the scan ${(scan.ausearchInterpreted.medianMs / scan.scan.medianMs).toFixed(2)}×`,
        'report',
        '',
      ]);
    }
    rows.push(['Throughput: ausearch / scan', `${(mb / (scan.ausearch.medianMs / 1000)).toFixed(0)} / ${(mb / (scan.scan.medianMs / 1000)).toFixed(0)} MB/s`, '', '']);
  } else {
    rows.push(['`ausearch`', scan.ausearch.missing, 'installed', 'NOT MEASURED']);
    rows.push(['`vouch scan FILE --all --json`, wall time: median (best)', `${seconds(scan.scan.medianMs)} (${seconds(best(scan.scan.runs))})`, '', '']);
  }
  rows.push(['`vouch scan` of a 10-command log (start-up: module loading, rule compilation)', seconds(scan.startup.wallMs), '', '']);
  const c = scan.scan.check;
  const exact = c.argvMismatches === 0 && c.missing === 0 && c.unexpected === 0;
  rows.push([
    'Every execve decoded exactly (events out / written; argv mismatches, missing, unexpected)',
    `${c.events.toLocaleString('en-US')} / ${c.expected.toLocaleString('en-US')}; ${c.argvMismatches}, ${c.missing}, ${c.unexpected}`,
    'all, 0, 0, 0',
    passFail(exact),
  ]);
  if ('events' in scan.ausearch) rows.push(['Events ausearch printed', scan.ausearch.events.toLocaleString('en-US'), String(c.expected), passFail(scan.ausearch.events === c.expected)]);
  rows.push(['Rule hits (default pack)', `${c.hits.toLocaleString('en-US')} (${((100 * c.hits) / Math.max(1, c.events)).toFixed(1)} % of events)`, '', '']);

  const memRows = scan.memory.map((m) => [
    `Peak memory (max RSS), median (range), ${(m.bytes / 1e6).toFixed(0)} MB log (${m.commands.toLocaleString('en-US')} commands, ${m.records.toLocaleString('en-US')} records)`,
    `${rss(m.maxRssKb)} (${rss(m.lowestKb)}–${rss(m.highestKb)})`,
    '< 200 MB',
    passFail(m.highestKb !== null && m.highestKb * 1024 < SCAN_MEMORY_LIMIT_BYTES),
  ]);
  const first = scan.memory.find((m) => m.commands === scan.file.commands);
  const last = scan.memory[scan.memory.length - 1];
  if (first?.maxRssKb && last?.maxRssKb && first !== last) {
    memRows.push([
      `Peak RSS growth (medians) from the ${(first.bytes / 1e6).toFixed(0)} MB to the ${(last.bytes / 1e6).toFixed(0)} MB log`,
      `${(last.maxRssKb / first.maxRssKb).toFixed(2)}× for ${(last.bytes / first.bytes).toFixed(0)}× the log`,
      'report',
      '',
    ]);
  }
  const all = last?.liveHeap ?? [];
  // Five points spread over the log are enough to see a trend.
  const heap = all.length <= 5 ? all : [0, 1, 2, 3, 4].map((i) => all[Math.round((i * (all.length - 1)) / 4)]!);
  if (heap.length >= 2) {
    const firstHeap = heap[0]!;
    const lastHeap = heap[heap.length - 1]!;
    const factor = lastHeap.heapUsed / firstHeap.heapUsed;
    memRows.push([
      `Live heap after a full GC while scanning the ${((last?.bytes ?? 0) / 1e6).toFixed(0)} MB log, at ${heap.map((h) => `${(h.bytesRead / 1e6).toFixed(0)}`).join(' / ')} MB read`,
      `${heap.map((h) => (h.heapUsed / 1e6).toFixed(1)).join(' / ')} MB`,
      `flat (last ≤ ${FLAT_HEAP_FACTOR.toFixed(2)}× first)`,
      passFail(factor <= FLAT_HEAP_FACTOR),
    ]);
  }
  const runs = (name: string, list: readonly { wallMs: number }[]) => `${name}: ${list.map((r) => seconds(r.wallMs)).join(', ')}`;
  return [
    '## vouch scan vs ausearch',
    '',
    `Generated ENRICHED auditd log: ${f.commands.toLocaleString('en-US')} commands (${f.sudoCommands.toLocaleString('en-US')} through sudo, ` +
      `${f.suspiciousCommands.toLocaleString('en-US')} suspicious, ${f.longArguments} with an argument split into chunks), ` +
      `${f.execEvents.toLocaleString('en-US')} execve events, ${f.records.toLocaleString('en-US')} records, ${mb.toFixed(1)} MB. ` +
      `Both programs read it from the page cache and write to a file; ${scan.scan.runs.length} runs each, alternating.`,
    '',
    ...table(['Measure', 'Result', 'Target', ''], rows),
    '',
    ...table(['Measure', 'Result', 'Target', ''], memRows),
    '',
    `Individual runs: ${[hasAusearch && 'runs' in scan.ausearch ? runs('ausearch', scan.ausearch.runs) : null, runs('vouch scan', scan.scan.runs)].filter(Boolean).join('; ')}. ` +
      `Peak memory measured with ${scan.rssMethod}.`,
    '',
  ];
}

function ingestSection(ingest: IngestBenchResult): string[] {
  const title = '## Tailer and `POST /ingest` into Postgres';
  if ('skipped' in ingest) return [title, '', `Not run: ${ingest.skipped}`, ''];
  const { backlog, live } = ingest;
  const rows: string[][] = [
    [
      `Backlog: ${(backlog.file.bytes / 1e6).toFixed(0)} MB log (${backlog.file.commands.toLocaleString('en-US')} commands) read to the end`,
      `${Math.round(backlog.eventsPerSecond).toLocaleString('en-US')} events/s (${backlog.megabytesPerSecond.toFixed(1)} MB/s, median ${backlog.seconds.toFixed(1)} s of ${backlog.runs.length} runs)`,
      'report',
      '',
    ],
    [
      '`vouch scan FILE --all --json` of the same log, run alternately with the backlog',
      `${Math.round(backlog.scan.eventsPerSecond).toLocaleString('en-US')} events/s (median ${backlog.scan.seconds.toFixed(2)} s)`,
      'report',
      '',
    ],
    [
      'Backlog events/s over the scan\'s',
      `${backlog.ratioToScan.toFixed(2)}×`,
      '≥ 0.50×',
      passFail(backlog.ratioToScan >= 0.5),
    ],
    [
      `The same log through \`POST /ingest\` (${backlog.http.requests} bodies of 4 MiB cut between lines, events running across them, two requests in flight)`,
      `${Math.round(backlog.http.eventsPerSecond).toLocaleString('en-US')} events/s (median ${backlog.http.seconds.toFixed(1)} s), ${backlog.http.storedHits.toLocaleString('en-US')} rule hits stored`,
      'report',
      '',
    ],
    [
      '`POST /ingest` events/s over the scan\'s',
      `${backlog.http.ratioToScan.toFixed(2)}×`,
      '≥ 0.50×',
      passFail(backlog.http.ratioToScan >= 0.5),
    ],
    [
      'Backlog: rule hits stored / alerts created / folded into an earlier alert',
      `${backlog.storedHits.toLocaleString('en-US')} / ${backlog.stats.alertsCreated.toLocaleString('en-US')} / ${backlog.stats.alertsFolded.toLocaleString('en-US')}`,
      '',
      '',
    ],
    [
      'Live: events written / ingested',
      `${live.eventsWritten.toLocaleString('en-US')} / ${live.eventsIngested.toLocaleString('en-US')} (steady phase ${Math.round(live.steadyEventsPerSecond)} events/s)`,
      'all',
      passFail(live.eventsIngested === live.eventsWritten),
    ],
  ];
  for (const l of live.latency) {
    const steady = l.phase === 'steady';
    rows.push([
      `Write-to-stored delay, ${l.phase === 'all' ? 'all phases' : `${l.phase} phase`} (${l.samples} rule hits)`,
      `p50 ${ms(l.p50)}, p99 ${ms(l.p99)}, max ${ms(l.max)}`,
      steady ? 'p99 < 250 ms' : 'report',
      steady ? passFail(l.p99 < 250) : '',
    ]);
  }
  return [
    title,
    '',
    `Real FileSource and Ingestor on PostgreSQL ${ingest.postgresVersion} (${ingest.databaseUrl}), each phase in a fresh schema. ` +
      `The live phase follows the log as the service does: woken by file changes, with a poll every ${live.pollIntervalMs} ms (the default \`workflow.poll_interval\`) as the fallback. ` +
      `Individual backlog runs: ${backlog.runs.map((r) => `${r.toFixed(2)} s`).join(', ')}; \`POST /ingest\`: ${backlog.http.runs.map((r) => `${r.toFixed(2)} s`).join(', ')}; scan: ${backlog.scan.runs.map((r) => `${r.toFixed(2)} s`).join(', ')}.`,
    '',
    ...table(['Measure', 'Result', 'Target', ''], rows),
    '',
  ];
}

function hostileTextSection(result: HostileTextBenchResult | { skipped: string }): string[] {
  const title = '## Hostile argument text';
  if ('skipped' in result) return [title, '', `Not run: ${result.skipped}`, ''];
  const targets = [...new Set(result.measurements.map((m) => m.target))];
  const rows = targets.map((target) => {
    const own = result.measurements.filter((m) => m.target === target);
    const worst = own.reduce((a, b) => (b.largeMsPerMiB > a.largeMsPerMiB ? b : a));
    const steepest = own.reduce((a, b) => (b.growth > a.growth ? b : a));
    const median = [...own].sort((a, b) => a.largeMsPerMiB - b.largeMsPerMiB)[Math.floor(own.length / 2)] as HostileMeasurement;
    return [
      `\`${target}\``,
      `${worst.family}: ${worst.largeMsPerMiB.toFixed(1)} ms per MiB (${mibPerSecond(worst.largeMsPerMiB)})`,
      `${median.largeMsPerMiB.toFixed(1)} ms per MiB`,
      `${steepest.growth.toFixed(2)}× (${steepest.family})`,
      passFail(steepest.growth <= HOSTILE_GROWTH_LIMIT),
    ];
  });
  const kib = (chars: number) => `${chars / 1024} KiB`;
  return [
    title,
    '',
    `Every per-character path command text goes through, on ${new Set(result.measurements.map((m) => m.family)).size} adversarial families ` +
      `(long runs of \`=\`, \`@\`, quotes, \`pwd=x\`, \`--password\`, \`Bearer \`, \`AKIA\`, \`-----BEGIN\`, control and bidi characters, and mixtures; bench/hostile-text.ts). ` +
      `Best of ${result.repeats} runs at ${kib(result.smallChars)} and ${kib(result.largeChars)} (a growth above ${CONFIRM_GROWTH}× is measured again with ${CONFIRM_RUNS} more runs of each size, keeping the best); sizes in UTF-16 code units. ` +
      `Growth is the cost per KiB at ${kib(result.largeChars)} over that at ${kib(result.smallChars)}: about 1 when linear, ${result.largeChars / result.smallChars} when quadratic.`,
    '',
    ...table(['Path', `Worst family at ${kib(result.largeChars)}`, 'Median family', 'Steepest growth', `Growth ≤ ${HOSTILE_GROWTH_LIMIT}×`], rows),
    '',
  ];
}

function mibPerSecond(msPerMiB: number): string {
  return msPerMiB <= 0 ? 'n/a' : `${(1000 / msPerMiB).toFixed(0)} MiB/s`;
}

function table(head: string[], rows: string[][]): string[] {
  const esc = (cell: string) => cell.replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)];
}

function best(runs: readonly { wallMs: number }[]): number {
  return Math.min(...runs.map((r) => r.wallMs));
}

function passFail(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

function seconds(msValue: number): string {
  return `${(msValue / 1000).toFixed(2)} s`;
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}

function rss(kb: number | null): string {
  return kb === null ? 'n/a' : `${((kb * 1024) / 1e6).toFixed(0)} MB`;
}

function conversationSection(result: ConversationBenchResult | { skipped: string }): string[] {
  const title = '## Conversations: alert to DM, and a burst across two replicas';
  if ('skipped' in result) return [title, '', `Not run: ${result.skipped}`, ''];
  const { dmWhileLongPoll: latency, burst } = result;
  return [
    title,
    '',
    'Real `vouch start` processes on Postgres against the Slack and Duo simulators. Latency is from the audit line being written to the question DM existing in Slack, while another person\'s Duo `auth_status` long-poll is held open' +
      (latency.longPollHeld ? '' : ' (**the long-poll was not seen held: treat the figure with care**)') +
      '. The burst writes distinct alert-worthy commands at once and waits for every DM, with two replicas sharing the jobs.',
    '',
    '| Measure | Value |',
    '|---|---|',
    `| Alert to DM while a long-poll is pending (${latency.samples} alerts) | median ${latency.medianMs.toFixed(0)} ms, p95 ${latency.p95Ms.toFixed(0)} ms, max ${latency.maxMs.toFixed(0)} ms |`,
    `| Burst: ${burst.alerts} alerts from as many people, ${burst.replicas} replicas | ${burst.dms} DMs in ${burst.seconds.toFixed(1)} s: **${burst.dmsPerSecond.toFixed(0)} DMs/s** |`,
    `| Duplicate DMs in the burst | ${burst.duplicates} |`,
    '',
  ];
}

const verdict = (ok: boolean) => (ok ? 'PASS' : '**FAIL**');
/** A table cell: a pipe would end the cell early. */
const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The replayed day against the owner's goals, then the detail behind each figure. */
export function replaySection(result: ReplayDayResult | { skipped: string }): string[] {
  const title = '## Replay of a working day: what people see';
  if ('skipped' in result) return [title, '', `Not run: ${result.skipped}`, ''];
  const goals = REPLAY_GOALS;
  const { posts } = result;
  const others = posts.digest + posts.health + posts.other;
  const cleared = result.activities.filter((a) => a.cleared);
  const cheap = (a: ReplayDayResult['activities'][number]) =>
    a.cleared && a.clicks === goals.clearing.clicks && a.sentences === goals.clearing.sentences && a.taps === goals.clearing.taps;
  const dms = Object.entries(result.dmsPerPerson).map(([login, n]) => `${login} ${n}`).join(', ');
  return [
    title,
    '',
    `A generated day (seeded): ${result.commands} commands on ${result.hosts} hosts by ${result.engineers} engineers in audit login sessions, system cron with no login user, eight legitimate but suspicious-looking activities and nine attacks, written to the audit log in time order and replayed through the service in process (Postgres, the Slack and Duo simulators, a manual clock; default settings). Simulated engineers answer question DMs during their hours (1 to 8 minutes later): "Yes, it was me", one sentence and the Duo approval for their own work, "No, not me" for a DM that lists an attack. ${result.alerts} alerts in all; replay took ${result.replaySeconds.toFixed(0)} s.`,
    '',
    '| Goal | Measured | Verdict |',
    '|---|---|---|',
    `| At most ${goals.maxDmsPerEngineer} question DMs per engineer | max ${result.maxDms} (${dms}) | ${verdict(result.maxDms <= goals.maxDmsPerEngineer)} |`,
    `| Every attack escalated | ${result.attacksMissed} of ${result.attacks.length} missed | ${verdict(result.attacksMissed === 0)} |`,
    `| Channel: each escalation posted once | ${posts.escalation} escalation posts, ${result.repeatedEscalationPosts} repeated, ${result.escalationsOfLegitimateWork} about legitimate or system work | ${verdict(result.repeatedEscalationPosts === 0)} |`,
    `| Channel: at most ${goals.maxOtherPostsPerDay} other posts a day | ${others} (digest ${posts.digest}, health ${posts.health}, other ${posts.other}) | ${verdict(others <= goals.maxOtherPostsPerDay)} |`,
    `| Burst: at most ${goals.maxBurstDmsPerPersonPerMinute} DMs per person in the first minute (${result.burst.hits} hits, ${result.burst.people} people) | max ${result.burst.maxDmsFirstMinute}, mean ${result.burst.meanDmsFirstMinute.toFixed(1)} | ${verdict(result.burst.maxDmsFirstMinute <= goals.maxBurstDmsPerPersonPerMinute)} |`,
    `| Clearing an activity costs ${goals.clearing.clicks} clicks, ${goals.clearing.sentences} sentence, ${goals.clearing.taps} tap | ${result.activities.filter(cheap).length} of ${result.activities.length} activities (${cleared.length} cleared at all) | ${verdict(result.activities.every(cheap))} |`,
    '',
    `Reminders sent: ${result.reminders}. Thread replies in the channel: ${posts.seenAgain} "seen again", ${posts.recoveries} health recoveries, ${posts.otherReplies} other. Conversations listing an attack beside legitimate commands: ${result.mixedConversations}. System-actor alerts: ${result.systemAlerts}.`,
    '',
    '| Legitimate activity | Alerts | Conversations (alerts in each) | Question DMs | Clicks | Sentences | Taps | Ended |',
    '|---|---|---|---|---|---|---|---|',
    ...result.activities.map((a) => `| ${cell(a.activity)} | ${a.alerts} | ${a.conversations} (${a.conversationSizes}) | ${a.questions} | ${a.clicks} | ${a.sentences} | ${a.taps} | ${a.outcomes} |`),
    '',
    '| Attack | Commands | Alerts | Commands on escalated alerts | Ended | Why | Verdict |',
    '|---|---|---|---|---|---|---|',
    ...result.attacks.map((a) => `| ${cell(a.attack)} | ${a.commands} | ${a.alerts} | ${a.escalatedCommands} | ${a.outcomes} | ${a.reasons} | ${a.missed ? '**missed**' : 'escalated'} |`),
    '',
  ];
}
