import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { JOB_KINDS } from '../../src/store/queries/jobs.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

const TOKEN = 'fleet-token-0123456789abcdef';
const SUDO_LINE = 'Nov 24 14:23:28 web-1 sudo[4211]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow';

interface Exposition {
  types: Map<string, string>;
  helps: Map<string, string>;
  /** `name{labels}` exactly as written, to its value. */
  samples: Map<string, number>;
}

/** Reads Prometheus text format strictly enough that a malformed line fails the test. */
function parseExposition(text: string): Exposition {
  const exposition: Exposition = { types: new Map(), helps: new Map(), samples: new Map() };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      const target = meta[1] === 'TYPE' ? exposition.types : exposition.helps;
      expect(target.has(meta[2] as string), `${meta[1]} for ${meta[2]} given twice`).toBe(false);
      target.set(meta[2] as string, meta[3] as string);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    expect(sample, `not a sample line: ${line}`).not.toBeNull();
    exposition.samples.set(sample?.[1] as string, Number(sample?.[2]));
  }
  return exposition;
}

/** The family a sample belongs to: histogram and summary samples carry suffixes. */
function familyOf(sample: string, types: Map<string, string>): string | undefined {
  const name = sample.split('{')[0] as string;
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count|total|created)$/, '');
  return types.has(base) ? base : undefined;
}

describe('GET /metrics', () => {
  let dir: string;
  let store: TestStore;
  let service: RunningService;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-metrics-'));
    store = await createTestStore();
    const file = path.join(dir, 'vouch.yml');
    await writeFile(file, 'server: { port: 0 }\nsources:\n  - { name: fleet, type: sudo }\n');
    const config = loadConfig({ file, env: { VOUCH_INGEST_TOKEN_FLEET: TOKEN, VOUCH_DATA_DIR: dir, VOUCH_SANDBOX: '1' } });
    service = await startService({ config, store, autoRun: false, logger: silentLogger, clock: new ManualClock(new Date('2026-11-24T15:00:00Z')) });
  });

  afterEach(async () => {
    await service.stop();
    await store.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const scrape = async (): Promise<{ contentType: string | null; exposition: Exposition }> => {
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).toBe(200);
    return { contentType: response.headers.get('content-type'), exposition: parseExposition(await response.text()) };
  };

  it('is Prometheus text with HELP and TYPE for every family, process metrics included', async () => {
    const { contentType, exposition } = await scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const sample of exposition.samples.keys()) {
      const family = familyOf(sample, exposition.types);
      expect(family, `${sample} has no TYPE line`).toBeDefined();
      expect(exposition.helps.has(family as string), `${family} has no HELP line`).toBe(true);
    }
    expect(exposition.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(exposition.types.get('process_resident_memory_bytes')).toBe('gauge');
    expect(exposition.types.get('nodejs_heap_size_used_bytes')).toBe('gauge');
    expect(exposition.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    for (const [name, type] of [
      ['vouch_events_total', 'counter'],
      ['vouch_rule_hits_total', 'counter'],
      ['vouch_ingest_requests_total', 'counter'],
      ['vouch_alerts', 'gauge'],
      ['vouch_jobs_pending', 'gauge'],
      ['vouch_malformed_lines_total', 'counter'],
      ['vouch_job_failures_total', 'counter'],
      ['vouch_jobs_abandoned_total', 'counter'],
      ['vouch_job_lease_expiries_total', 'counter'],
    ]) {
      expect(exposition.types.get(name as string), name).toBe(type);
    }
  });

  it('counts job failures, abandoned jobs and lease expiries per kind, every kind from zero', async () => {
    const before = (await scrape()).exposition.samples;
    for (const kind of JOB_KINDS) {
      expect(before.get(`vouch_job_failures_total{kind="${kind}"}`)).toBe(0);
      expect(before.get(`vouch_jobs_abandoned_total{kind="${kind}"}`)).toBe(0);
      expect(before.get(`vouch_job_lease_expiries_total{kind="${kind}"}`)).toBe(0);
    }
    service.metrics.jobFailed('push');
    service.metrics.jobFailed('push');
    service.metrics.jobAbandoned('ask');
    service.metrics.jobLeaseExpired('poll');
    const after = (await scrape()).exposition.samples;
    expect(after.get('vouch_job_failures_total{kind="push"}')).toBe(2);
    expect(after.get('vouch_job_failures_total{kind="ask"}')).toBe(0);
    expect(after.get('vouch_jobs_abandoned_total{kind="ask"}')).toBe(1);
    expect(after.get('vouch_job_lease_expiries_total{kind="poll"}')).toBe(1);
  });

  it('shows what ingest stored: events, rule hits, alerts by status, pending jobs, malformed lines', async () => {
    const response = await fetch(`${service.url}/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' },
      body: `${SUDO_LINE}\nthis is not a sudo line\n`,
    });
    expect(response.status).toBe(200);
    const { samples } = (await scrape()).exposition;
    expect(samples.get('vouch_ingest_requests_total{source="fleet"}')).toBe(1);
    expect(samples.get('vouch_events_total{source="fleet"}')).toBe(1);
    expect(samples.get('vouch_rule_hits_total{source="fleet"}')).toBe(1);
    expect(samples.get('vouch_alerts{status="new"}')).toBe(1);
    expect(samples.get('vouch_alerts{status="verified"}')).toBe(0);
    expect(samples.get('vouch_jobs_pending')).toBeGreaterThanOrEqual(1);
    const malformed = [...samples].filter(([key]) => key.startsWith('vouch_malformed_lines_total{source="fleet",reason="'));
    expect(malformed.map(([, value]) => value).reduce((sum, value) => sum + value, 0)).toBe(1);
  });
});
