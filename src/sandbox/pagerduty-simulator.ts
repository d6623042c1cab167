/**
 * A PagerDuty Events API v2 double speaking the real wire protocol: `POST /v2/enqueue` with a JSON
 * event, validated as PagerDuty does (202 `{status:'success', message:'Event processed',
 * dedup_key}`, 400 `{status:'invalid event', message:'Event object is invalid', errors}`, 429 when
 * rate limited), and PagerDuty's de-duplication: a trigger whose dedup_key names an open incident
 * is folded into it. It counts every event and every incident, so tests can tell "sent twice" from
 * "paged twice". Only node built-ins and the service's own body reader are used.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestError } from '../errors.js';
import { readBody, trackResponses } from '../http/request-body.js';

export interface PagerDutyEvent {
  routingKey: string;
  action: 'trigger' | 'acknowledge' | 'resolve';
  dedupKey: string;
  payload: Record<string, unknown> | null;
  receivedAt: Date;
}

export interface PagerDutyIncident {
  dedupKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  summary: string;
  severity: string;
  source: string;
  customDetails: unknown;
  /** Events folded into this incident (the first trigger included). */
  events: number;
}

export interface PagerDutySimulatorOptions {
  /** Routing keys of the integrations that exist; others are refused. */
  routingKeys: readonly string[];
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];
/** PagerDuty refuses events larger than 512 KB. */
const MAX_BODY = 512 * 1024;

export class PagerDutySimulator {
  private readonly received: PagerDutyEvent[] = [];
  private readonly open = new Map<string, PagerDutyIncident>();
  private readonly all: PagerDutyIncident[] = [];
  private rateLimited = 0;
  private lostResponses = 0;
  private server: ReturnType<typeof createServer> | null = null;

  constructor(private readonly options: PagerDutySimulatorOptions) {}

  /** Every accepted event, oldest first (triggers folded into an incident included). */
  events(): PagerDutyEvent[] {
    return [...this.received];
  }

  /** Every incident ever opened, oldest first. */
  incidents(): PagerDutyIncident[] {
    return this.all.map((incident) => ({ ...incident }));
  }

  /** The next `count` events get 429, as PagerDuty does past its rate limit. */
  rateLimitNext(count: number): void {
    this.rateLimited += count;
  }

  /** The next `count` events are processed, then the connection is dropped without an answer. */
  loseResponseNext(count = 1): void {
    this.lostResponses += count;
  }

  async listen(port = 0): Promise<{ url: string; close(): Promise<void> }> {
    const server = createServer((req, res) => void this.handle(req, res));
    trackResponses(server);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const { port: bound } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${bound}`, close: () => this.close() };
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
  }

  /** Answers one request; `path` is the request's path below the simulator's base URL. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string = (req.url ?? '/').split('?')[0] ?? '/'): Promise<void> {
    if (path !== '/v2/enqueue') return send(res, 404, { status: 'not found', message: 'Not found' });
    if (req.method !== 'POST') return send(res, 405, { status: 'method not allowed', message: 'Use POST' });
    const body = await readAll(req);
    if (body === null) return send(res, 413, { status: 'invalid event', message: 'Request entity too large' });
    if (this.rateLimited > 0) {
      this.rateLimited -= 1;
      return send(res, 429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly. Please retry later.' });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return invalid(res, ['Malformed JSON']);
    }
    const checked = this.validate(parsed);
    if ('errors' in checked) return invalid(res, checked.errors);
    const dedupKey = this.apply(checked.event);
    if (this.lostResponses > 0) {
      this.lostResponses -= 1;
      req.socket.destroy();
      return;
    }
    send(res, 202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
  }

  private validate(value: unknown): { event: PagerDutyEvent } | { errors: string[] } {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { errors: ['Event must be a JSON object'] };
    const raw = value as Record<string, unknown>;
    const errors: string[] = [];
    const routingKey = raw.routing_key;
    if (typeof routingKey !== 'string' || routingKey.length !== 32) errors.push("'routing_key' must be a 32 character string");
    else if (!this.options.routingKeys.includes(routingKey)) errors.push("'routing_key' does not match an integration");
    const action = raw.event_action;
    if (typeof action !== 'string' || !ACTIONS.includes(action)) errors.push("'event_action' must be one of trigger, acknowledge, resolve");
    const dedupKey = raw.dedup_key;
    if (dedupKey !== undefined && (typeof dedupKey !== 'string' || dedupKey === '' || dedupKey.length > 255)) errors.push("'dedup_key' must be a string of 1 to 255 characters");
    if (action !== 'trigger' && action !== undefined && dedupKey === undefined) errors.push("'dedup_key' is required for acknowledge and resolve");
    let payload: Record<string, unknown> | null = null;
    if (action === 'trigger') {
      const p = raw.payload;
      if (typeof p !== 'object' || p === null || Array.isArray(p)) errors.push("'payload' is missing or not an object");
      else {
        payload = p as Record<string, unknown>;
        if (typeof payload.summary !== 'string' || payload.summary.trim() === '') errors.push("'payload.summary' is missing or blank");
        else if (payload.summary.length > 1024) errors.push("'payload.summary' must be at most 1024 characters");
        if (typeof payload.source !== 'string' || payload.source.trim() === '') errors.push("'payload.source' is missing or blank");
        if (typeof payload.severity !== 'string' || !SEVERITIES.includes(payload.severity)) errors.push("'payload.severity' must be one of critical, error, warning, info");
        if (payload.timestamp !== undefined && (typeof payload.timestamp !== 'string' || Number.isNaN(Date.parse(payload.timestamp)))) errors.push("'payload.timestamp' must be an ISO 8601 date");
        const details = payload.custom_details;
        if (details !== undefined && (typeof details !== 'object' || details === null)) errors.push("'payload.custom_details' must be an object");
      }
    }
    if (errors.length > 0) return { errors };
    return {
      event: {
        routingKey: routingKey as string,
        action: action as PagerDutyEvent['action'],
        dedupKey: (dedupKey as string | undefined) ?? randomUUID().replace(/-/g, ''),
        payload,
        receivedAt: new Date(),
      },
    };
  }

  /** Applies an event the way PagerDuty does: de-duplicates triggers into the open incident. */
  private apply(event: PagerDutyEvent): string {
    this.received.push(event);
    const incident = this.open.get(event.dedupKey);
    if (event.action === 'trigger') {
      if (incident) {
        incident.events += 1;
        return event.dedupKey;
      }
      const payload = event.payload ?? {};
      const opened: PagerDutyIncident = {
        dedupKey: event.dedupKey,
        status: 'triggered',
        summary: String(payload.summary),
        severity: String(payload.severity),
        source: String(payload.source),
        customDetails: payload.custom_details ?? null,
        events: 1,
      };
      this.open.set(event.dedupKey, opened);
      this.all.push(opened);
      return event.dedupKey;
    }
    // Acknowledge and resolve of an unknown or closed incident are accepted and change nothing.
    if (incident) {
      incident.events += 1;
      incident.status = event.action === 'resolve' ? 'resolved' : 'acknowledged';
      if (event.action === 'resolve') this.open.delete(event.dedupKey);
    }
    return event.dedupKey;
  }
}

function invalid(res: ServerResponse, errors: string[]): void {
  send(res, 400, { status: 'invalid event', message: 'Event object is invalid', errors });
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The body as text, or null past PagerDuty's size limit. */
async function readAll(req: IncomingMessage): Promise<string | null> {
  try {
    return (await readBody(req, MAX_BODY)).toString('utf8');
  } catch (error) {
    if (error instanceof RequestError && error.status === 413) return null;
    throw error;
  }
}
