/**
 * Build step (`npm run build`, after tsc): writes the default rule pack, validated, as JSON beside
 * the compiled load-rules module (dist/src/detect/default-rules.json), with the YAML text it came
 * from. loadDefaultRules then starts from it instead of parsing YAML; an edited YAML no longer
 * matches that text and is read as such, so the two can never disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRECOMPILED_PACK, defaultRulesPath, precompilePack } from './load-rules.js';

/** Writes the precompiled pack for the module directory of `moduleUrl`; returns the file written. */
export function writePrecompiledPack(moduleUrl: string = import.meta.url): string {
  const yamlText = readFileSync(defaultRulesPath(moduleUrl), 'utf8');
  const file = path.join(path.dirname(fileURLToPath(moduleUrl)), PRECOMPILED_PACK);
  writeFileSync(file, JSON.stringify(precompilePack(yamlText)) + '\n');
  return file;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`precompiled the default rule pack: ${writePrecompiledPack()}\n`);
}
