import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { copyWebAssets } from '../../src/server/build-web-assets.js';

let built = false;

/**
 * Compiles web/ into dist/web/ as `npm run build` does, once per test file: browser tests load
 * the pages' real scripts, and a focused run must not depend on an earlier build.
 */
export function buildWebAssets(): void {
  if (built) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'web/tsconfig.json'], { stdio: 'inherit' });
  copyWebAssets();
  built = true;
}
