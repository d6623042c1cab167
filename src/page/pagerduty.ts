/**
 * PagerDuty's Events API v2 (POST <api_url>/v2/enqueue), for paging on critical escalations.
 * Events are keyed by `dedup_key` (the alert id): PagerDuty folds a repeated trigger into the open
 * incident, so a retry after a lost answer never pages twice.
 */
import { PageError } from '../errors.js';

export type PageSeverity = 'critical' | 'error' | 'warning' | 'info';

export interface PageTrigger {
  dedupKey: string;
  /** One line, at most 1024 characters (longer is cut). */
  summary: string;
  /** The affected host. */
  source: string;
  severity: PageSeverity;
  customDetails: Record<string, unknown>;
}

/** The port the workflow pages through. */
export interface PagerPort {
  /** Triggers (or re-triggers, idempotently) the incident for `dedupKey`. Throws PageError. */
  trigger(event: PageTrigger): Promise<void>;
  /** Resolves the incident for `dedupKey` (a reviewer closed the alert). Throws PageError. */
  resolve(dedupKey: string): Promise<void>;
}

export interface PagerDutyOptions {
  routingKey: string;
  /** Base URL, e.g. https://events.pagerduty.com. */
  apiUrl: string;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const SUMMARY_MAX = 1024;

export class PagerDuty implements PagerPort {
  constructor(private readonly options: PagerDutyOptions) {}

  async trigger(event: PageTrigger): Promise<void> {
    await this.enqueue({
      routing_key: this.options.routingKey,
      event_action: 'trigger',
      dedup_key: event.dedupKey,
      payload: {
        summary: cut(event.summary, SUMMARY_MAX),
        source: cut(event.source, 255) || 'unknown',
        severity: event.severity,
        component: 'vouch',
        custom_details: event.customDetails,
      },
    });
  }

  async resolve(dedupKey: string): Promise<void> {
    await this.enqueue({ routing_key: this.options.routingKey, event_action: 'resolve', dedup_key: dedupKey });
  }

  /**
   * 202 is accepted; 400 means the event itself is wrong (a retry would fail the same way, but
   * the job runner's attempts bound it and leave it visible); 429 and 5xx are worth retrying.
   */
  private async enqueue(body: Record<string, unknown>): Promise<void> {
    const send = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await send(`${this.options.apiUrl}/v2/enqueue`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new PageError(`PagerDuty unreachable: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text().catch(() => '');
    if (response.status === 202) return;
    const detail = describe(text);
    if (response.status === 429) throw new PageError(`PagerDuty rate limit (429): ${detail}`);
    throw new PageError(`PagerDuty refused the event (${response.status}): ${detail}`);
  }
}

function describe(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; errors?: unknown };
    const errors = Array.isArray(parsed.errors) ? `: ${parsed.errors.map(String).join('; ')}` : '';
    return `${String(parsed.message ?? 'no message')}${errors}`.slice(0, 500);
  } catch {
    return text.slice(0, 200) || 'no body';
  }
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
