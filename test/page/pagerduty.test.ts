import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PageError } from '../../src/errors.js';
import { PagerDuty } from '../../src/page/pagerduty.js';
import { PagerDutySimulator } from '../../src/sandbox/pagerduty-simulator.js';

const KEY = 'R0UT1NGKEY0000000000000000000000';
const trigger = { dedupKey: 'al_1', summary: 'Vouch: audit disabled on db-1', source: 'db-1', severity: 'critical' as const, customDetails: { alert: 'al_1' } };

describe('PagerDuty Events API v2 client against the double', () => {
  let simulator: PagerDutySimulator;
  let url: string;
  let close: () => Promise<void>;
  beforeEach(async () => {
    simulator = new PagerDutySimulator({ routingKeys: [KEY] });
    ({ url, close } = await simulator.listen(0));
  });
  afterEach(() => close());

  async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${url}/v2/enqueue`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  it('triggers, folds a repeated trigger into the open incident, and resolves', async () => {
    const pager = new PagerDuty({ routingKey: KEY, apiUrl: url });
    await pager.trigger(trigger);
    await pager.trigger(trigger);
    expect(simulator.incidents()).toEqual([expect.objectContaining({ dedupKey: 'al_1', status: 'triggered', events: 2, severity: 'critical' })]);
    await pager.resolve('al_1');
    expect(simulator.incidents()[0]?.status).toBe('resolved');
    // After a resolve, the same key opens a new incident.
    await pager.trigger(trigger);
    expect(simulator.incidents()).toHaveLength(2);
  });

  it('answers 202 with the dedup key, as PagerDuty does', async () => {
    const answer = await post({ routing_key: KEY, event_action: 'trigger', dedup_key: 'k', payload: { summary: 's', source: 'h', severity: 'error' } });
    expect(answer).toEqual({ status: 202, json: { status: 'success', message: 'Event processed', dedup_key: 'k' } });
  });

  it.each([
    [{ routing_key: 'nope', event_action: 'trigger', payload: { summary: 's', source: 'h', severity: 'critical' } }, /routing_key/],
    [{ routing_key: KEY, event_action: 'page', payload: { summary: 's', source: 'h', severity: 'critical' } }, /event_action/],
    [{ routing_key: KEY, event_action: 'trigger' }, /payload/],
    [{ routing_key: KEY, event_action: 'trigger', payload: { summary: '', source: 'h', severity: 'critical' } }, /summary/],
    [{ routing_key: KEY, event_action: 'trigger', payload: { summary: 's', source: 'h', severity: 'high' } }, /severity/],
    [{ routing_key: KEY, event_action: 'resolve' }, /dedup_key/],
  ])('refuses an invalid event with 400 %#', async (body, field) => {
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ status: 'invalid event', message: 'Event object is invalid' });
    expect(JSON.stringify(answer.json.errors)).toMatch(field);
    expect(simulator.events()).toEqual([]);
  });

  it('reports a refusal and a rate limit as PageError', async () => {
    await expect(new PagerDuty({ routingKey: 'X'.repeat(32), apiUrl: url }).trigger(trigger)).rejects.toThrow(/PagerDuty refused the event \(400\): Event object is invalid/);
    simulator.rateLimitNext(1);
    const pager = new PagerDuty({ routingKey: KEY, apiUrl: url });
    await expect(pager.trigger(trigger)).rejects.toBeInstanceOf(PageError);
    await pager.trigger(trigger);
    expect(simulator.incidents()).toHaveLength(1);
  });

  it('a lost answer leaves the event processed; the retry is folded in', async () => {
    const pager = new PagerDuty({ routingKey: KEY, apiUrl: url });
    simulator.loseResponseNext(1);
    await expect(pager.trigger(trigger)).rejects.toThrow(/PagerDuty unreachable/);
    await pager.trigger(trigger);
    expect(simulator.events()).toHaveLength(2);
    expect(simulator.incidents()).toHaveLength(1);
  });
});
