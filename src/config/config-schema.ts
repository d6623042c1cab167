import { ConfigError } from '../errors.js';
import { editDistance, typoDistance } from '../edit-distance.js';

/**
 * The shape of the configuration file, key by key, so that an unknown key is refused at any depth
 * (a misspelt `workflow.remindAfter` would otherwise be ignored and its default used silently).
 * Only the structure lives here; the values are checked by loadConfig(). A key loadConfig() learns
 * to read must be added to CONFIG_SCHEMA too, or files that set it are refused.
 */
export type SchemaNode =
  | { kind: 'value' }
  | { kind: 'section'; keys: Readonly<Record<string, SchemaNode>> }
  /** A mapping with free keys (logins, uids) whose values all share one shape. */
  | { kind: 'map'; each: SchemaNode }
  | { kind: 'list'; each: SchemaNode };

const value: SchemaNode = { kind: 'value' };

function sectionOf(keys: readonly string[], nested: Record<string, SchemaNode> = {}): SchemaNode {
  return { kind: 'section', keys: { ...Object.fromEntries(keys.map((key) => [key, value])), ...nested } };
}

/** Every key the configuration file may hold. */
export const CONFIG_SCHEMA: SchemaNode = sectionOf(['rules'], {
  server: sectionOf(['port', 'host', 'public_url']),
  database: sectionOf(['url', 'data_dir', 'statement_timeout', 'lock_timeout']),
  slack: sectionOf(['bot_token', 'signing_secret', 'api_url', 'security_channel']),
  duo: sectionOf(['integration_key', 'secret_key', 'api_host', 'api_url', 'max_pushes_per_person', 'push_rate_window', 'request_timeout']),
  identity: sectionOf(['email_domain'], {
    users: { kind: 'map', each: sectionOf(['email', 'duo', 'slack', 'manager']) },
    uids: { kind: 'map', each: value },
  }),
  sources: { kind: 'list', each: sectionOf(['name', 'type', 'path', 'token', 'host', 'hosts', 'start_at', 'time_zone']) },
  workflow: sectionOf([
    'remind_after', 'escalate_after', 'push_timeout', 'push_poll_interval', 'dedupe_window', 'fleet_window', 'reuse_window', 'poll_interval', 'identity_ttl',
    'system_actor', 'system_digest', 'reminders', 'escalation_contact', 'contact_after', 'working_hours',
  ]),
  pagerduty: sectionOf(['routing_key', 'api_url']),
  jobs: sectionOf(['concurrency', 'lease', 'max_attempts']),
  health: sectionOf(['silent_after', 'malformed_spike', 'quiet_after']),
  review: sectionOf(['token', 'public_url', 'reviewers', 'admins', 'session_idle_timeout', 'session_max_age'], {
    oidc: sectionOf(['issuer', 'client_id', 'client_secret']),
  }),
});

/**
 * Throws ConfigError for the first key the schema does not know, naming the nearest known key.
 * Values of the wrong type (a list where a section belongs) are left to loadConfig's own checks.
 */
export function assertKnownKeys(raw: unknown, node: SchemaNode = CONFIG_SCHEMA, at = ''): void {
  if (node.kind === 'value' || raw === null || typeof raw !== 'object') return;
  if (node.kind === 'list') {
    if (Array.isArray(raw)) raw.forEach((item: unknown, index) => assertKnownKeys(item, node.each, `${at}[${index}]`));
    return;
  }
  if (Array.isArray(raw)) return;
  for (const [key, child] of Object.entries(raw as Record<string, unknown>)) {
    const keyPath = at === '' ? key : `${at}.${key}`;
    if (node.kind === 'map') {
      assertKnownKeys(child, node.each, keyPath);
      continue;
    }
    const known = node.keys[key];
    if (known === undefined) throw new ConfigError(keyPath, unknownKeyMessage(key, Object.keys(node.keys), at));
    assertKnownKeys(child, known, keyPath);
  }
}

function unknownKeyMessage(key: string, known: readonly string[], at: string): string {
  const nearest = nearestKey(key, known);
  const qualified = (name: string) => (at === '' ? name : `${at}.${name}`);
  const hint = nearest === null ? '' : `did you mean ${qualified(nearest)}? `;
  return `unknown key: ${hint}the known keys here are ${known.join(', ')}`;
}

/**
 * The known key closest to `key`, ignoring case, `_` and `-` (so remindAfter finds remind_after),
 * or null when none is close enough to be a plausible typo.
 */
export function nearestKey(key: string, known: readonly string[]): string | null {
  const normal = (text: string) => text.toLowerCase().replace(/[_-]/g, '');
  const wanted = normal(key);
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(wanted, normal(candidate));
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= typoDistance(wanted) ? best : null;
}
