/** Naming of numeric uids: the log's own name, then the configured resolver, then the number. */

/**
 * Names a uid; the chain is: a name the log gives, then the resolver, then `root` for uid 0 (the
 * one name every Unix shares, so rules written for `root` match RAW logs too), then the number.
 */
export interface UidNamer {
  (uid: number, logName: string | null | undefined): string;
}

/** Builds a UidNamer from the parser options for one host. Never throws (a throwing resolver counts as "unknown"). */
export function uidNamer(
  host: string,
  resolveUid: ((uid: number, host: string) => string | null) | undefined,
): UidNamer {
  return (uid, logName) => {
    if (logName && isUsableName(logName)) return logName;
    if (resolveUid) {
      try {
        const name = resolveUid(uid, host);
        if (typeof name === 'string' && name !== '') return name;
      } catch {
        // A resolver failure must not lose the event; the number still identifies the user.
      }
    }
    return uid === 0 ? 'root' : String(uid);
  };
}

/** ENRICHED and go-audit write placeholders for uids without a passwd entry. */
function isUsableName(name: string): boolean {
  return name !== 'unset' && name !== 'UNKNOWN_USER' && !name.startsWith('unknown(') && name !== '?';
}
