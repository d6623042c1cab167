import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './harness.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(root, 'bin', 'vouch');
const built = existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'));

/** `npm install && npm start` on embedded defaults, then `vouch report` beside it, as a user would. */
describe.skipIf(!built)('vouch start (sandbox, embedded PGlite) with vouch report beside it', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vouch-cli-'));
  const env = { ...process.env, VOUCH_DATA_DIR: dataDir, VOUCH_PORT: '0', DATABASE_URL: '', VOUCH_CONFIG: '', SLACK_BOT_TOKEN: '', SLACK_SIGNING_SECRET: '', DUO_IKEY: '', DUO_SKEY: '', DUO_API_HOST: '' };
  let service: ChildProcess;
  let stdout = '';

  const vouch = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 60_000 });

  beforeAll(async () => {
    service = spawn(process.execPath, [bin, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    service.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    service.stderr?.resume();
    await waitFor(() => existsSync(path.join(dataDir, 'service.json')), 'the service to start', 60_000);
  }, 90_000);

  afterAll(async () => {
    if (service.exitCode === null) {
      service.kill('SIGTERM');
      await new Promise((resolve) => service.once('exit', resolve));
    }
  });

  it('says where the sandbox is and answers /healthz', async () => {
    const { url } = JSON.parse(readFileSync(path.join(dataDir, 'service.json'), 'utf8')) as { url: string };
    await waitFor(() => stdout.includes(`${url}/sandbox`), 'the sandbox address on stdout');
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', database: 'pglite', sandbox: true });
  });

  it('reports the demo alerts while the service holds the database', async () => {
    const rows = await waitFor(() => {
      const result = vouch('report', '--format', 'json');
      const parsed = result.status === 0 ? (JSON.parse(result.stdout) as Array<Record<string, unknown>>) : [];
      return parsed.length >= 5 ? parsed : null;
    }, 'the demo alerts', 60_000);
    for (const row of rows) {
      for (const field of ['id', 'status', 'user', 'host', 'command', 'rule', 'severity', 'occurred_at', 'justification', 'second_factor', 'escalation_reason', 'resolved_at']) {
        expect(row).toHaveProperty(field);
      }
    }
    expect(rows.find((row) => row.user === 'mallory')).toMatchObject({ status: 'escalated', escalation_reason: 'unknown_owner' });
    const escalated = vouch('report', '--status', 'escalated', '--format', 'csv');
    expect(escalated.status).toBe(0);
    expect(escalated.stdout.split('\r\n')[0]).toMatch(/^id,status,user,host,command,rule,severity/);
    expect(escalated.stdout).toContain('mallory');
    expect(escalated.stdout).not.toContain('alice');
    const table = vouch('report', '--user', 'alice');
    expect(table.stdout).toMatch(/2 alerts: 2 asked/);
  });

  it('rejects bad report arguments with a clear message', () => {
    const bad = vouch('report', '--status', 'pending');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('"pending" is not a status');
    const since = vouch('report', '--since', 'yesterday');
    expect(since.status).toBe(2);
    expect(since.stderr).toContain('--since');
    // Not read as March 2, which would make it "later than --until".
    const impossible = vouch('report', '--since', '2026-02-30', '--until', '2026-03-01');
    expect(impossible.status).toBe(2);
    expect(impossible.stderr).toContain('--since: "2026-02-30" is not a calendar date: 2026-02 has no day 30');
    const waiting = vouch('report', '--status', 'new');
    expect(waiting.stderr).toBe('');
    expect(waiting.status).toBe(0);
  });

  it('doctor and migrate refuse to open the embedded database the service holds', () => {
    const migrate = vouch('migrate');
    expect(migrate.status).toBe(2);
    expect(migrate.stderr).toMatch(/the service is running \(pid \d+\) on the embedded database, which only one process can open\. Stop the service and run vouch migrate again/);
    const doctor = vouch('doctor');
    expect(doctor.status).toBe(1);
    expect(doctor.stdout).toMatch(/ok\s+config\s+valid \(sandbox/);
    expect(doctor.stdout).toMatch(/FAIL\s+database\s+the service is running \(pid \d+\) on the embedded database, which only one process can open/);
  });

  it('stops on SIGTERM, and then report opens the embedded database itself', async () => {
    service.kill('SIGTERM');
    const code = await new Promise((resolve) => service.once('exit', resolve));
    expect(code).toBe(0);
    expect(existsSync(path.join(dataDir, 'service.json'))).toBe(false);
    const result = vouch('report', '--format', 'json');
    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as unknown[]).length).toBeGreaterThanOrEqual(5);
  });

  it('refuses a bad configuration with the key and the fix, exit code 2', () => {
    const result = spawnSync(process.execPath, [bin, 'start'], { env: { ...env, SLACK_BOT_TOKEN: 'xoxb-1' }, encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('slack.signing_secret');
    expect(result.stderr).not.toContain('xoxb-1');
  });
});
