/**
 * The text layer of secret redaction: secrets recognisable anywhere in free text (credentials in
 * URLs, Authorization and similar headers, password flags inside shell scripts, well-known token
 * shapes, long random strings after words such as "token").
 *
 * Each pattern is a hand-written scanner rather than a regex. A scanner finds a literal anchor
 * (`://`, `authorization`, `mysql`, `ghp_`...) with a literal search, checks a bounded context
 * around it and consumes one character-class run, so the cost is linear in the text with a small
 * constant whatever the text holds. re2 regexes are linear too, but their automaton walks every
 * character of a megabyte argument for every pattern, and mixtures of near-misses cost seconds.
 *
 * The scanners keep the exact semantics of the regexes they replace; each one's regex is quoted
 * above it (`\s` there is re2's `[\t\n\f\r ]`, `\b` an ASCII word boundary).
 */

/** One secret found by a scanner: replace [start, end) (when `secret`) and go on at `resume`. */
export interface SecretSpan {
  start: number;
  end: number;
  /** False for a match that must be skipped whole but kept (a low-entropy value after "key"). */
  secret: boolean;
  /** Where the next search starts: at least `end`, and always past the previous search start. */
  resume: number;
}

/** Finds the first secret at or after `from`, or null when there is none. */
export type SecretScanner = (text: string, from: number) => SecretSpan | null;

/** Replaces every span a scanner reports with `marker`, in one left-to-right pass. */
export function replaceSecrets(text: string, scan: SecretScanner, marker: string): string {
  const parts: string[] = [];
  let last = 0;
  let from = 0;
  while (from <= text.length) {
    const span = scan(text, from);
    if (span === null) break;
    if (span.secret && span.end > span.start) {
      parts.push(text.slice(last, span.start), marker);
      last = span.end;
    }
    from = Math.max(span.resume, from + 1);
  }
  if (last === 0) return text;
  parts.push(text.slice(last));
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// Character classes, by UTF-16 code unit
// ---------------------------------------------------------------------------------------------

const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const COLON = 0x3a;
const EQUALS = 0x3d;
const AT = 0x40;
const SLASH = 0x2f;
const NEWLINE = 0x0a;

/** re2's `\s`: `[\t\n\f\r ]`. */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d;
}

