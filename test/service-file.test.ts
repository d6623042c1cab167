import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DatabaseInUseError } from '../src/errors.js';
import { identityOf } from '../src/process-identity.js';
import { readServiceFile, serviceFilePath, writeServiceFile } from '../src/service-file.js';

/**
 * The service file tells the CLI where the service on embedded PGlite runs. A process never
 * overwrites or deletes the file of another one that may still run: a second start used to take
 * it over, and its SIGTERM deleted it while the first still served.
 */
describe('the service file', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'vouch-service-file-'));
  const children: ChildProcess[] = [];
  let count = 0;
  const newDir = () => path.join(root, `data-${++count}`);
  const record = (dir: string, value: Record<string, unknown>) => writeFileSync(serviceFilePath(dir), JSON.stringify({ url: 'http://127.0.0.1:18300', token: 't', ...value }));

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('records this process, readable only by this user, and its removal deletes it', () => {
    const dir = newDir();
    const remove = writeServiceFile(dir, 'http://127.0.0.1:18301', 'token-1');
    expect(readServiceFile(dir)).toMatchObject({ url: 'http://127.0.0.1:18301', token: 'token-1', ...identityOf(process.pid) });
    expect(statSync(serviceFilePath(dir)).mode & 0o777).toBe(0o600);
    remove();
    expect(existsSync(serviceFilePath(dir))).toBe(false);
  });

  it('refuses to overwrite the file of another process that still runs, naming it', async () => {
    const dir = newDir();
    const remove = writeServiceFile(dir, 'http://127.0.0.1:18302', 'token-1');
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(other);
    await new Promise((resolve) => other.once('spawn', resolve));
    record(dir, { ...identityOf(other.pid as number) });
    expect(() => writeServiceFile(dir, 'http://127.0.0.1:18303', 'token-2')).toThrow(DatabaseInUseError);
    expect(() => writeServiceFile(dir, 'http://127.0.0.1:18303', 'token-2')).toThrow(`names another running vouch (pid ${other.pid}, http://127.0.0.1:18300)`);
    // Nor does this process's removal delete it.
    remove();
    expect(readServiceFile(dir)).toMatchObject({ pid: other.pid });
  });

  it('replaces the file of a process that is gone (a crash left it behind)', () => {
    const dir = newDir();
    writeServiceFile(dir, 'http://127.0.0.1:18304', 'token-1');
    const gone = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    record(dir, { pid: gone });
    writeServiceFile(dir, 'http://127.0.0.1:18305', 'token-2')();
    expect(existsSync(serviceFilePath(dir))).toBe(false);
  });
});
