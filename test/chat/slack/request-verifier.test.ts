import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signSlackRequest, verifySlackRequest } from '../../../src/chat/slack/request-verifier.js';

// Slack's documented example ("Verifying requests from Slack"), also used by bolt-js's tests.
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TIMESTAMP = '1531420618';
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
  '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com' +
  '%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const DOC_NOW = new Date(Number(DOC_TIMESTAMP) * 1000);

function check(overrides: Partial<Parameters<typeof verifySlackRequest>[0]> = {}) {
  return verifySlackRequest({
    signingSecret: DOC_SECRET,
    timestampHeader: DOC_TIMESTAMP,
    signatureHeader: DOC_SIGNATURE,
    rawBody: DOC_BODY,
    now: DOC_NOW,
    ...overrides,
  });
}

describe('verifySlackRequest', () => {
  it("accepts Slack's documented example", () => {
    expect(check()).toEqual({ ok: true });
    expect(check({ rawBody: Buffer.from(DOC_BODY) })).toEqual({ ok: true });
  });

  it('computes the documented signature', () => {
    expect(`v0=${signSlackRequest(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY)}`).toBe(DOC_SIGNATURE);
  });

  it('matches an independent HMAC over a body with non-ASCII bytes', () => {
    const body = Buffer.from('payload=%7B%22x%22%3A%22%C3%A9%F0%9F%98%80%22%7D\u00e9', 'utf8');
    const expected = createHmac('sha256', 's3cret').update(Buffer.concat([Buffer.from('v0:100:'), body])).digest('hex');
    expect(signSlackRequest('s3cret', '100', body)).toBe(expected);
    expect(check({ signingSecret: 's3cret', timestampHeader: '100', signatureHeader: `v0=${expected}`, rawBody: body, now: new Date(100_000) })).toEqual({ ok: true });
  });

  it('rejects a forged signature, a changed body and the wrong secret', () => {
    expect(check({ signatureHeader: DOC_SIGNATURE.replace('a2114d', 'a2114e') })).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(check({ rawBody: `${DOC_BODY}&x=1` })).toMatchObject({ ok: false, reason: 'signature mismatch' });
    expect(check({ signingSecret: 'other' })).toMatchObject({ ok: false, reason: 'signature mismatch' });
  });

  it('accepts the edges of the window and rejects beyond them, in both directions', () => {
    const at = (offsetSeconds: number) => new Date((Number(DOC_TIMESTAMP) + offsetSeconds) * 1000);
    expect(check({ now: at(300) })).toEqual({ ok: true });
    expect(check({ now: at(-300) })).toEqual({ ok: true });
    expect(check({ now: at(301) })).toEqual({ ok: false, reason: 'timestamp is 301 s old (limit 300 s)' });
    expect(check({ now: at(-301) })).toEqual({ ok: false, reason: 'timestamp is 301 s in the future (limit 300 s)' });
    expect(check({ now: at(-3600) })).toMatchObject({ ok: false });
    expect(check({ now: at(60), toleranceSeconds: 30 })).toMatchObject({ ok: false });
  });

  it.each([
    [{ timestampHeader: undefined }, /missing X-Slack-Request-Timestamp/],
    [{ timestampHeader: '' }, /missing X-Slack-Request-Timestamp/],
    [{ signatureHeader: undefined }, /missing X-Slack-Signature/],
    [{ timestampHeader: '1531420618.5' }, /malformed X-Slack-Request-Timestamp/],
    [{ timestampHeader: '-1' }, /malformed X-Slack-Request-Timestamp/],
    [{ timestampHeader: [DOC_TIMESTAMP, DOC_TIMESTAMP] }, /missing X-Slack-Request-Timestamp/],
    [{ signatureHeader: DOC_SIGNATURE.replace('v0=', 'v1=') }, /malformed X-Slack-Signature/],
    [{ signatureHeader: DOC_SIGNATURE.slice(0, -2) }, /malformed X-Slack-Signature/],
    [{ signatureHeader: DOC_SIGNATURE.toUpperCase() }, /malformed X-Slack-Signature/],
    [{ signatureHeader: `${DOC_SIGNATURE}, ${DOC_SIGNATURE}` }, /malformed X-Slack-Signature/],
    [{ signingSecret: '' }, /no signing secret/],
  ] as Array<[Partial<Parameters<typeof verifySlackRequest>[0]>, RegExp]>)('rejects %j', (overrides, reason) => {
    const result = check(overrides);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
