/**
 * Build step (`npm run build`, after tsc compiled web/ into dist/web/): copies the front-end's
 * stylesheets and static pages beside the compiled scripts, so dist/web/ is everything served.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COPIED_EXTENSIONS, WEB_BUILD_DIR, WEB_SOURCE_DIR } from './web-assets.js';

/** Copies every stylesheet and page under web/ to dist/web/; returns how many. */
export function copyWebAssets(from: string = WEB_SOURCE_DIR, to: string = WEB_BUILD_DIR): number {
  let copied = 0;
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) copied += copyWebAssets(source, path.join(to, entry.name));
    else if (COPIED_EXTENSIONS.includes(path.extname(entry.name))) {
      mkdirSync(to, { recursive: true });
      copyFileSync(source, path.join(to, entry.name));
      copied += 1;
    }
  }
  return copied;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`copied ${copyWebAssets()} front-end files to ${WEB_BUILD_DIR}\n`);
}
