import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CommandEvent } from '../../src/sources/command-event.js';
import type { LogParser } from '../../src/sources/parser.js';
import { run, type Collected } from '../sources/parsers/parser-harness.js';

/** The repository's root directory; fixture paths in the cached oracle answers are relative to it. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A fixture's text, by its path from the repository root. */
export function readFixture(path: string): string {
  return readFileSync(`${REPO_ROOT}${path}`, 'utf8');
}

/** Feeds a whole fixture file to a parser, line by line, and flushes it. */
export function parseFixture(parser: LogParser, path: string, now?: Date): Collected {
  const lines = readFixture(path).split('\n');
  if (lines.at(-1) === '') lines.pop();
  return run(parser, lines, now);
}

/** Reads a cached oracle answer (a JSON file beside this module). */
export function readCachedOracle<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, import.meta.url), 'utf8')) as T;
}

/** The audit event id `seconds.millis:serial` of an event from the auditd or laurel parser. */
export function auditIdOf(event: CommandEvent): string {
  const ms = event.time.getTime();
  const serial = event.eventKey.slice(event.eventKey.lastIndexOf(':') + 1);
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}:${serial}`;
}

/**
 * Runs a command from the repository root and returns its standard output, or null with the reason
 * when it cannot run (the tool is not installed): the oracle tests then skip, saying why.
 */
export function runTool(command: string, args: readonly string[]): { stdout: string } | { missing: string } {
  const result = spawnSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error !== undefined) return { missing: `${command}: ${result.error.message}` };
  if (result.status !== 0) return { missing: `${command} exited ${result.status}: ${result.stderr.slice(0, 500)}` };
  return { stdout: result.stdout };
}

/** One exec event as libauparse decodes it (auparse-oracle.py). */
export interface AuparseEvent {
  id: string;
  argv: string[];
  exe: string | null;
  cwd: string | null;
  auid: number | null;
  uid: number | null;
  euid: number | null;
  path0: string | null;
  euid_name: string | null;
}
