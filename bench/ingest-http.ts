/**
 * The backlog through `POST /ingest`: the same generated log a shipper would send, in bodies cut
 * by size as shippers cut them (so events run across requests, and the server holds their lines
 * for the next one), to the real HTTP server, routeIngest and Ingestor on Postgres.
 */
import { readFile } from 'node:fs/promises';
import type { SourceConfig } from '../src/config/config.js';
import { loadDefaultRules } from '../src/detect/load-rules.js';
import { silentLogger } from '../src/logger.js';
import { HttpServer } from '../src/server/http-server.js';
import { HELD_LINES_IDLE_MS, readIdleHeldLines, routeIngest, type IngestResponse } from '../src/server/ingest-api.js';
import { Ingestor } from '../src/sources/ingest.js';
import type { VouchDatabase } from '../src/store/database.js';
import { systemClock } from '../src/clock.js';
import type { IntakePolicy } from '../src/workflow/alert-intake.js';

/** Body size a shipper batches up to (below the 10 MiB request limit). */
const BODY_BYTES = 4 * 1024 * 1024;
/** Requests in flight at once, as shippers send them. */
const CONCURRENCY = 2;
const TOKEN = 'bench-ingest-token-0123456789abcdef';

export interface HttpBacklogRun {
  seconds: number;
  /** Command events the server parsed (IngestResponse.accepted, summed). */
  events: number;
  stored: number;
  requests: number;
}

/** Cuts the log into bodies of at most BODY_BYTES of whole lines, wherever that falls in an event. */
export function lineBodies(log: Buffer, maxBytes = BODY_BYTES): Buffer[] {
  const bodies: Buffer[] = [];
  let start = 0;
  while (start < log.length) {
    let end = Math.min(start + maxBytes, log.length);
    if (end < log.length) {
      const lineEnd = log.lastIndexOf(10, end - 1);
      end = lineEnd >= start ? lineEnd + 1 : end;
    }
    bodies.push(log.subarray(start, end));
    start = end;
  }
  return bodies;
}

/** Sends the whole log to a fresh server on `store` and times it. */
export async function readBacklogOverHttp(store: VouchDatabase, logFile: string, policy: IntakePolicy, bodyBytes = BODY_BYTES): Promise<HttpBacklogRun> {
  const source: SourceConfig = { name: 'fleet', type: 'auditd', path: null, token: TOKEN, host: null };
  const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), clock: systemClock, policy });
  const http = new HttpServer(silentLogger);
  // The server's clock runs ahead at the end, so the lines held after the last body wait no longer.
  let ahead = 0;
  const clock = { now: () => new Date(Date.now() + ahead) };
  const route = { sources: [source], ingestor, clock, logger: silentLogger };
  routeIngest(http, route);
  const url = `${await http.listen(0, '127.0.0.1')}/ingest`;
  const bodies = lineBodies(await readFile(logFile), bodyBytes);
  const run: HttpBacklogRun = { seconds: 0, events: 0, stored: 0, requests: bodies.length };
  const started = performance.now();
  try {
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const response = await fetch(url, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' } });
        if (response.status !== 200) throw new Error(`POST /ingest answered ${response.status}: ${await response.text()}`);
        const answer = (await response.json()) as IngestResponse;
        run.events += answer.accepted;
        run.stored += answer.stored;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    // The shipper is done: what the last body ended inside is read on its own, as the service does.
    ahead = HELD_LINES_IDLE_MS + 1;
    const { events, stored } = await readIdleHeldLines(route);
    run.events += events;
    run.stored += stored;
  } finally {
    run.seconds = (performance.now() - started) / 1000;
    await http.close();
  }
  return run;
}

