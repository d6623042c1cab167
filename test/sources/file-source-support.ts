/** Shared by the FileSource tests: an audit log whose events are numbered, and an ingestor that can fail. */
import { appendFile, stat } from 'node:fs/promises';
import { auditdRecords } from '../../src/sandbox/demo-log.js';
import type { StoredCheckpoint } from '../../src/store/queries/sources.js';
import type { CommandEvent } from '../../src/sources/command-event.js';
import type { IngestPort } from '../../src/sources/file-source.js';
import { emptyStats, type IngestBatch, type IngestStats } from '../../src/sources/ingest.js';

/** Where each numbered event starts in the log, by its number. */
export class NumberedLog {
  readonly starts = new Map<number, number>();
  size = 0;
  /** `dev:inode` of the file the offsets are in. */
  fileId = '';
  private next = 1;

  constructor(readonly file: string) {}

  /** Starts over in a new, empty file at the same path (after a rotation); numbers go on. */
  restart(): void {
    this.starts.clear();
    this.size = 0;
  }

  /** Appends `count` events (`cat /etc/shadow #<n>`), returning their numbers. */
  async append(count: number, options: { withoutEoe?: boolean } = {}): Promise<number[]> {
    let text = '';
    const numbers: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const n = this.next++;
      let records = auditdRecords(
        { login: 'alice', uid: 1000, runAs: 'root', runAsUid: 0, argv: ['cat', '/etc/shadow', `#${n}`], cwd: '/root', host: 'db-1' },
        new Date(Date.UTC(2026, 0, 1, 0, 0, n % 60)),
        5000 + n,
        20_000 + n,
      );
      if (options.withoutEoe) records = records.replace(/^.*type=EOE.*\n/m, '');
      this.starts.set(n, this.size + Buffer.byteLength(text));
      text += records;
      numbers.push(n);
    }
    await appendFile(this.file, text);
    this.size += Buffer.byteLength(text);
    const st = await stat(this.file, { bigint: true });
    this.fileId = `${st.dev}:${st.ino}`;
    return numbers;
  }
}

/** The number an event of a NumberedLog carries in its last argument. */
export function eventNumber(event: CommandEvent): number {
  return Number(event.argv[event.argv.length - 1]?.slice(1));
}

/**
 * Stores events by number, as the real Ingestor would by key (a repeat is a duplicate, not a
 * second row), and fails the calls `failOn` picks without storing anything of them. After every
 * commit, checks that no checkpoint of the current file passes the start of an event not yet stored.
 */
export class FlakyIngestor implements IngestPort {
  readonly stored = new Map<number, CommandEvent>();
  readonly checkpoints: StoredCheckpoint[] = [];
  readonly violations: string[] = [];
  calls = 0;
  failures = 0;

  constructor(
    private readonly log: NumberedLog,
    private readonly failOn: (call: number) => boolean,
  ) {}

  async ingest(_source: string, batch: IngestBatch): Promise<IngestStats> {
    this.calls += 1;
    await Promise.resolve();
    if (this.failOn(this.calls)) {
      this.failures += 1;
      throw new Error('canceling statement due to statement timeout');
    }
    const stats = emptyStats();
    stats.events = batch.events.length;
    for (const event of batch.events) {
      const n = eventNumber(event);
      if (this.stored.has(n)) stats.duplicates += 1;
      else this.stored.set(n, event);
    }
    for (const checkpoint of batch.checkpoints ?? []) {
      this.checkpoints.push(checkpoint);
      // Offsets of a file rotated away are not comparable with the current file's.
      if (checkpoint.fileId !== this.log.fileId) continue;
      for (const [n, start] of this.log.starts) {
        if (start < checkpoint.offset && !this.stored.has(n)) this.violations.push(`checkpoint ${checkpoint.offset} passes unstored event #${n} at ${start}`);
      }
    }
    return stats;
  }

  /** The numbers stored, in order. */
  storedNumbers(): number[] {
    return [...this.stored.keys()].sort((a, b) => a - b);
  }
}

/** Resolves once `check` holds, polling every few milliseconds; rejects after `timeoutMs`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
