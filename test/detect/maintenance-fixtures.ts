import { openLog } from '../../src/sources/read-log.js';
import type { CommandEvent } from '../../src/sources/command-event.js';

/** Recorded stock maintenance jobs and look-alikes (test/fixtures/real/maintenance/PROVENANCE.md). */
export const MAINTENANCE_DIR = 'test/fixtures/real/maintenance';

/** Every command event of a recorded auditd log, in log order. */
export async function eventsOf(file: string): Promise<CommandEvent[]> {
  const reader = await openLog(`${MAINTENANCE_DIR}/${file}`, { format: 'auditd', parser: { defaultHost: 'vm', resolveUid: (uid) => (uid === 1001 ? 'alice' : null) } });
  const events: CommandEvent[] = [];
  for await (const batch of reader) events.push(...batch.events);
  return events;
}
