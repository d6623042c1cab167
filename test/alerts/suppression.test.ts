import { describe, expect, it } from 'vitest';
import { MAX_SUPPRESSION_MS, SUPPRESSION_USAGE, parseRevokeRequest, parseSuppressionRequest, suppressionMatches } from '../../src/alerts/suppression.js';
import { RequestError } from '../../src/errors.js';
import { jsonObjectBody } from '../../src/http/request-body.js';

const NOW = new Date('2026-11-24T09:00:00Z');
/** What the review API does with a request body: one JSON object, then the fields validated. */
/** The rules the service runs, as the review API passes them. */
const RULE_IDS = new Set(['shadow-read', 'x', 'ssh-authorized-keys-modified', 'reverse-shell', 'reverse-shell-dev-tcp']);
const request = (raw: unknown) => parseSuppressionRequest(jsonObjectBody(Buffer.from(typeof raw === 'string' ? raw : JSON.stringify(raw)), SUPPRESSION_USAGE), NOW, RULE_IDS);
const revoke = (raw: unknown) => parseRevokeRequest(jsonObjectBody(Buffer.from(typeof raw === 'string' ? raw : JSON.stringify(raw)), '{"revoked_by": "..."}'));
const base = { created_by: 'dana', reason: 'Database migration this week', for: '7d' };

function rejects(value: unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    request(value);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(RequestError);
  expect((thrown as RequestError).status).toBe(400);
  expect((thrown as Error).message).toMatch(message);
}

describe('parseSuppressionRequest', () => {
  it('reads a suppression with its conditions and an expiry counted from now', () => {
    expect(request({ ...base, rule: ' shadow-read ', user: 'alice', host: 'db-*', command: 'cat /etc/shadow' })).toEqual({
      ruleId: 'shadow-read',
      owner: 'alice',
      hostGlob: 'db-*',
      command: 'cat /etc/shadow',
      reason: 'Database migration this week',
      createdBy: 'dana',
      expiresAt: new Date(NOW.getTime() + 7 * 86_400_000),
    });
  });

  it('refuses what would be unsafe or unclear, saying which field is wrong', () => {
    rejects('{not json', /body must be JSON/);
    rejects([1], /JSON object/);
    rejects({ ...base, rule: 'x', colour: 'red' }, /colour: unknown field/);
    rejects({ ...base, user: 'alice' }, /rule or command: give at least one/);
    rejects({ reason: 'r', for: '1h', rule: 'x' }, /created_by: required/);
    rejects({ created_by: 'dana', for: '1h', rule: 'x' }, /reason: required/);
    rejects({ ...base, rule: 'x', for: undefined }, /for: how long/);
    rejects({ ...base, rule: 'x', for: 'soon' }, /for: how long/);
    rejects({ ...base, rule: 'x', for: '0s' }, /for: must be more than 0 and at most 90d/);
    rejects({ ...base, rule: 'x', for: `${MAX_SUPPRESSION_MS / 86_400_000 + 1}d` }, /at most 90d/);
    rejects({ ...base, rule: 'x', reason: 'a'.repeat(2001) }, /reason: expected non-empty text of at most 2000/);
    rejects({ ...base, rule: '  ' }, /rule: expected non-empty text/);
    rejects({ ...base, command: 'cat\u0000/etc/shadow' }, /command: must not contain NUL characters/);
    rejects({ ...base, rule: 'x', reason: 'a\u0000' }, /reason: must not contain NUL characters/);
    rejects({ ...base, rule: 7 }, /rule: expected/);
  });

  it('refuses a rule the service does not run, naming the close ones, since it would suppress nothing', () => {
    rejects({ ...base, rule: 'shadow-reed' }, /^rule: "shadow-reed" is not a rule this service runs, so the suppression would silence nothing; did you mean shadow-read\?$/);
    rejects({ ...base, rule: 'Shadow-Read' }, /; did you mean shadow-read\?$/);
    rejects({ ...base, rule: 'reverse-shel' }, /; did you mean reverse-shell\?$/);
    rejects({ ...base, rule: 'reverse-shell-dev-tcpp' }, /; did you mean reverse-shell-dev-tcp\?$/);
    rejects({ ...base, rule: 'no-such-rule' }, /^rule: "no-such-rule" is not a rule this service runs.*; its rules are reverse-shell, reverse-shell-dev-tcp, shadow-read, ssh-authorized-keys-modified, x$/);
    const many = new Set(Array.from({ length: 12 }, (_, index) => `rule-${String(index).padStart(2, '0')}`));
    expect(() => parseSuppressionRequest({ ...base, rule: 'zzzzzzzzzzzz' }, NOW, many)).toThrow(/its rules are rule-00, .*, rule-09, \.\.\. \(12 in all: the id of each rule in the rule file\)$/);
    expect(() => parseSuppressionRequest({ ...base, rule: 'shadow-read' }, NOW, new Set())).toThrow(/would silence nothing; no rules are loaded$/);
  });

  it('keeps the command exactly as given, spaces included', () => {
    expect(request({ ...base, command: ' ls  -la ' }).command).toBe(' ls  -la ');
  });

  it('makes lone surrogates U+FFFD, as the alert commands it matches are stored', () => {
    const parsed = request({ ...base, command: 'cat \ud800 \u001b', reason: 'window \udc00', user: 'al\ud83dice' });
    expect(parsed).toMatchObject({ command: 'cat \uFFFD \u001b', reason: 'window \uFFFD', owner: 'al\uFFFDice' });
  });
});

