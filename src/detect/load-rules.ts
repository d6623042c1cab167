import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { RuleError } from '../errors.js';
import { compileRules, type CompiledRuleSet } from './compile-rules.js';
import { ruleError, validateRuleDocument } from './rule-schema.js';

const DEFAULT_PACK = 'default-rules.yml';
/** Where the pack lives relative to the package root (compiled code runs from dist/src/detect/). */
const DEFAULT_PACK_FROM_ROOT = path.join('src', 'detect', DEFAULT_PACK);

/**
 * Parses and compiles a YAML rule document. `sourceName` (usually the file's base name) starts
 * every error message. Throws RuleError on bad YAML, an unknown or missing field, or an invalid
 * regex.
 */
export function parseRules(yamlText: string, sourceName: string): CompiledRuleSet {
  const doc = parseDocument(yamlText, { prettyErrors: true, uniqueKeys: true });
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
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RuleError(`${path.basename(filePath)}: cannot read rule file ${filePath}: ${reason}`, { cause: error });
  }
  return parseRules(text, path.basename(filePath));
}

/** The shipped default rule pack (src/detect/default-rules.yml), compiled. */
export function loadDefaultRules(): CompiledRuleSet {
  return loadRuleFile(defaultRulesPath());
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
