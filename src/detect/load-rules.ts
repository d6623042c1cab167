import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuleError } from '../errors.js';
import { compileRules, type CompiledRuleSet } from './compile-rules.js';
import { ruleError, validateRuleDocument, type RuleSpec } from './rule-schema.js';

/**
 * The YAML parser, loaded on first use: the default pack is read precompiled (see
 * loadDefaultRules), so `vouch scan` without a rule file never loads it. `require` because rule
 * loading is synchronous; the package ships a CommonJS build for Node.
 */
const yaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml') as typeof import('yaml');

const DEFAULT_PACK = 'default-rules.yml';
/** The precompiled default pack, written beside the compiled module at build time. */
export const PRECOMPILED_PACK = 'default-rules.json';
/** Where the pack lives relative to the package root (compiled code runs from dist/src/detect/). */
const DEFAULT_PACK_FROM_ROOT = path.join('src', 'detect', DEFAULT_PACK);

/**
 * Parses and compiles a YAML rule document. `sourceName` (usually the file's base name) starts
 * every error message. Throws RuleError on bad YAML, an unknown or missing field, or an invalid
 * regex.
 */
export function parseRules(yamlText: string, sourceName: string): CompiledRuleSet {
  const doc = yaml().parseDocument(yamlText, { prettyErrors: true, uniqueKeys: true });
  const problem = doc.errors[0];
  if (problem) throw ruleError(sourceName, null, null, `invalid YAML: ${problem.message}`);
  let data: unknown;
  try {
    // The alias limit stops "billion laughs" documents from expanding without bound.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new RuleError(`${sourceName}: invalid YAML: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return compileRules(validateRuleDocument(data, sourceName), sourceName);
}

/** Reads and compiles a rule file; errors name the file by its base name. */
export function loadRuleFile(filePath: string): CompiledRuleSet {
  return parseRules(readRuleText(filePath), path.basename(filePath));
}

/**
 * The shipped default rule pack (src/detect/default-rules.yml), compiled. When the build left a
 * precompiled pack (validated specs, see precompile-default-rules.ts) for exactly this YAML text
 * beside the module, it is used and its regexes are compiled as commands need them: no YAML
 * parsing, no validation, no compilation up front. Otherwise, or when the YAML was edited since
 * the build, the YAML is read as any rule file.
 */
export function loadDefaultRules(moduleUrl: string = import.meta.url): CompiledRuleSet {
  const yamlPath = defaultRulesPath(moduleUrl);
  const text = readRuleText(yamlPath);
  const specs = precompiledSpecs(path.join(path.dirname(fileURLToPath(moduleUrl)), PRECOMPILED_PACK), text);
  return specs ? compileRules(specs, DEFAULT_PACK, { lazy: true }) : parseRules(text, DEFAULT_PACK);
}

/**
 * The precompiled pack's contents: the YAML text it was made from and the specs validated from it.
 * The text itself is kept, not a digest: comparing two strings of 15 KB costs nothing, while a
 * digest would load OpenSSL into every scan.
 */
export interface PrecompiledPack {
  yamlText: string;
  specs: RuleSpec[];
}

/** Validates the default pack's YAML (and compiles it, so a bad regex fails the build) into a PrecompiledPack. */
export function precompilePack(yamlText: string): PrecompiledPack {
  parseRules(yamlText, DEFAULT_PACK);
  return { yamlText, specs: validateRuleDocument(yaml().parse(yamlText), DEFAULT_PACK) };
}

/** The specs of a precompiled pack made from `yamlText`, or null when absent, unreadable or stale. */
function precompiledSpecs(file: string, yamlText: string): RuleSpec[] | null {
  let pack: Partial<PrecompiledPack>;
  try {
    pack = JSON.parse(readFileSync(file, 'utf8')) as Partial<PrecompiledPack>;
  } catch {
    return null;
  }
  return pack.yamlText === yamlText && Array.isArray(pack.specs) ? pack.specs : null;
}

function readRuleText(filePath: string): string {
  try {
    return readFileSync(filePath, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RuleError(`${path.basename(filePath)}: cannot read rule file ${filePath}: ${reason}`, { cause: error });
  }
}

/**
 * The default pack's path: next to this module when running from source, otherwise
 * `src/detect/default-rules.yml` under the nearest ancestor directory holding package.json (the
 * compiler does not copy YAML into dist/). Throws RuleError when neither exists.
 */
export function defaultRulesPath(moduleUrl: string = import.meta.url): string {
  const moduleDir = path.dirname(fileURLToPath(moduleUrl));
  const beside = path.join(moduleDir, DEFAULT_PACK);
  if (existsSync(beside)) return beside;
  for (let dir = moduleDir; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) {
      const candidate = path.join(dir, DEFAULT_PACK_FROM_ROOT);
      if (existsSync(candidate)) return candidate;
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new RuleError(`${DEFAULT_PACK}: the default rule pack was not found next to ${moduleDir} or under the package root`);
}