describe('parseRevokeRequest', () => {
  it('needs who revokes', () => {
    expect(revoke({ revoked_by: ' dana ' })).toEqual({ revokedBy: 'dana' });
    expect(() => revoke({})).toThrow(/revoked_by: required/);
    expect(() => revoke('nope')).toThrow(/body must be JSON/);
  });
});

describe('suppressionMatches', () => {
  const alert = { ruleId: 'shadow-read', owner: 'alice', host: 'db-1.example', command: 'cat /etc/shadow' };
  const none = { rule_id: null, owner: null, host_glob: null, command: null };

  it('holds when every condition it sets holds', () => {
    expect(suppressionMatches({ ...none, rule_id: 'shadow-read' }, alert)).toBe(true);
    expect(suppressionMatches({ ...none, rule_id: 'shadow-read', owner: 'alice', host_glob: 'db-*', command: 'cat /etc/shadow' }, alert)).toBe(true);
    expect(suppressionMatches({ ...none, command: 'cat /etc/shadow', host_glob: 'db-?.example' }, alert)).toBe(true);
  });

  it('fails on any condition that does not hold', () => {
    expect(suppressionMatches({ ...none, rule_id: 'netcat-listener' }, alert)).toBe(false);
    expect(suppressionMatches({ ...none, rule_id: 'shadow-read', owner: 'bob' }, alert)).toBe(false);
    expect(suppressionMatches({ ...none, rule_id: 'shadow-read', owner: 'alice' }, { ...alert, owner: null })).toBe(false);
    expect(suppressionMatches({ ...none, rule_id: 'shadow-read', host_glob: 'web-*' }, alert)).toBe(false);
    expect(suppressionMatches({ ...none, command: 'cat /etc/shadow ' }, alert)).toBe(false);
  });

  it('takes glob characters of other syntaxes literally and stays fast on hostile hosts', () => {
    expect(suppressionMatches({ ...none, rule_id: 'shadow-read', host_glob: 'db-1.example' }, { ...alert, host: 'db-1Xexample' })).toBe(false);
    expect(suppressionMatches({ ...none, rule_id: 'shadow-read', host_glob: '(db|web)-1' }, { ...alert, host: 'db-1' })).toBe(false);
    const started = Date.now();
    const glob = `${'*a'.repeat(30)}*b`;
    expect(suppressionMatches({ ...none, rule_id: 'shadow-read', host_glob: glob }, { ...alert, host: 'a'.repeat(5000) })).toBe(false);
    // A backtracking matcher would take years here; re2 is linear. Generous bound for slow machines.
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
