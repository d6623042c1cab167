/**
 * Suppressions: a reviewer says that alerts matching some conditions need nobody's answer until a
 * set time (a maintenance window, a migration script run by hand all week). Matching alerts are
 * still recorded, with status `suppressed` and the suppression in their audit trail, so nothing
 * disappears from the report. Suppressions always expire (at most MAX_SUPPRESSION_MS): lasting
 * tuning belongs in the rules' `exceptions:`, which are reviewed like code.
 */
import { randomBytes } from 'node:crypto';
import { RE2JS } from 're2js';
import { parseDuration, formatDuration } from '../config/duration.js';
import { RequestError } from '../errors.js';
import { editDistance, typoDistance } from '../edit-distance.js';
import { globSource } from '../glob.js';
import { storableRequestText } from '../http/request-body.js';

/** The longest exact command a suppression holds. */
export const MAX_SUPPRESSION_COMMAND_CHARS = 64 * 1024;

/** The longest a suppression may last. */
export const MAX_SUPPRESSION_MS = 90 * 86_400_000;

/** What a new suppression says, validated. */
export interface SuppressionRequest {
  ruleId: string | null;
  owner: string | null;
  hostGlob: string | null;
  command: string | null;
  reason: string;
  createdBy: string;
  expiresAt: Date;
}

/** The conditions of a stored suppression; null means any. */
export interface SuppressionConditions {
  rule_id: string | null;
  owner: string | null;
  host_glob: string | null;
  command: string | null;
}

/** What a new alert is matched on. */
export interface AlertFacts {
  ruleId: string;
  owner: string | null;
  host: string;
  /** The command as stored on the alert (secrets redacted). */
  command: string;
}

/** True when every condition the suppression sets holds for the alert. */
export function suppressionMatches(s: SuppressionConditions, alert: AlertFacts): boolean {
  if (s.rule_id !== null && s.rule_id !== alert.ruleId) return false;
  if (s.owner !== null && s.owner !== alert.owner) return false;
  if (s.command !== null && s.command !== alert.command) return false;
  // re2: the host comes from the log, so a glob must not be able to make its match slow.
  if (s.host_glob !== null && !RE2JS.compile(globSource(s.host_glob)).matches(alert.host)) return false;
  return true;
}

/** Unguessable ids such as `sp_Q2x9...`. */
export function newSuppressionId(): string {
  return `sp_${randomBytes(12).toString('base64url')}`;
}

/** The shape of `POST /api/suppressions`, for error messages. */
export const SUPPRESSION_USAGE = '{"created_by", "reason", "for", and "rule" and/or "command"; "user" and "host" optional}';

/**
 * Validates the body of `POST /api/suppressions`:
 * `{ "created_by", "reason", "for": "7d", "rule"?, "user"?, "host"?, "command"? }`, with at least
 * one of `rule` and `command` (a suppression of everything a person runs is not one), and `rule`
 * one of `ruleIds`, the rules the service runs (a misspelt one would silently suppress nothing).
 * 400 with what is wrong otherwise. The console's suppression form is validated here too.
 */
export function parseSuppressionRequest(fields: Record<string, unknown>, now: Date, ruleIds: ReadonlySet<string>): SuppressionRequest {
  for (const key of Object.keys(fields)) {
    if (!['created_by', 'reason', 'for', 'rule', 'user', 'host', 'command'].includes(key)) {
      throw new RequestError(400, `${key}: unknown field; the fields are created_by, reason, for, rule, user, host, command`);
    }
  }
  const createdBy = text(fields.created_by, 'created_by', 200, { required: true }) as string;
  const reason = text(fields.reason, 'reason', 2000, { required: true }) as string;
  const ruleId = text(fields.rule, 'rule', 200);
  // Not trimmed: it must equal the alert's command exactly.
  const command = text(fields.command, 'command', MAX_SUPPRESSION_COMMAND_CHARS, { trim: false });
  if (ruleId === null && command === null) {
    throw new RequestError(400, 'rule or command: give at least one, so that the suppression cannot silence everything a person runs');
  }
  let ms: number;
  try {
    ms = parseDuration(fields.for, 'for');
  } catch (error) {
    throw new RequestError(400, `for: how long the suppression lasts, such as 8h or 7d (${(error as Error).message})`);
  }
  if (ms <= 0 || ms > MAX_SUPPRESSION_MS) {
    throw new RequestError(400, `for: must be more than 0 and at most ${formatDuration(MAX_SUPPRESSION_MS)}; lasting tuning belongs in the rules' exceptions`);
  }
  const request = {
    ruleId,
    owner: text(fields.user, 'user', 200),
    hostGlob: text(fields.host, 'host', 255),
    command,
    reason,
    createdBy,
    expiresAt: new Date(now.getTime() + ms),
  };
  if (ruleId !== null && !ruleIds.has(ruleId)) throw new RequestError(400, unknownRuleMessage(ruleId, ruleIds));
  return request;
}

/** How many rule ids an unknown-rule refusal lists at most. */
const LISTED_RULES = 10;

/** Names the unknown rule and the known ids closest to it (typos), or some known ids when none is close. */
function unknownRuleMessage(ruleId: string, ruleIds: ReadonlySet<string>): string {
  const refusal = `rule: "${ruleId}" is not a rule this service runs, so the suppression would silence nothing`;
  const close = closestRuleIds(ruleId, ruleIds);
  if (close.length > 0) return `${refusal}; did you mean ${close.join(' or ')}?`;
  if (ruleIds.size === 0) return `${refusal}; no rules are loaded`;
  const known = [...ruleIds].sort();
  const more = known.length > LISTED_RULES ? `, ... (${known.length} in all: the id of each rule in the rule file)` : '';
  return `${refusal}; its rules are ${known.slice(0, LISTED_RULES).join(', ')}${more}`;
}

/** Known ids within typo distance of `ruleId` and nearly as close as the closest, ignoring case, closest first. */
function closestRuleIds(ruleId: string, ruleIds: ReadonlySet<string>): string[] {
  const wanted = ruleId.toLowerCase();
  const scored: Array<{ id: string; distance: number }> = [];
  for (const id of ruleIds) {
    const distance = editDistance(wanted, id.toLowerCase());
    if (distance <= typoDistance(wanted)) scored.push({ id, distance });
  }
  scored.sort((a, b) => a.distance - b.distance || a.id.localeCompare(b.id));
  // Only the best few: an id one edit away makes one six edits away noise.
  const best = scored[0]?.distance ?? 0;
  return scored.filter(({ distance }) => distance <= best + 1).slice(0, 5).map(({ id }) => id);
}

/** Validates the body of `POST /api/suppressions/<id>/revoke`: `{ "revoked_by": "dana" }`. */
export function parseRevokeRequest(fields: Record<string, unknown>): { revokedBy: string } {
  return { revokedBy: text(fields.revoked_by, 'revoked_by', 200, { required: true }) as string };
}

/** A text field: trimmed unless told otherwise; null when absent and not required; 400 when bad. */
function text(value: unknown, key: string, max: number, options: { required?: boolean; trim?: boolean } = {}): string | null {
  if (value === undefined || value === null) {
    if (options.required) throw new RequestError(400, `${key}: required`);
    return null;
  }
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw new RequestError(400, `${key}: expected non-empty text of at most ${max} characters`);
  }
  // Made storable here, before matching or the audit trail see it, so what is matched, stored and
  // hashed is the same text.
  return storableRequestText(options.trim === false ? value : value.trim(), key);
}
