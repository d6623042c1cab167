/**
 * A cheap screen in front of the redactor: the text an argument must contain for redactCommand to
 * find a secret in it. Kept beside the redactor so the two change together; a property test
 * checks the screen is a superset of what the redactor replaces.
 */
/**
 * Text one argument must contain (case aside) for the redactor to find a secret in the command:
 * every secret-bearing name it knows holds one of pass, pwd, secret, token, key, credential; the
 * tools whose flags take a password are named by their own words (mysql, ldap, curl, ...; `login`
 * for the registry clients, whose `-p` is a password only there); then the shapes its text
 * patterns look for (URLs with credentials, headers, cookies, Slack hooks, the prefixes of
 * well-known tokens). An argument without any of these cannot change, so it skips the redactor.
 * The list only needs to be a superset: a word too many costs a redactor call, never a secret.
 */
const SECRET_HINTS = [
  'pass', 'pwd', 'secret', 'token', 'key', 'credential', 'auth', 'cookie', 'login', 'from-literal',
  'mysql', 'mariadb', 'mongo', 'ldap', 'redis', 'curl', 'smbclient', 'rpcclient', 'useradd', 'usermod',
  'ipmitool', 'sqlcmd', 'skopeo', 'openssl',
  '://', 'hooks.slack',
  'akia', 'asia', 'agpa', 'aida', 'aroa', 'aipa', 'anpa', 'anva', 'abia', 'acca',
  'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'xox', 'xapp-', 'glpat-', 'k_live_', 'aiza', 'npm_', 'hvs.', 'hvb.', 'eyj',
];

/**
 * Characters as the hint search compares them: ASCII letters lower-cased, other ASCII as itself,
 * and the two non-ASCII letters that the redactor's case-insensitive (re2) patterns fold into
 * ASCII ones, the Kelvin sign (K) and the long s (ſ), as k and s. Any other character is 0,
 * which starts no hint.
 */
const FOLD_ASCII = Uint8Array.from({ length: 128 }, (_, code) => (code >= 65 && code <= 90 ? code + 32 : code));

function folded(code: number): number {
  if (code < 128) return FOLD_ASCII[code] as number;
  if (code === 0x212a) return 107;
  if (code === 0x17f) return 115;
  return 0;
}

/** The hints by their first two (folded) characters, `first * 128 + second`, and a flag per pair. */
const HINTS_BY_START = new Map<number, string[]>();
const STARTS = new Uint8Array(128 * 128);
for (const hint of SECRET_HINTS) {
  const key = hint.charCodeAt(0) * 128 + hint.charCodeAt(1);
  STARTS[key] = 1;
  HINTS_BY_START.set(key, [...(HINTS_BY_START.get(key) ?? []), hint]);
}

/**
 * True when some argument could hold a secret the redactor would replace; false means
 * redactCommand would return the argv unchanged. One pass per argument, a table lookup per
 * character (a regex alternation of the hints costs ten times as much), so it stays linear and
 * cheap on the megabyte scripts of a hostile log.
 */
export function mayHoldSecret(argv: readonly string[]): boolean {
  for (const arg of argv) if (hasHint(arg)) return true;
  return false;
}

function hasHint(text: string): boolean {
  let previous = 0;
  for (let i = 0; i < text.length; i++) {
    const current = folded(text.charCodeAt(i));
    const key = previous * 128 + current;
    if (STARTS[key] === 1 && current !== 0 && startsHint(text, i - 1, key)) return true;
    previous = current;
  }
  return false;
}

function startsHint(text: string, at: number, key: number): boolean {
  for (const hint of HINTS_BY_START.get(key) ?? []) if (hintAt(text, at, hint)) return true;
  return false;
}

function hintAt(text: string, at: number, hint: string): boolean {
  if (at + hint.length > text.length) return false;
  for (let j = 2; j < hint.length; j++) if (folded(text.charCodeAt(at + j)) !== hint.charCodeAt(j)) return false;
  return true;
}
