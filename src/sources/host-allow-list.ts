import { RE2JS } from 're2js';
import { ConfigError } from '../errors.js';
import { globSource } from '../glob.js';
import type { CommandEvent } from './command-event.js';
import type { Malformed } from './parser.js';
import { attributionOf, buildProvenance, type Provenance } from './provenance.js';

/** Characters a host glob may hold: host-name characters (IPv6 colons too) and `*`, `?`. */
const HOST_GLOB = /^[A-Za-z0-9._:*?-]+$/;
/** A host name an allow-list can vouch for: a glob's `*` must not stretch over spaces or newlines. */
const HOST_NAME = /^[A-Za-z0-9._:-]+$/;

/**
 * The hosts an HTTP source may speak for (`sources[].hosts`): globs where `*` is any run of
 * characters and `?` one, compared without regard to case (host names are case-insensitive).
 * Matching is re2, linear in the host's length: the host comes from the posted log.
 */
export class HostAllowList {
  private readonly matcher: RE2JS;

  /** Throws ConfigError for an empty or invalid list. */
  constructor(readonly globs: readonly string[]) {
    // loadConfig has checked these already; a caller building sources by hand gets the same words.
    if (globs.length === 0) throw new ConfigError('sources[].hosts', 'needs at least one host name or glob; leave it out to accept any host');
    const bad = globs.find((glob) => !isHostGlob(glob));
    if (bad !== undefined) throw new ConfigError('sources[].hosts', `"${bad.slice(0, 100)}" is not a host name or glob (letters, digits, . - _ : * ?)`);
    this.matcher = RE2JS.compile(globs.map(globSource).join('|'), RE2JS.CASE_INSENSITIVE);
  }

  /** Whether `host` is a plain host name matching one of the globs. */
  allows(host: string): boolean {
    return host.length <= 253 && HOST_NAME.test(host) && this.matcher.matches(host);
  }
}

/** Whether `glob` may be a `sources[].hosts` entry: host-name characters plus `*` and `?`. */
export function isHostGlob(glob: string): boolean {
  return glob.length <= 253 && HOST_GLOB.test(glob);
}

/** What survives an HTTP source's host binding. */
export interface BoundEvents {
  /** Events for allowed hosts, each with its HTTP provenance set. */
  events: CommandEvent[];
  /** One `host_not_allowed` entry per refused event. */
  refused: Malformed[];
}

/**
 * Applies an HTTP source's host binding to the events of one request: an event claiming a host
 * outside `allowList` is refused (counted as `host_not_allowed`), the others keep going, marked
 * `bound`. Without an allow-list every event passes, marked `unbound`: its source's token may
 * speak for any host, and reviewers are told so. The events are the request's own, parsed for it
 * alone, so they are marked in place, and events of one format and attribution share one
 * provenance (nothing changes a provenance once made): a copy of every event cost as much as
 * parsing it (measured).
 */
export function bindToHosts(events: readonly CommandEvent[], allowList: HostAllowList | null): BoundEvents {
  const bound: CommandEvent[] = [];
  const refused: Malformed[] = [];
  const binding = allowList === null ? 'unbound' : 'bound';
  let last: Provenance | null = null;
  for (const event of events) {
    if (allowList !== null && !allowList.allows(event.host)) {
      refused.push({ reason: 'host_not_allowed', sample: event.host.slice(0, 200), detail: "the event's host is not in its source's hosts" });
      continue;
    }
    if (last === null || last.format !== event.sourceFormat || last.attribution !== attributionOf(event)) last = buildProvenance(event, 'http', binding);
    event.provenance = last;
    bound.push(event);
  }
  return { events: bound, refused };
}
