import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** The real auditd samples (elastic/go-libaudit, Apache-2.0; see SOURCE.md there). */
export const GO_LIBAUDIT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'go-libaudit');

/** A temporary directory per test; `cleanup()` removes it. */
export async function tempDir(prefix: string): Promise<{ dir: string; file(name: string, text: string | Buffer): Promise<string>; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return {
    dir,
    async file(name, text) {
      const full = path.join(dir, name);
      await writeFile(full, text);
      return full;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A stream that keeps what was written, optionally slow (small buffer, delayed callbacks). */
export function captureStream(options: { slow?: boolean } = {}): Writable & { text(): string; writes: number } {
  const chunks: string[] = [];
  const stream = new Writable({
    highWaterMark: options.slow ? 16 : 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      capture.writes += 1;
      if (options.slow) setImmediate(callback);
      else callback();
    },
  });
  const capture = Object.assign(stream, { writes: 0, text: () => chunks.join('') });
  return capture;
}

/** A rule file with a few simple rules for tests that need hits on ordinary commands. */
export const TEST_RULES = `
rules:
  - id: grep-used
    name: grep was run
    severity: low
    match:
      argv0: [grep]
  - id: cat-secret
    name: cat of a secret file
    severity: high
    match:
      argv0: [cat]
    exceptions:
      - any_arg: [securitybeat]
  - id: never-hits
    name: a rule nothing matches
    severity: medium
    match:
      argv0: [definitely-not-a-command]
  - id: mysql-client
    name: mysql client with a password
    severity: medium
    match:
      argv0: [mysql]
`;
