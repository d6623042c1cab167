import type { Kysely } from 'kysely';
import { redactCommand } from '../alerts/redact.js';
import type { Clock } from '../clock.js';
import type { RuleMatch, RuleSet } from '../detect/rule.js';
import { countMalformed, saveCheckpoint, type StoredCheckpoint } from '../store/queries/sources.js';
import type { Database } from '../store/schema.js';
import { recordHit, type IntakePolicy } from '../workflow/alert-intake.js';
import type { CommandEvent } from './command-event.js';
import type { Malformed } from './parser.js';
import { provenanceColumns, provenanceOf } from './provenance.js';

export interface IngestBatch {
  events: readonly CommandEvent[];
  malformed: readonly Malformed[];
  /** File positions these events were read up to; saved in the same transaction. */
  checkpoints?: readonly StoredCheckpoint[];
}

export interface IngestStats {
  events: number;
  matched: number;
  /** Events already stored by an earlier read (a replay after a crash or rotation). */
  duplicates: number;
  alertsCreated: number;
  alertsFolded: number;
  /** Alerts recorded as suppressed: nobody was asked. */
  alertsSuppressed: number;
  malformed: number;
}

export const emptyStats = (): IngestStats => ({ events: 0, matched: 0, duplicates: 0, alertsCreated: 0, alertsFolded: 0, alertsSuppressed: 0, malformed: 0 });

export function addStats(into: IngestStats, from: IngestStats): void {
  for (const key of Object.keys(into) as Array<keyof IngestStats>) into[key] += from[key];
}

/**
 * Stores what a source produced: rule hits become command events and alerts, malformed input is
 * counted, and the source's checkpoint moves, all in one transaction. A crash before commit
 * leaves the checkpoint where it was, and re-reading is harmless because (source, event_key) is
 * unique: every event is ingested exactly once.
 *
 * Only events that match a rule are stored; the rest of the audit stream stays in the log files.
 */
export class Ingestor {
  constructor(
    private readonly options: { db: Kysely<Database>; rules: RuleSet; policy: IntakePolicy; clock: Clock; onAlert?: () => void },
  ) {}

  async ingest(source: string, batch: IngestBatch): Promise<IngestStats> {
    const stats = emptyStats();
    stats.events = batch.events.length;
    stats.malformed = batch.malformed.length;
    const hits: Array<{ event: CommandEvent; match: RuleMatch }> = [];
    for (const event of batch.events) {
      const match = this.options.rules.match(event);
      if (match) hits.push({ event: redacted(event), match });
    }
    stats.matched = hits.length;
    if (hits.length === 0 && batch.malformed.length === 0 && !batch.checkpoints?.length) return stats;
    const now = this.options.clock.now();
    await this.options.db.transaction().execute(async (trx) => {
      // Postgres takes at most 65535 parameters a statement: insert in chunks.
      for (let start = 0; start < hits.length; start += INSERT_CHUNK) {
        const chunk = hits.slice(start, start + INSERT_CHUNK);
        const inserted = await trx
          .insertInto('command_events')
          .values(chunk.map(({ event, match }) => eventRow(source, event, match, now)))
          .onConflict((oc) => oc.columns(['source', 'event_key']).doNothing())
          .returning(['id', 'event_key'])
          .execute();
        const idByKey = new Map(inserted.map((row) => [row.event_key, row.id]));
        stats.duplicates += chunk.length - inserted.length;
        for (const { event, match } of chunk) {
          const eventId = idByKey.get(event.eventKey);
          if (eventId === undefined) continue;
          idByKey.delete(event.eventKey);
          const result = await recordHit(trx, { eventId, event, match, now, policy: this.options.policy });
          if (result.kind === 'created') stats.alertsCreated += 1;
          if (result.kind === 'folded') stats.alertsFolded += 1;
          if (result.kind === 'suppressed') stats.alertsSuppressed += 1;
        }
      }
      for (const [reason, group] of groupByReason(batch.malformed)) {
        await countMalformed(trx, source, reason, group.length, group[group.length - 1]?.sample ?? '', now);
      }
      for (const checkpoint of batch.checkpoints ?? []) await saveCheckpoint(trx, source, checkpoint, now);
    });
    if (stats.alertsCreated > 0) this.options.onAlert?.();
    return stats;
  }
}

const INSERT_CHUNK = 1000;

/**
 * Secrets are removed before anything is stored, so no later path can leak them; NUL bytes,
 * which Postgres text cannot hold, become U+FFFD.
 */
function redacted(event: CommandEvent): CommandEvent {
  const clean = redactCommand(event.argv.map(withoutNul));
  return {
    ...event,
    argv: clean.argv,
    command: clean.command,
    host: withoutNul(event.host),
    user: event.user === null ? null : withoutNul(event.user),
    runAs: event.runAs === null ? null : withoutNul(event.runAs),
    cwd: event.cwd === null ? null : withoutNul(event.cwd),
    exe: event.exe === null ? null : withoutNul(event.exe),
  };
}

function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replace(/\u0000/g, '\uFFFD') : text;
}

function eventRow(source: string, event: CommandEvent, match: RuleMatch, now: Date) {
  return {
    source,
    event_key: event.eventKey,
    occurred_at: event.time,
    host: event.host,
    login_user: event.user,
    login_uid: event.loginUid,
    run_as: event.runAs,
    argv: JSON.stringify(event.argv),
    command: event.command,
    exe: event.exe,
    cwd: event.cwd,
    pid: event.pid,
    ppid: event.ppid,
    source_format: event.sourceFormat,
    sudo_denied: event.sudoDenied ?? false,
    extra: JSON.stringify(event.extra ?? null),
    rule_id: match.ruleId,
    ingested_at: now,
    ...provenanceColumns(provenanceOf(event)),
  };
}

function groupByReason(malformed: readonly Malformed[]): Map<string, Malformed[]> {
  const groups = new Map<string, Malformed[]>();
  for (const item of malformed) {
    const group = groups.get(item.reason) ?? [];
    group.push(item);
    groups.set(item.reason, group);
  }
  return groups;
}
