/**
 * The backlog through `POST /ingest`: the same generated log a shipper would send, in bodies of
 * whole events, to the real HTTP server, routeIngest and Ingestor on Postgres.
 */
import { readFile } from 'node:fs/promises';
import type { SourceConfig } from '../src/config/config.js';
import { loadDefaultRules } from '../src/detect/load-rules.js';
import { silentLogger } from '../src/logger.js';
import { HttpServer } from '../src/server/http-server.js';
import { routeIngest, type IngestResponse } from '../src/server/ingest-api.js';
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

/**
 * Cuts the log into bodies of at most BODY_BYTES that end just after an EOE record, so no event
 * spans two requests (each request is parsed as a complete batch).
 */
export function eventBodies(log: Buffer, maxBytes = BODY_BYTES): Buffer[] {
  const bodies: Buffer[] = [];
  const marker = Buffer.from('type=EOE ');
  let start = 0;
  while (start < log.length) {
    let end = Math.min(start + maxBytes, log.length);
    if (end < log.length) {
      const eoe = log.lastIndexOf(marker, end - marker.length);
      const lineEnd = eoe > start ? log.indexOf(10, eoe) : -1;
      end = lineEnd > start && lineEnd < end ? lineEnd + 1 : end;
    }
    bodies.push(log.subarray(start, end));
    start = end;
  }
  return bodies;
}

/** Sends the whole log to a fresh server on `store` and times it. */
export async function readBacklogOverHttp(store: VouchDatabase, logFile: string, policy: IntakePolicy): Promise<HttpBacklogRun> {
  const source: SourceConfig = { name: 'fleet', type: 'auditd', path: null, token: TOKEN, host: null };
  const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), clock: systemClock, policy });
  const http = new HttpServer(silentLogger);
  routeIngest(http, { sources: [source], ingestor, clock: systemClock, logger: silentLogger });
  const url = `${await http.listen(0, '127.0.0.1')}/ingest`;
  const bodies = eventBodies(await readFile(logFile));
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
  } finally {
    run.seconds = (performance.now() - started) / 1000;
    await http.close();
  }
  return run;
}
