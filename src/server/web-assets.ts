/**
 * The front-end's static files (web/, compiled into dist/web/ by `npm run build`), served as they
 * are: no page script or stylesheet lives in a string. A path is looked up only inside the asset
 * directory, only with a known extension, so no request can read anything else.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RequestError } from '../errors.js';
import { sendText } from '../http/respond.js';
import type { RouteHandler } from './http-server.js';

/** Where routes are mounted: the HttpServer, or a test's stand-in. */
export interface RouteRegistry {
  route(method: string, path: string, handler: RouteHandler): unknown;
}

/** The checkout's root, whether this module runs from src/ (tests) or dist/src/ (the build). */
function projectRoot(): string {
  const twoUp = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  return path.basename(twoUp) === 'dist' ? path.dirname(twoUp) : twoUp;
}

/** Where the compiled front-end lives. */
export const WEB_BUILD_DIR = path.join(projectRoot(), 'dist', 'web');
/** The front-end's sources: stylesheets and static pages are copied from here as they are. */
export const WEB_SOURCE_DIR = path.join(projectRoot(), 'web');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Files copied from web/ to dist/web/ unchanged (the rest is TypeScript, compiled by tsc). */
export const COPIED_EXTENSIONS = ['.css', '.html', '.svg'];

const SAFE_PATH = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*\.[a-z]+$/;

/**
 * The text of an asset such as `console/console.css`. Copied files are read from web/ when the
 * build has not run (a test from a fresh checkout); compiled scripts need `npm run build`.
 */
export function readWebAsset(relative: string): string {
  if (!SAFE_PATH.test(relative) || !(path.extname(relative) in CONTENT_TYPES)) throw new RequestError(404, 'not found');
  const built = path.join(WEB_BUILD_DIR, relative);
  if (existsSync(built)) return readFileSync(built, 'utf8');
  if (COPIED_EXTENSIONS.includes(path.extname(relative))) {
    const source = path.join(WEB_SOURCE_DIR, relative);
    if (existsSync(source)) return readFileSync(source, 'utf8');
  }
  if (relative.endsWith('.js') && existsSync(path.join(WEB_SOURCE_DIR, relative.replace(/\.js$/, '.ts')))) {
    throw new Error(`front-end script ${relative} is not built: run npm run build`);
  }
  throw new RequestError(404, 'not found');
}

/** The files served from one directory of web/, by their served names (`app.ts` is `app.js`). */
export function webAssetFiles(directory: string): string[] {
  return readdirSync(path.join(WEB_SOURCE_DIR, directory))
    .map((name) => name.replace(/\.ts$/, '.js'))
    .filter((name) => path.extname(name) in CONTENT_TYPES)
    .sort();
}

/** Headers every page and asset of the browser surfaces carries. */
export function securityHeaders(res: ServerResponse, csp: string): void {
  res.setHeader('content-security-policy', csp);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
}

/** Answers with one asset and its content type. */
export function sendWebAsset(res: ServerResponse, relative: string, csp: string): void {
  const body = readWebAsset(relative);
  securityHeaders(res, csp);
  sendText(res, 200, body, CONTENT_TYPES[path.extname(relative)]);
}

/** A policy for pages that load only their own scripts and stylesheets. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Serves the shared front-end modules at /assets/shared/* (what every page's scripts import). */
export function routeSharedAssets(http: RouteRegistry): void {
  http.route('GET', '/assets/shared/*', (_req, res, url) => sendWebAsset(res, url.pathname.slice('/assets/'.length), PAGE_CSP));
}
