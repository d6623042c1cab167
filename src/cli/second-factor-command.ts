import { systemClock } from '../clock.js';
import type { VouchConfig } from '../config/config.js';
import { VouchError } from '../errors.js';
import { pauseView, resumePushes } from '../review/resume-pushes.js';
import { openConfiguredStore } from './open-store.js';
import { runningService } from './running-service.js';

export interface ResumeOptions {
  /**
   * The reviewer resuming pushes, recorded in the audit trail when the command writes to the
   * database itself; through a running service its API token's identity is recorded instead.
   */
  by?: string;
  note?: string;
}

/**
 * `vouch second-factor resume <login>`: ends the pause a fraud report put on pushes to that
 * person. Like `report`, it writes to Postgres directly, and on embedded PGlite asks the running
 * service (which holds the files) through the review API.
 */
export async function resumeCommand(config: VouchConfig, person: string, options: ResumeOptions): Promise<string> {
  const by = options.by?.trim() ?? '';
  if (by === '') throw new VouchError('request_invalid', '--by: required, the name of the reviewer resuming pushes');
  const note = options.note ?? null;
  const running = config.database.url ? null : runningService(config.database.dataDir);
  const resumed = running ? await throughApi(running, person, by, note) : await direct(config, person, by, note);
  return resumed.map((pause) => `resumed pushes to ${pause.username} (paused ${pause.paused_at} by alert ${pause.alert_id})\n`).join('');
}

async function direct(config: VouchConfig, person: string, by: string, note: string | null): Promise<Array<ReturnType<typeof pauseView>>> {
  const store = await openConfiguredStore(config, { migrate: false });
  try {
    return (await resumePushes(store.db, { person, by, note, at: systemClock.now() })).map(pauseView);
  } finally {
    await store.close();
  }
}

async function throughApi(
  running: { url: string; token: string; pid: number },
  person: string,
  by: string,
  note: string | null,
): Promise<Array<ReturnType<typeof pauseView>>> {
  let response: Response;
  try {
    response = await fetch(`${running.url}/api/people/${encodeURIComponent(person)}/second-factor/resume`, {
      method: 'POST',
      headers: { authorization: `Bearer ${running.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resumed_by: by, note }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new VouchError('database_error', `vouch is running (pid ${running.pid}) but its API at ${running.url} does not answer: ${(error as Error).message}`);
  }
  const body = await response.text();
  if (response.status === 404) throw new VouchError('not_found', `pushes to ${person} are not paused`);
  if (!response.ok) throw new VouchError('request_invalid', `the running service refused (${response.status}): ${body.slice(0, 300)}`);
  return JSON.parse(body) as Array<ReturnType<typeof pauseView>>;
}
