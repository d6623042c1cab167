/**
 * The sandbox pages: one static page (plus its script and stylesheet) where a person plays each
 * demo engineer, and the small JSON API behind it. The page never receives data inside HTML: it
 * polls /sandbox/api/state and renders with textContent, so command lines typed by anyone can only
 * ever show up as text.
 *
 * The page, its stylesheet and its script modules are static front-end files (web/sandbox/,
 * compiled into dist/web/sandbox/); the shared modules they import come from /assets/shared/.
 *
 * Routes (mounted only in sandbox mode):
 *   GET  /sandbox               the page            GET  /sandbox/api/state   the snapshot (sandbox-state.ts)
 *   GET  /sandbox/app.js        its script (and     GET  /sandbox/api/demo    people and ready-made commands
 *        the modules it imports, /sandbox/*.js)     POST /sandbox/api/run     { login, command, host?, asRoot? }
 *   GET  /sandbox/app.css       its stylesheet
 *   POST /sandbox/api/click     { userId, channel, ts, actionId }
 *   POST /sandbox/api/submit    { userId, viewId, reason }
 *   POST /sandbox/api/push      { txid, answer: allow | deny | fraud }
 */
import type { ServerResponse } from 'node:http';
import type { Clock } from '../clock.js';
import { NotFoundError, RequestError } from '../errors.js';
import { sendJson } from '../http/respond.js';
import type { RouteHandler } from '../server/http-server.js';
import { routeSharedAssets, sendWebAsset, webAssetFiles } from '../server/web-assets.js';
import type { VouchDatabase } from '../store/database.js';
import type { DemoCommand } from './demo-log.js';
import type { DuoPushAnswer, DuoSimulator } from './duo-simulator.js';
import { readJsonObject, requireOneOf, requireString, type JsonObject } from './sandbox-request.js';
import { SANDBOX_PEOPLE, demoCommandFromRequest, sandboxPresets } from './sandbox-run.js';
import { sandboxState } from './sandbox-state.js';
import type { InteractionResponse, SlackSimulator } from './slack-simulator.js';

export interface SandboxPagesOptions {
  slack: SlackSimulator;
  duo: DuoSimulator;
  store: VouchDatabase;
  /** Appends a command to the demo audit log; the service's file source picks it up. */
  runDemoCommand: (command: DemoCommand) => void;
  securityChannel: string;
  clock: Clock;
}

/** What a person can answer on the simulated phone (a timeout is simply not answering). */
export const PHONE_ANSWERS: readonly DuoPushAnswer[] = ['allow', 'deny', 'fraud'];

/**
 * The page's policy: only its own script and stylesheet, no inline code, no framing, no plugins.
 * Inline style attributes are refused too, so the page styles through classes only.
 */
export const SANDBOX_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/** Mounts the sandbox page and its API on `http`. */
export function routeSandboxPages(http: { route(method: string, path: string, handler: RouteHandler): unknown }, options: SandboxPagesOptions): void {
  http.route('GET', '/sandbox', (_req, res) => sendWebAsset(res, 'sandbox/index.html', SANDBOX_CSP));
  http.route('GET', '/sandbox/', (_req, res) => void res.writeHead(308, { location: '/sandbox' }).end());
  routeSharedAssets(http);
  http.route('GET', '/sandbox/api/demo', api(async (_req, res) => sendJson(res, 200, { people: SANDBOX_PEOPLE, presets: sandboxPresets() })));
  http.route('GET', '/sandbox/api/state', api(async (_req, res) => sendJson(res, 200, await sandboxState(options))));
  http.route('POST', '/sandbox/api/run', api(async (req, res) => {
    const command = demoCommandFromRequest(await readJsonObject(req));
    options.runDemoCommand(command);
    sendJson(res, 200, { ok: true, argv: command.argv, host: command.host, login: command.login });
  }));
  http.route('POST', '/sandbox/api/click', api(async (req, res) => {
    const body = await readJsonObject(req);
    const input = { userId: requireString(body, 'userId'), channel: requireString(body, 'channel'), ts: requireString(body, 'ts'), actionId: requireString(body, 'actionId') };
    // A person sees only their own DM, so that is the only place they can click.
    if (input.channel !== dmChannel(options.slack, input.userId)) throw new RequestError(404, `no message ${input.ts} in ${input.userId}'s DM`);
    sendInteraction(res, await interact(() => options.slack.clickButton(input)));
  }));
  http.route('POST', '/sandbox/api/submit', api(async (req, res) => {
    const body = await readJsonObject(req);
    const input = { userId: requireString(body, 'userId'), viewId: requireString(body, 'viewId'), reason: reasonOf(body) };
    sendInteraction(res, await interact(() => options.slack.submitView({ userId: input.userId, viewId: input.viewId, values: { reason: input.reason } })));
  }));
  http.route('POST', '/sandbox/api/push', api(async (req, res) => {
    const body = await readJsonObject(req);
    const txid = requireString(body, 'txid');
    const answer = requireOneOf(body, 'answer', PHONE_ANSWERS);
    // respond() throws NotFoundError (unknown txid) or RequestError 409 (already answered).
    await interact(async () => options.duo.respond(txid, answer));
    sendJson(res, 200, { ok: true, txid, answer });
  }));
  for (const file of webAssetFiles('sandbox')) {
    if (file !== 'index.html') http.route('GET', `/sandbox/${file}`, (_req, res) => sendWebAsset(res, `sandbox/${file}`, SANDBOX_CSP));
  }
}

/** API answers, errors included, are never to be sniffed into something renderable. */
function api(handler: RouteHandler): RouteHandler {
  return (req, res, url) => {
    res.setHeader('x-content-type-options', 'nosniff');
    return handler(req, res, url);
  };
}

/** The reason may be empty (the service then answers with a field error, as Slack would show). */
function reasonOf(body: JsonObject): string {
  const value = body.reason;
  if (typeof value !== 'string') throw new RequestError(400, 'reason is required and must be a string');
  return value;
}

function dmChannel(slack: SlackSimulator, userId: string): string {
  try {
    return slack.dmChannelFor(userId);
  } catch (error) {
    if (error instanceof NotFoundError) throw new RequestError(404, error.message);
    throw error;
  }
}

/**
 * Runs a simulator call, turning "no such user, message, view or push" into 404 and a service that
 * cannot be reached into 502, so only genuine faults become a 500 (and get logged).
 */
async function interact<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof RequestError) throw error;
    if (error instanceof NotFoundError) throw new RequestError(404, error.message);
    if (error instanceof TypeError && error.message === 'fetch failed') throw new RequestError(502, 'the service did not answer the simulated Slack request');
    throw error;
  }
}

/** The service's own answer to the interaction, passed through for the page (and for tests). */
function sendInteraction(res: ServerResponse, response: InteractionResponse): void {
  sendJson(res, 200, { status: response.status, body: response.json ?? response.body });
}