function isLetter(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isAlnum(code: number): boolean {
  return isLetter(code) || isDigit(code);
}

/** `\w` as `\b` sees it: `[A-Za-z0-9_]`. */
function isWord(code: number): boolean {
  return isAlnum(code) || code === 0x5f;
}

function isQuote(code: number): boolean {
  return code === QUOTE || code === APOSTROPHE;
}

/** `[^\s'"]`: a value that ends at whitespace or a quote. */
function isValueChar(code: number): boolean {
  return !Number.isNaN(code) && !isSpace(code) && !isQuote(code);
}

/** `[A-Za-z0-9_-]` */
function isTokenChar(code: number): boolean {
  return isWord(code) || code === 0x2d;
}

/** The first index at or after `i` whose code unit fails `accept` (or the text's length). */
function skip(text: string, i: number, accept: (code: number) => boolean): number {
  let at = i;
  while (at < text.length && accept(text.charCodeAt(at))) at += 1;
  return at;
}

const LONG_S = 0x17f;
const KELVIN_SIGN = 0x212a;

/**
 * A code unit as re2's `(?i)` compares it with ASCII letters: upper case folded to lower, and the
 * two non-ASCII characters that fold onto ASCII letters (long s, the Kelvin sign) folded too.
 */
function foldCase(code: number): number {
  if (code >= 0x41 && code <= 0x5a) return code | 0x20;
  if (code === LONG_S) return 0x73;
  if (code === KELVIN_SIGN) return 0x6b;
  return code;
}

/**
 * The next match of a case-insensitive header-name anchor that starts at an ASCII word boundary
 * (re2's `\b`; a JavaScript `\b` under the `iu` flags would count long s and the Kelvin sign as
 * word characters), or right after curl's `-H` glued to it (`-H'Authorization: ...'` reaches the
 * program as the one word `-HAuthorization: ...`).
 */
function nextAnchorAtBoundary(anchor: RegExp, text: string, from: number): RegExpExecArray | null {
  for (let m = nextAnchor(anchor, text, from); m !== null; m = nextAnchor(anchor, text, m.index + 1)) {
    if (!isWord(text.charCodeAt(m.index - 1)) || followsHeaderFlag(text, m.index)) return m;
  }
  return null;
}

/** Most short flags curl lets stand before `-H` in one word (`-fsSLkH...`), looked at from `-H` back. */
const MAX_BUNDLED_FLAGS = 16;

/**
 * Whether `text` has curl's short header flag just before `at`: `-H`, alone or last of bundled
 * short flags (`-sSH`), starting a word.
 */
function followsHeaderFlag(text: string, at: number): boolean {
  if (at < 2 || text.charCodeAt(at - 1) !== 0x48 /* H */) return false;
  const stop = Math.max(0, at - 2 - MAX_BUNDLED_FLAGS);
  for (let i = at - 2; i >= stop; i--) {
    const code = text.charCodeAt(i);
    if (code === 0x2d /* - */) return (i === 0 || !isWord(text.charCodeAt(i - 1))) && text.charCodeAt(i - 1) !== 0x2d;
    if (!((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a))) return false;
  }
  return false;
}

/** Like `skip`, but looks at no more than `limit` code units. */
function skipAtMost(text: string, i: number, limit: number, accept: (code: number) => boolean): number {
  const stop = Math.min(text.length, i + limit);
  let at = i;
  while (at < stop && accept(text.charCodeAt(at))) at += 1;
  return at;
}

/** Whether `text` holds `word` at `at`, ignoring ASCII case (`word` is lower-case). */
function hasWordAt(text: string, at: number, word: string): boolean {
  if (at + word.length > text.length) return false;
  for (let k = 0; k < word.length; k++) {
    if (foldCase(text.charCodeAt(at + k)) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/** Runs a global anchor regex (literal alternatives only, so linear) from `from`. */
function nextAnchor(anchor: RegExp, text: string, from: number): RegExpExecArray | null {
  anchor.lastIndex = from;
  return anchor.exec(text);
}

/** `\s*:\s*` at `i`: the index after it, or -1. */
function colonSeparator(text: string, i: number): number {
  const colon = skip(text, i, isSpace);
  return text.charCodeAt(colon) === COLON ? skip(text, colon + 1, isSpace) : -1;
}

/**
 * Between a header's name and its value: `\s*:\s*`, also as JSON, YAML or a Python dict write it
 * (`"Authorization": "Bearer X"`, the name's closing quote and the value's opening one) and as an
 * assignment (`Authorization=Bearer X`). The index of the value, or -1.
 */
function headerSeparator(text: string, i: number): number {
  let at = isQuote(text.charCodeAt(i)) ? i + 1 : i;
  at = skip(text, at, isSpace);
  const code = text.charCodeAt(at);
  if (code !== COLON && code !== 0x3d /* = */) return -1;
  at = skip(text, at + 1, isSpace);
  return isQuote(text.charCodeAt(at)) ? at + 1 : at;
}

/** A value run of `accept` characters starting at `start` as a secret span, or null when empty. */
function valueRun(text: string, start: number, accept: (code: number) => boolean): SecretSpan | null {
  const end = skip(text, start, accept);
  return end > start ? { start, end, secret: true, resume: end } : null;
}

// ---------------------------------------------------------------------------------------------
// Credentials in URLs
// ---------------------------------------------------------------------------------------------

/** `[a-zA-Z0-9+.-]` */
function isSchemeChar(code: number): boolean {
  return isAlnum(code) || code === 0x2b || code === 0x2e || code === 0x2d;
}

/** `[^/\s:'"]`: the user part of URL user info. */
function isUserChar(code: number): boolean {
  return isValueChar(code) && code !== SLASH && code !== COLON;
}

/** `[^/\s'"]`: the password part, `@` included (the last `@` ends it). */
function isPasswordChar(code: number): boolean {
  return isValueChar(code) && code !== SLASH;
}

/** A URL user name at least this long, of token characters only, is taken for a token: no login name is. */
const MIN_TOKEN_USER = 20;

/**
 * The last `@` of the word at `start` (it ends at whitespace or a `/`; quotes are part of it),
 * when a host follows it: where a password holding quotes ends. -1 when there is none.
 */
function quotedPasswordEnd(text: string, start: number): number {
  let lastAt = -1;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === AT) lastAt = i;
    else if (code === SLASH || isSpace(code) || Number.isNaN(code)) break;
  }
  return lastAt > start && isUserChar(text.charCodeAt(lastAt + 1)) ? lastAt : -1;
}

/** True when `text[from, to)` is digits only (a port after a host, not a password). */
function allDigitsIn(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

/** `\b[a-zA-Z][a-zA-Z0-9+.-]*` ends right before `end`, starting no earlier than `from`. */
function hasSchemeBefore(text: string, end: number, from: number): boolean {
  let found = false;
  for (let p = end - 1; p >= from && isSchemeChar(text.charCodeAt(p)); p--) {
    if (isLetter(text.charCodeAt(p)) && !isWord(text.charCodeAt(p - 1))) found = true;
  }
  return found;
}

/**
 * `\b([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:'"]*:)[^/\s'"]+@`: the password runs to the last `@`
 * before the path, so one that holds `@` is hidden whole and only the host stays visible. A
 * password that holds spaces (a quoted `'https://bob:my pass@host'`) runs on across them to an
 * `@` before any `/`, quote or line end, unless its first word is a port number.
 */
export const urlPassword: SecretScanner = (text, from) => {
  let at = text.indexOf('://', from);
  while (at !== -1) {
    const userEnd = skip(text, at + 3, isUserChar);
    let next = userEnd;
    // `https://<token>@github.com`: a token given as the user name (as GitHub documents).
    const tokenEnd = skip(text, at + 3, isTokenChar);
    if (text.charCodeAt(tokenEnd) === AT && tokenEnd - (at + 3) >= MIN_TOKEN_USER && hasSchemeBefore(text, at, from)) {
      return { start: at + 3, end: tokenEnd, secret: true, resume: tokenEnd + 1 };
    }
    if (text.charCodeAt(userEnd) === COLON && hasSchemeBefore(text, at, from)) {
      const start = userEnd + 1;
      let lastAt = -1;
      let end = start;
      for (; end < text.length && isPasswordChar(text.charCodeAt(end)); end++) {
        if (text.charCodeAt(end) === AT) lastAt = end;
      }
      if (lastAt > start) return { start, end: lastAt, secret: true, resume: lastAt + 1 };
      // A quote is a legal password character (`deploy:it's@host`): when the run stopped at one,
      // the password may go on past it to the host's `@`, within the same word.
      if (lastAt === -1 && isQuote(text.charCodeAt(end))) {
        const quoted = quotedPasswordEnd(text, start);
        if (quoted > start) return { start, end: quoted, secret: true, resume: quoted + 1 };
      }
      next = end;
      if (end > start && (text.charCodeAt(end) === 0x20 || text.charCodeAt(end) === 0x09) && !allDigitsIn(text, start, end)) {
        // The run stops at a `/`, so it never reaches the next `://`: nothing is walked twice.
        for (; next < text.length; next++) {
          const code = text.charCodeAt(next);
          if (code === AT) lastAt = next;
          else if (code !== 0x20 && code !== 0x09 && !isPasswordChar(code)) break;
        }
        if (lastAt > start && isUserChar(text.charCodeAt(lastAt + 1))) return { start, end: lastAt, secret: true, resume: lastAt + 1 };
      }
    }
    // Neither the user nor the password run can hold `://` (it has a `/`), so nothing walked
    // here is walked again.
    at = text.indexOf('://', Math.max(next, at + 1));
  }
  return null;
};

// ---------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------

const AUTHORIZATION = /authorization/giu;
const AUTH_SCHEMES = ['bearer', 'basic', 'token', 'digest', 'negotiate', 'ntlm', 'apikey', 'api-key', 'sso-key', 'splunk', 'ssws', 'aws4-hmac-sha256'];

/**
 * `(?i)\b((?:proxy-)?authorization\s*:\s*(?:(?:bearer|basic|...|aws4-hmac-sha256)\s+)?)[^\s'"]+`:
 * the scheme word is kept.
 */
export const authorizationHeader: SecretScanner = (text, from) => {
  for (let m = nextAnchorAtBoundary(AUTHORIZATION, text, from); m !== null; m = nextAnchorAtBoundary(AUTHORIZATION, text, m.index + 1)) {
    const valueStart = headerSeparator(text, m.index + m[0].length);
    if (valueStart === -1) continue;
    const scheme = AUTH_SCHEMES.find((word) => hasWordAt(text, valueStart, word));
    if (scheme !== undefined) {
      const afterScheme = valueStart + scheme.length;
      let credentials = skip(text, afterScheme, isSpace);
      // `Bearer "tok"`: the credentials quoted on their own.
      if (credentials > afterScheme && isQuote(text.charCodeAt(credentials))) credentials += 1;
      if (credentials > afterScheme) {
        const span = valueRun(text, credentials, isValueChar);
        if (span !== null) return span;
      }
    }
    const span = valueRun(text, valueStart, isValueChar);
    if (span !== null) return span;
  }
  return null;
};

const KEY_HEADER = /(?:(?:api|auth|access|vault|goog-api)[-_]?(?:key|token)|private-token)/giu;

/**
 * `(?i)\b((?:x-)?(?:api|auth|access|vault|goog-api)[-_]?(?:key|token)\s*:\s*|private-token\s*:\s*)[^\s'"]+`
 * (an `x-` before the name needs no check of its own: the `-` is a word boundary).
 */
export const keyHeader: SecretScanner = (text, from) => {
  for (let m = nextAnchorAtBoundary(KEY_HEADER, text, from); m !== null; m = nextAnchorAtBoundary(KEY_HEADER, text, m.index + 1)) {
    const valueStart = colonSeparator(text, m.index + m[0].length);
    const span = valueStart === -1 ? null : valueRun(text, valueStart, isValueChar);
    if (span !== null) return span;
  }
  return null;
};

const COOKIE = /cookie/giu;

/** `[^'"\n]`: a cookie header's value runs to a quote or the end of the line. */
function isCookieChar(code: number): boolean {
  return !Number.isNaN(code) && !isQuote(code) && code !== NEWLINE;
}

/**
 * When only whitespace follows `cookie:`, the regex gives back whitespace until its value class
 * matches: the last whitespace character that is not a newline becomes the (one-character) value.
 */
function lastSpaceAsValue(text: string, start: number, end: number): SecretSpan | null {
  for (let i = end - 1; i >= start; i--) {
    if (text.charCodeAt(i) !== NEWLINE) return { start: i, end: i + 1, secret: true, resume: i + 1 };
  }
  return null;
}

/** `(?i)\b((?:set-)?cookie\s*:\s*)[^'"\n]+` */
export const cookieHeader: SecretScanner = (text, from) => {
  for (let m = nextAnchorAtBoundary(COOKIE, text, from); m !== null; m = nextAnchorAtBoundary(COOKIE, text, m.index + 1)) {
    const colon = skip(text, m.index + m[0].length, isSpace);
    if (text.charCodeAt(colon) !== COLON) continue;
    const valueStart = skip(text, colon + 1, isSpace);
    const span = valueRun(text, valueStart, isCookieChar) ?? lastSpaceAsValue(text, colon + 1, valueStart);
    if (span !== null) return span;
  }
  return null;
};

// ---------------------------------------------------------------------------------------------
// Password flags inside scripts
// ---------------------------------------------------------------------------------------------

/** `[^|;&\n]`: one shell command's stretch of a script. */
function isCommandChar(code: number): boolean {
  return code !== 0x7c && code !== 0x3b && code !== 0x26 && code !== NEWLINE;
}

/**
 * A scanner for `\b(TOOL\b[^|;&\n]*?\sFLAG...)VALUE`: the first flag within the tool's command
 * that `flagValueAt` accepts. When a command has none, any later tool word in the same command
 * would find none either, so the search goes on after the command: each character is looked at
 * a bounded number of times.
 */
function toolFlagScanner(
  tool: RegExp,
  flagValueAt: (text: string, space: number) => SecretSpan | null,
  beforeFlag: (code: number) => boolean = isSpace,
): SecretScanner {
  // The end of the last command walked to, kept across calls: replaceSecrets calls again after
  // each secret, and walking a long command to its end again each time would be quadratic
  // (`curl -u a:b ` repeated a megabyte long).
  let walkedText: string | null = null;
  let walkedFrom = -1;
  let walkedEnd = -1;
  const commandEndFrom = (text: string, at: number): number => {
    if (text !== walkedText || at < walkedFrom || at > walkedEnd) {
      walkedText = text;
      walkedFrom = at;
      walkedEnd = skip(text, at, isCommandChar);
    }
    return walkedEnd;
  };
  return (text, from) => {
    let m = nextAnchor(tool, text, from);
    while (m !== null) {
      const commandEnd = commandEndFrom(text, m.index + m[0].length);
      // The whitespace before the flag may be the newline that ends the command (`\s` after
      // `[^|;&\n]*?`), so the command's end is tried too.
      for (let i = m.index + m[0].length; i <= commandEnd && i < text.length; i++) {
        if (!beforeFlag(text.charCodeAt(i))) continue;
        const span = flagValueAt(text, i);
        // A value may run past the command's end (`[^\s'"]` allows `;`), as in the regex.
        if (span !== null) return span;
      }
      m = nextAnchor(tool, text, Math.max(commandEnd, m.index + 1));
    }
    return null;
  };
}

const MYSQL_TOOL = /\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mariadb|mariadb-dump)\b/g;

/**
 * `\b((?:mysql|...|mariadb-dump)\b[^|;&\n]*?[\s'"]-p)[^\s'"]+`: a quote before the flag counts
 * like whitespace, for `mysql '-pSECRET'` in a script and `"mysql", "-pSECRET"` in JSON.
 */
export const mysqlPasswordFlag: SecretScanner = toolFlagScanner(
  MYSQL_TOOL,
  (text, space) => (text.startsWith('-p', space + 1) ? valueRun(text, space + 3, isValueChar) : null),
  (code) => isSpace(code) || isQuote(code),
);

const CURL_TOOL = /\bcurl\b/g;
const CURL_USER_FLAGS = ['--proxy-user', '--user', '-u', '-U'];

/** `\b(curl\b[^|;&\n]*?\s(?:-u|--user|-U|--proxy-user)\s*[^\s:'"]*:)[^\s'"]+` */
export const curlUserFlag: SecretScanner = toolFlagScanner(CURL_TOOL, (text, space) => {
  const flag = CURL_USER_FLAGS.find((name) => text.startsWith(name, space + 1));
  if (flag === undefined) return null;
  const user = skip(text, space + 1 + flag.length, isSpace);
  const colon = skip(text, user, (code) => isValueChar(code) && code !== COLON);
  return text.charCodeAt(colon) === COLON ? valueRun(text, colon + 1, isValueChar) : null;
});

const SSHPASS = /\bsshpass/g;

/** `[a-oq-zA-Z]`: a letter flag of sshpass other than `-p`. */
function isOtherSshpassFlag(code: number): boolean {
  return isLetter(code) && code !== 0x70;
}

/** `\b(sshpass\s+(?:-[a-oq-zA-Z]\s+)*-p\s*)[^\s'"]+` */
export const sshpassFlag: SecretScanner = (text, from) => {
  for (let m = nextAnchor(SSHPASS, text, from); m !== null; m = nextAnchor(SSHPASS, text, m.index + 1)) {
    const afterWord = m.index + m[0].length;
    let i = skip(text, afterWord, isSpace);
    if (i === afterWord) continue;
    // Each skipped flag ends in whitespace, which no `sshpass` word contains: walked once.
    while (text.charCodeAt(i) === 0x2d && isOtherSshpassFlag(text.charCodeAt(i + 1)) && isSpace(text.charCodeAt(i + 2))) {
      i = skip(text, i + 2, isSpace);
    }
    if (!text.startsWith('-p', i)) continue;
    const span = valueRun(text, skip(text, i + 2, isSpace), isValueChar);
    if (span !== null) return span;
  }
  return null;
};

/** `(-pass(?:in|out)?\s+pass:)[^\s'"]+` (openssl) */
export const opensslPassArgument: SecretScanner = (text, from) => {
  for (let at = text.indexOf('-pass', from); at !== -1; at = text.indexOf('-pass', at + 1)) {
    let i = at + 5;
    if (text.startsWith('in', i)) i += 2;
    else if (text.startsWith('out', i)) i += 3;
    const afterSpace = skip(text, i, isSpace);
    if (afterSpace === i || !text.startsWith('pass:', afterSpace)) continue;
    const span = valueRun(text, afterSpace + 5, isValueChar);
    if (span !== null) return span;
  }
  return null;
};

/** `[A-Za-z0-9/_-]` */
function isWebhookPathChar(code: number): boolean {
  return isTokenChar(code) || code === SLASH;
}

/** `(hooks\.slack\.com/services/)[A-Za-z0-9/_-]+`: Slack webhooks carry their secret in the path. */
export const slackWebhookPath: SecretScanner = (text, from) => {
  const prefix = 'hooks.slack.com/services/';
  for (let at = text.indexOf(prefix, from); at !== -1; at = text.indexOf(prefix, at + 1)) {
    const span = valueRun(text, at + prefix.length, isWebhookPathChar);
    if (span !== null) return span;
  }
  return null;
};

// ---------------------------------------------------------------------------------------------
// Well-known token shapes
// ---------------------------------------------------------------------------------------------

const TOKEN_PREFIX =
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA|gh[pousr]_|github_pat_|xox[abposre]-|xapp-[0-9]-|glpat-|[sr]k_live_|AIza|npm_|hv[sb]\.|eyJ)/g;

function isUpperOrDigit(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || isDigit(code);
}

/**
 * How long the body after a token prefix must be. `exact` bodies end there (re2 `{n}`), with a
 * word boundary after them when `boundary`; the others take the whole run (`{n,}`).
 */
interface TokenShape {
  accept: (code: number) => boolean;
  min: number;
  exact?: boolean;
  boundary?: boolean;
}

const AWS_KEY: TokenShape = { accept: isUpperOrDigit, min: 16, exact: true, boundary: true };

function tokenShape(prefix: string): TokenShape {
  if (prefix.startsWith('gh') && prefix.endsWith('_') && prefix.length === 4) return { accept: isAlnum, min: 36 };
  if (prefix === 'github_pat_') return { accept: isWord, min: 22 };
  if (prefix.startsWith('xox') || prefix.startsWith('xapp-')) return { accept: (code) => isAlnum(code) || code === 0x2d, min: 10 };
  if (prefix === 'glpat-') return { accept: isTokenChar, min: 20 };
  if (prefix.endsWith('k_live_')) return { accept: isAlnum, min: 20 };
  if (prefix === 'AIza') return { accept: isTokenChar, min: 35, exact: true };
  if (prefix === 'npm_') return { accept: isAlnum, min: 36, exact: true, boundary: true };
  if (prefix.startsWith('hv')) return { accept: isTokenChar, min: 24 };
  return AWS_KEY;
}

/** The end of a token body after `start`, or -1 when it has not the shape. */
function tokenBodyEnd(text: string, start: number, shape: TokenShape): number {
  if (shape.exact === true) {
    const end = start + shape.min;
    for (let i = start; i < end; i++) if (!shape.accept(text.charCodeAt(i))) return -1;
    return shape.boundary === true && isWord(text.charCodeAt(end)) ? -1 : end;
  }
  const end = skip(text, start, shape.accept);
  return end - start >= shape.min ? end : -1;
}

/**
 * A JWT: `\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`. Returns the span, or,
 * when there is none, the end of the header run (any `eyJ` inside that run ends at the same
 * place and fails the same way).
 */
function jwtAt(text: string, at: number): SecretSpan | number {
  const headerEnd = skip(text, at + 3, isTokenChar);
  if (headerEnd - (at + 3) < 8 || !text.startsWith('.eyJ', headerEnd)) return headerEnd;
  const payloadEnd = skip(text, headerEnd + 4, isTokenChar);
  if (payloadEnd - (headerEnd + 4) < 8 || text.charCodeAt(payloadEnd) !== 0x2e) return headerEnd;
  const end = skip(text, payloadEnd + 1, isTokenChar);
  return { start: at, end, secret: true, resume: end };
}

/** AWS access keys, GitHub, Slack, GitLab, Stripe, Google, npm and Vault tokens, JWTs. */
export const knownToken: SecretScanner = (text, from) => {
  // A JWT header run that failed makes every `eyJ` inside it fail too: those are skipped.
  let failedJwtRunEnd = -1;
  for (let m = nextAnchor(TOKEN_PREFIX, text, from); m !== null; m = nextAnchor(TOKEN_PREFIX, text, m.index + 1)) {
    const prefix = m[0];
    if (prefix === 'eyJ') {
      if (m.index < failedJwtRunEnd) continue;
      const jwt = jwtAt(text, m.index);
      if (typeof jwt !== 'number') return jwt;
      failedJwtRunEnd = jwt;
    } else {
      const end = tokenBodyEnd(text, m.index + prefix.length, tokenShape(prefix));
      if (end !== -1) return { start: m.index, end, secret: true, resume: end };
    }
  }
  return null;
};

// ---------------------------------------------------------------------------------------------
// Long random strings after key, token or secret
// ---------------------------------------------------------------------------------------------

const KEY_WORD = /key|token|secret/giu;
/** The longest name tail between the word and its separator (`{0,48}`). */
const MAX_KEY_NAME_TAIL = 48;
const MIN_RANDOM_VALUE = 40;

/** `[A-Za-z0-9_-]` under `(?i)`, which adds long s and the Kelvin sign. */
function isFoldedTokenChar(code: number): boolean {
  return isTokenChar(code) || code === LONG_S || code === KELVIN_SIGN;
}

/** `[A-Za-z0-9+/=_-]` under `(?i)`. */
function isRandomValueChar(code: number): boolean {
  return isFoldedTokenChar(code) || code === 0x2b || code === SLASH || code === EQUALS;
}

/**
 * After a name ending at `nameEnd`: `["']?\s*[:=\s]\s*["']?` then `[A-Za-z0-9+/=_-]{40,}`, with
 * the regex's order of preference (a `:` or `=` separator before a whitespace one). Returns the
 * value's span or null.
 */
function randomValueAfter(text: string, nameEnd: number): { start: number; end: number } | null {
  const open = isQuote(text.charCodeAt(nameEnd)) ? nameEnd + 1 : nameEnd;
  const separator = skip(text, open, isSpace);
  const code = text.charCodeAt(separator);
  const candidates: number[] = [];
  if (code === COLON || code === EQUALS) candidates.push(skip(text, separator + 1, isSpace));
  if (separator > open) candidates.push(separator);
  for (const candidate of candidates) {
    const start = isQuote(text.charCodeAt(candidate)) ? candidate + 1 : candidate;
    const end = skip(text, start, isRandomValueChar);
    if (end - start >= MIN_RANDOM_VALUE) return { start, end };
  }
  return null;
}

/**
 * `(?i)((?:key|token|secret)[A-Za-z0-9_-]{0,48}["']?\s*[:=\s]\s*["']?)([A-Za-z0-9+/=_-]{40,})`,
 * redacted only when the value looks random (`looksRandom`); a match that does not is kept and
 * skipped whole, as the regex's replacement did.
 */
export function randomValueAfterKeyWord(looksRandom: (value: string) => boolean): SecretScanner {
  return (text, from) => {
    // Every key word inside one name run shares the run's end, so the value after it is parsed
    // once per run, not once per word.
    let cachedNameEnd = -1;
    let cachedValue: { start: number; end: number } | null = null;
    for (let m = nextAnchor(KEY_WORD, text, from); m !== null; m = nextAnchor(KEY_WORD, text, m.index + 1)) {
      const tailStart = m.index + m[0].length;
      const nameEnd = skipAtMost(text, tailStart, MAX_KEY_NAME_TAIL + 1, isFoldedTokenChar);
      if (nameEnd - tailStart > MAX_KEY_NAME_TAIL) continue;
      if (nameEnd !== cachedNameEnd) {
        cachedNameEnd = nameEnd;
        cachedValue = randomValueAfter(text, nameEnd);
      }
      if (cachedValue === null) continue;
      const secret = looksRandom(text.slice(cachedValue.start, cachedValue.end));
      return { start: cachedValue.start, end: cachedValue.end, secret, resume: cachedValue.end };
    }
    return null;
  };
}
