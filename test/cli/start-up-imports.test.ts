import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const IMPORT = /^\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

/** Packages reached through static imports from `entry` (type-only imports excluded), with one path to each. */
function staticPackages(entry: string): Map<string, string[]> {
  const via = new Map<string, string | null>([[entry, null]]);
  const queue = [entry];
  const packages = new Map<string, string[]>();
  const chain = (file: string): string[] => {
    const out: string[] = [];
    for (let at: string | null | undefined = file; at; at = via.get(at)) out.push(path.relative(ROOT, at));
    return out;
  };
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = (match[1] ?? match[2])!;
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
        if (existsSync(target) && !via.has(target)) {
          via.set(target, file);
          queue.push(target);
        }
      } else if (!spec.startsWith('node:')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!packages.has(name)) packages.set(name, [name, ...chain(file)]);
      }
    }
  }
  return packages;
}

describe('the command line at start-up', () => {
  it('loads only the argument parser: the database, logging, metrics, SSO and YAML load with the commands that use them', () => {
    // `vouch scan` of a small log is mostly start-up; every module a command does not use costs it.
    const packages = staticPackages(path.join(ROOT, 'src/cli/main.ts'));
    const heavy = [...packages.entries()].filter(([name]) => name !== 'commander').map(([, route]) => route.join(' <- '));
    expect(heavy).toEqual([]);
  });

  it('reads a log for `vouch scan` without the database or the service', () => {
    const packages = [...staticPackages(path.join(ROOT, 'src/cli/scan-command.ts')).keys()];
    for (const name of ['kysely', 'pg', '@electric-sql/pglite', 'pino', 'prom-client', 'openid-client', '@slack/web-api']) expect(packages).not.toContain(name);
  });
});
