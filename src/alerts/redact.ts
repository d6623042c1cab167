import { argumentMayHoldSecret, mayHoldSecret } from './secret-hints.js';
import { rewriteShellWords, type ShellCommand, type ShellWord } from './shell-words.js';
import {
  authorizationHeader,
  cookieHeader,
  curlUserFlag,
  keyHeader,
  knownToken,
  mysqlPasswordFlag,
  opensslPassArgument,
  randomValueAfterKeyWord,
  replaceSecrets,
  slackWebhookPath,
  sshpassFlag,
  urlPassword,
  type SecretScanner,
} from './secret-scanners.js';

/**
 * Secret redaction for command lines. Secrets never leave the service: every command shown in
 * Slack, stored for review or exported passes through here first.
 *
 * Two layers: argument-aware rules that know which flags of which tools take a password
 * (`mysql -pPASS`, `sshpass -p PASS`, `curl -u user:pass`, `--password X`), then text patterns for
 * secrets that are recognisable anywhere (credentials in URLs, Authorization headers, key=value
 * assignments, well-known token shapes, private key blocks, long random strings after words such
 * as "token"). Every text pattern is a hand-written scan (secret-scanners.ts, private key blocks
 * and `NAME=VALUE` / `--name VALUE` / `"name": value` assignments here) that finds a literal
 * anchor and looks at a bounded context around it, so each character is looked at a bounded
 * number of times: a hostile megabyte argument costs milliseconds, whatever it repeats.
 *
 * Redaction errs towards hiding too much: a flag's value is redacted even when the tool would
 * have treated it as something else. Everything that is not a secret is kept byte for byte.
 */

/** The marker that replaces every secret. */
export const REDACTED = '[REDACTED]';

/** The result of redacting an argument vector. */
export interface RedactedCommand {
  /** argv with secrets replaced; same length as the input. */
  argv: string[];
  /** The redacted argv joined with single spaces (as CommandEvent.command). */
  command: string;
  /** Whether anything was replaced. */
  redacted: boolean;
}

/** Redacts an argument vector; see the module comment for what counts as a secret. */
export function redactCommand(argv: readonly string[]): RedactedCommand {
  // Most commands hold nothing a secret could hide in: one cheap pass settles them.
  if (!mayHoldSecret(argv)) return { argv: [...argv], command: argv.join(' '), redacted: false };
  return redactCandidate(argv);
}

/**
 * redactCommand for a command mayHoldSecret already let through, without asking the screen again:
 * the argument-aware layer on the argv, then the script and text layers on each argument that
 * could change (argumentMayHoldSecret). Also what the screen's tests compare it with.
 */
export function redactCandidate(argv: readonly string[]): RedactedCommand {
  // Most arguments of a candidate hold no hint themselves: the two layers would return them as is.
  const out = redactArguments(argv).map((arg) => (argumentMayHoldSecret(arg) ? redactArgumentText(arg) : arg));
  const redacted = out.some((arg, i) => arg !== argv[i]);
  return { argv: out, command: out.join(' '), redacted };
}

/**
 * The script and text layers on one argument (after the argument-aware layer has seen the whole
 * argv): its script's simple commands as argument vectors, then the text patterns.
 */
export function redactArgumentText(arg: string): string {
  return redactText(redactScript(arg));
}

/**
 * A command event (or any record with `argv` and `command`) with secrets redacted from both, the
 * command rebuilt from the redacted argv: what `vouch scan` prints and what is stored. Every
 * other field is copied as is.
 */
export function redactEvent<T extends { argv: readonly string[]; command: string }>(event: T): T & { argv: string[] } {
  const clean = redactCommand(event.argv);
  return { ...event, argv: clean.argv, command: clean.command };
}

/** Redacts secrets in free text (a shell `-c` script, a joined command line, a log message). */
export function redactText(text: string): string {
  if (text.length === 0) return text;
  let out = text;
  for (const scanner of TEXT_SCANNERS) out = replaceSecrets(out, scanner, REDACTED);
  return redactAssignments(redactPrivateKeys(out));
}

// ---------------------------------------------------------------------------------------------
// Argument-aware layer
// ---------------------------------------------------------------------------------------------

/**
 * A record's own entry: arguments are attacker-chosen, and `__proto__` or `constructor` must not
 * find Object.prototype's members.
 */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** How much of the argument that follows a flag (or of the attached value) is secret. */
type ValueKind = 'whole' | 'after-colon' | 'after-percent' | 'openssl-pass' | 'cookies' | 'header-value' | 'proxy';

/** Tools whose short flags take a secret; keyed by the basename of the word that names the tool. */
const TOOL_FLAGS: Record<string, Record<string, ValueKind>> = {};
const MYSQL = ['mysql', 'mysqldump', 'mysqladmin', 'mysqlimport', 'mysqlshow', 'mysqlcheck', 'mysqlpump', 'mariadb', 'mariadb-dump', 'mariadb-admin'];
const MONGO = ['mongo', 'mongosh', 'mongodump', 'mongorestore', 'mongoexport', 'mongoimport'];
const LDAP = ['ldapsearch', 'ldapadd', 'ldapmodify', 'ldapdelete', 'ldapwhoami', 'ldappasswd', 'ldapcompare', 'ldapmodrdn'];
/** Tools where `-p` is a password only for `login` (elsewhere it publishes a port). */
const REGISTRY_LOGIN = ['docker', 'podman', 'nerdctl', 'buildah', 'helm', 'oc'];
for (const tool of MONGO) TOOL_FLAGS[tool] = { '-p': 'whole' };
for (const tool of LDAP) TOOL_FLAGS[tool] = { '-w': 'whole' };
Object.assign(TOOL_FLAGS, {
  sshpass: { '-p': 'whole' },
  'redis-cli': { '-a': 'whole' },
  curl: {
    '-u': 'after-colon',
    '--user': 'after-colon',
    '-U': 'after-colon',
    '--proxy-user': 'after-colon',
    '--oauth2-bearer': 'whole',
    '-x': 'proxy',
    '--proxy': 'proxy',
    '-b': 'cookies',
    '--cookie': 'cookies',
  },
  smbclient: { '-U': 'after-percent', '--user': 'after-percent' },
  rpcclient: { '-U': 'after-percent', '--user': 'after-percent' },
  useradd: { '-p': 'whole' },
  usermod: { '-p': 'whole' },
  ipmitool: { '-P': 'whole' },
  sqlcmd: { '-P': 'whole' },
  skopeo: { '--creds': 'after-colon', '--src-creds': 'after-colon', '--dest-creds': 'after-colon' },
  openssl: { '-passin': 'openssl-pass', '-passout': 'openssl-pass', '-pass': 'openssl-pass', '-k': 'whole' },
} satisfies Record<string, Record<string, ValueKind>>);

/** Words that make a flag or variable name secret-bearing. */
const SECRET_NAME = /(pass(word|wd|phrase)?|pwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|auth[-_]?key|credentials?|(^|[-_])auth$)/i;
/** Names that mention a secret but hold something else (a file, a switch, a lifetime). */
const NOT_A_SECRET_NAME = /(^(no|ask|use|skip)[-_])|([-_](file|path|dir|stdin|fd|env|ttl|type|length|len|prompt|helper|command|cmd|url|uri|endpoint|mode|policy|timeout|expiry|expires|lifetime|rotation|count|size|limit|name|id)$)|(tokens$)/i;
/** How much of a (possibly hostile, megabyte-long) name the name checks look at. */
const MAX_NAME = 100;

/** The shell's working directories: `pwd` in their names is "print working directory", not a password. */
const WORKING_DIRECTORY_NAMES = new Set(['PWD', 'OLDPWD']);

function isSecretName(name: string): boolean {
  if (WORKING_DIRECTORY_NAMES.has(name)) return false;
  // Secret words sit at the end of real names (PGPASSWORD, --api-key); looking at the tail keeps
  // the check cheap on hostile input without letting a long prefix hide a secret.
  const tail = name.length > MAX_NAME ? name.slice(-MAX_NAME) : name;
  return (SECRET_NAME.test(tail) || ENVIRONMENT_KEY_NAME.test(tail)) && !NOT_A_SECRET_NAME.test(tail);
}

/**
 * An environment variable named as a key (`KEY`, `ENCRYPTION_KEY`, `STRIPE_KEY`): upper case only,
 * as environment names are written, so `--key FILE` and `recv-key` stay flags; public keys are not
 * secrets.
 */
const ENVIRONMENT_KEY_NAME = /^(?!(?:[A-Z0-9]+_)*PUBLIC_KEY$)(?:[A-Z0-9]+_)*KEY$/;

/**
 * The argument-aware layer over one argument vector. A tool's flags apply from where the tool is
 * named: argv[0], or later behind a wrapper or a remote host (`sudo mysql -pX`, `timeout 5 curl
 * -u a:b`, `docker exec db mysql -pX`, `ssh h redis-cli -a X`), so a wrapper never hides them. A
 * word that is the value of the flag before it is a value, not a tool (`sshpass -p curl`). One
 * pass: each later search (`login`, `passwd`, batch flags) is done once or resumes where it left.
 */
function redactArguments(argv: readonly string[]): string[] {
  const out = [...argv];
  const searches = new ArgvSearches(argv);
  let context = toolContext(argv, 0, searches);
  let pending: ValueKind | null = null;
  for (let i = 1; i < out.length; i++) {
    const arg = out[i] as string;
    if (context.opensslPasswd > 0 && i > context.opensslPasswd && pending === null && !arg.startsWith('-') && !OPENSSL_PASSWD_VALUE_FLAGS.has(out[i - 1] as string)) {
      out[i] = REDACTED;
      continue;
    }
    if (pending !== null) {
      // `Authorization: Bearer TOKEN` given as separate words: the scheme stays, the word after it goes.
      if (pending === 'header-value' && isAuthScheme(arg)) {
        pending = 'whole';
        continue;
      }
      out[i] = redactValue(arg, pending);
      pending = null;
      continue;
    }
    // The tool's own name again is one of its arguments (the file of `htpasswd -b /etc/nginx/htpasswd`).
    const name = commandName(arg);
    if (name !== context.tool && isKnownTool(name)) {
      context = toolContext(argv, i, searches);
      continue;
    }
    const next = out[i + 1];
    if (isAuthHeaderName(arg)) {
      if (next !== undefined) pending = 'header-value';
      continue;
    }
    const script = (arg.includes('=') || arg.includes(':')) && isScriptArgument(out, i);
    const result = redactArgument(arg, context, i === out.length - 1, script);
    out[i] = result.value;
    if (result.takesValue && next !== undefined && !next.startsWith('--')) pending = result.takesValue;
  }
  return out;
}

/** What redactArgument knows of the tool whose arguments it is reading. */
interface ToolContext {
  tool: string;
  flags: Record<string, ValueKind>;
  /** `htpasswd -b`: the last argument is the password. */
  htpasswdBatch: boolean;
  /** Index of the `passwd` of `openssl passwd` (its later words are passwords), or -1. */
  opensslPasswd: number;
}

/** The tool named at `argv[at]` and the flags of it that take a secret. */
function toolContext(argv: readonly string[], at: number, searches: ArgvSearches): ToolContext {
  const tool = commandName(argv[at] ?? '');
  const flags: Record<string, ValueKind> = { ...(own(TOOL_FLAGS, tool) ?? {}) };
  if (REGISTRY_LOGIN.includes(tool) && searches.lastLogin() > at) flags['-p'] = 'whole';
  return {
    tool,
    flags,
    htpasswdBatch: tool === 'htpasswd' && searches.lastBatchFlag() > at,
    opensslPasswd: tool === 'openssl' ? searches.passwdAfter(at) : -1,
  };
}

/**
 * Searches of one argv that toolContext needs, each done once (or resumed), so that an argv naming
 * a tool a million times costs one pass, not a million.
 */
class ArgvSearches {
  private login: number | null = null;
  private batchFlag: number | null = null;
  /** The last passwdAfter search: from where, and what it found (-1: none from there on). */
  private passwdFrom = Number.POSITIVE_INFINITY;
  private passwdAt = -1;

  constructor(private readonly argv: readonly string[]) {}

  /** Index of the last `login` word, or -1. */
  lastLogin(): number {
    return (this.login ??= this.argv.lastIndexOf('login'));
  }

  /** Index of the last cluster of letter flags holding `b` (`-b`, `-cbB`), or -1. */
  lastBatchFlag(): number {
    if (this.batchFlag === null) {
      this.batchFlag = -1;
      for (let i = this.argv.length - 1; i > 0; i--) {
        const arg = this.argv[i] as string;
        if (isLetterFlagCluster(arg) && arg.includes('b')) {
          this.batchFlag = i;
          break;
        }
      }
    }
    return this.batchFlag;
  }

  /** Index of the first `passwd` after `at`, or -1. Calls come with growing `at`. */
  passwdAfter(at: number): number {
    const known = at >= this.passwdFrom && (this.passwdAt < 0 || this.passwdAt > at);
    if (!known) {
      this.passwdFrom = at;
      this.passwdAt = this.argv.indexOf('passwd', at + 1);
    }
    return this.passwdAt;
  }
}

/**
 * An argument that holds a script (`sh -c '...'`, an ssh remote command, anything with blanks):
 * each of its simple commands is redacted as an argument vector, so a tool's password flag is
 * found inside the script too, quoted or not (`sshpass -p 'S3cret' ssh h`). Words the script
 * quoted also get the text layer on their value (`https://alice:'my secret'@host`), since the
 * text layer on the whole argument sees them with their quotes. Changes are written back into the
 * script with its quoting kept (shell-words.ts).
 */
function redactScript(arg: string): string {
  if (!/[ \t\n]/.test(arg)) return arg;
  // Whether a here-input's line reads passwords, asked once per line (a line may feed many).
  const passwordLines = new Map<readonly ShellCommand[], boolean>();
  const readsPasswordLines = (line: readonly ShellCommand[]): boolean => {
    let known = passwordLines.get(line);
    if (known === undefined) passwordLines.set(line, (known = line.some(({ words }) => readsPasswords(words))));
    return known;
  };
  return rewriteShellWords(arg, (words, { pipedTo, inputOf, hereString }) => {
    const values = words.map((word) => word.value);
    // user:password lines: what follows each colon is a password (a word without one is a flag or a format).
    if (pipedTo !== null && feedsPasswords(values, pipedTo)) return values.map((value, i) => (i === 0 ? value : redactValue(value, 'after-colon')));
    // `echo S3cret | sudo -S ...`, `| passwd --stdin bob`: every word printed is the password.
    if (pipedTo !== null && isPrinter(values) && readsPasswordFromStdin(pipedTo)) return printedPasswords(values);
    // `chpasswd <<< 'bob:S3cret'` and here-document lines: the line after its colon is the password.
    if (inputOf !== null && readsPasswordLines(inputOf)) {
      return values.map((value, i) => (i === 0 ? redactValue(value, 'after-colon') : hereString ? value : REDACTED));
    }
    // `sudo -S id <<< S3cret`, `passwd --stdin bob <<< S3cret`: the here-string is the password.
    if (inputOf !== null && hereString && inputOf.some(({ words: command }) => readsPasswordFromStdin(command))) return values.map(() => REDACTED);
    // The tool may come after a wrapper (`sudo`, `env`, `timeout 5`): redactArguments reads its flags from there.
    const out = redactArguments(values);
    // A leading `PGPASSWORD='x y' psql`: redactArguments starts at the tool's first argument.
    // `password: S3cret` (a YAML here-document line): the value is the next word.
    if (isEmptyAssignment(out[0] as string) && out.length > 1) out[1] = REDACTED;
    else out[0] = assignment(out[0] as string);
    for (let i = 0; i < words.length; i++) {
      if ((words[i] as ShellWord).quoted && out[i] === values[i] && mayHoldSecret([values[i] as string])) out[i] = redactText(values[i] as string);
    }
    return out;
  });
}

/** `echo 'bob:S3cret' | chpasswd` (also printf, and through sudo): user:password lines on stdin. */
function feedsPasswords(words: readonly string[], pipedTo: readonly ShellWord[]): boolean {
  return isPrinter(words) && readsPasswords(pipedTo);
}

/** echo's or printf's words with what they print redacted; printf's format stays when arguments follow it. */
function printedPasswords(words: readonly string[]): string[] {
  const printed = (word: string, i: number) => i > 0 && !word.startsWith('-');
  const first = words.findIndex(printed);
  const keepFormat = basename(words[0] ?? '') === 'printf' && words.some((word, i) => i > first && printed(word, i));
  return words.map((word, i) => (printed(word, i) && !(keepFormat && i === first) ? REDACTED : word));
}

/** The command is echo or printf. */
function isPrinter(words: readonly string[]): boolean {
  const printer = basename(words[0] ?? '');
  return printer === 'echo' || printer === 'printf';
}

/**
 * `sudo -S` (possibly among other flags: `sudo -kS`), `passwd --stdin` and the registry logins'
 * `--password-stdin` (docker, podman, helm, nerdctl, skopeo...) read a password from standard input.
 */
function readsPasswordFromStdin(command: readonly ShellWord[]): boolean {
  const tool = basename(command[0]?.value ?? '');
  if (command.some((word) => word.value === '--password-stdin')) return true;
  if (tool === 'passwd') return command.some((word) => word.value === '--stdin');
  if (tool !== 'sudo') return false;
  for (let i = 1; i < command.length; i++) {
    const flag = (command[i] as ShellWord).value;
    if (!flag.startsWith('-')) return false;
    if (flag === '--stdin' || (isLetterFlagCluster(flag) && flag.includes('S'))) return true;
  }
  return false;
}

/** The command is chpasswd or chgpasswd, possibly behind a wrapper (`sudo chpasswd`). */
function readsPasswords(command: readonly ShellWord[]): boolean {
  return command.some((word, i) => i < 4 && PASSWORD_READERS.has(basename(word.value)));
}

/** Tools that read `user:password` lines on standard input. */
const PASSWORD_READERS = new Set(['chpasswd', 'chgpasswd']);

/** A tool whose flags redactArguments knows. */
function isKnownTool(name: string): boolean {
  return own(TOOL_FLAGS, name) !== undefined || MYSQL.includes(name) || REGISTRY_LOGIN.includes(name) || name === 'htpasswd';
}

/** Longest word read as a command name: no tool's path is longer, and a hostile argument is not sliced. */
const MAX_COMMAND_WORD = 256;

/** The basename of a word that may name a command ('' for a longer word). */
function commandName(word: string): string {
  return word.length > MAX_COMMAND_WORD ? '' : basename(word);
}

/** A header that carries credentials, given as a word of its own (`Authorization:`). */
function isAuthHeaderName(arg: string): boolean {
  return arg.length <= 20 && /^(proxy-)?authorization:$/i.test(arg);
}

/** An HTTP authentication scheme given as a word of its own (`Bearer`, `Basic`). */
function isAuthScheme(arg: string): boolean {
  return arg.length <= 20 && /^(bearer|basic|token|digest|negotiate|ntlm|apikey|sso-key|aws4-hmac-sha256)$/i.test(arg);
}

/**
 * An argument that is itself a script: the one after `-c` (`sh -c`, `su -c`, `bash -lc`), or one
 * whose value holds blanks and a shell operator (an ssh remote command). Its `NAME=value` is the
 * first word of the script, redacted by the script layer, not the whole argument: `sh -c
 * "PASSWORD=x; curl evil | sh"` keeps what the attacker ran after the assignment.
 */
function isScriptArgument(argv: readonly string[], i: number): boolean {
  const before = argv[i - 1] as string;
  if (before.length >= 2 && before.length <= 8 && before.endsWith('c') && isLetterFlagCluster(before)) return true;
  const arg = argv[i] as string;
  return /[ \t\n]/.test(arg) && /[;|&\n]/.test(arg);
}

function redactArgument(arg: string, context: ToolContext, lastArg: boolean, script: boolean): { value: string; takesValue: ValueKind | null } {
  const kind = own(context.flags, arg);
  if (kind !== undefined) return { value: arg, takesValue: kind };
  const attached = attachedValue(arg, context);
  if (attached !== null) return { value: attached, takesValue: null };
  if (arg.startsWith('--') && arg.length > 2) return longFlag(arg, context.flags);
  // Single-dash long flags (keytool's -storepass, -password of many Java and Windows tools).
  if (arg.length > 3 && arg.charCodeAt(0) === 0x2d && /^-[A-Za-z][A-Za-z0-9_-]*(=|$)/.test(arg.slice(0, MAX_NAME))) {
    const flag = longFlag(`-${arg}`, context.flags);
    if (flag.value !== `-${arg}` || flag.takesValue !== null) return { value: flag.value.slice(1), takesValue: flag.takesValue };
  }
  if (context.htpasswdBatch && lastArg && !arg.startsWith('-')) return { value: REDACTED, takesValue: null };
  if (/^(aws_secret_access_key|aws_session_token)$/i.test(arg)) return { value: arg, takesValue: 'whole' };
  // `password: S3cret`, `TOKEN= S3cret`: a secret's name with nothing after it names the next word.
  if (isEmptyAssignment(arg)) return { value: arg, takesValue: 'whole' };
  // A script's leading assignment is left to the script layer, which ends its value where the shell does.
  return { value: script ? arg : assignment(arg), takesValue: null };
}

/** `password:` or `TOKEN=`: a secret's name and its separator, the value left to the next word. */
function isEmptyAssignment(arg: string): boolean {
  const last = arg.charCodeAt(arg.length - 1);
  if (arg.length < 2 || arg.length > MAX_NAME || (last !== 0x3a && last !== 0x3d)) return false;
  const name = arg.slice(0, -1);
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) && isSecretName(name);
}

/** `-pSECRET` (mysql, sshpass) and `-uuser:pass` (curl): the value glued to a short flag. */
function attachedValue(arg: string, context: { tool: string; flags: Record<string, ValueKind> }): string | null {
  if (arg.length <= 2 || arg.startsWith('--')) return null;
  if (MYSQL.includes(context.tool) && arg.startsWith('-p')) return `-p${REDACTED}`;
  const flag = arg.slice(0, 2);
  const kind = own(context.flags, flag);
  if (kind === undefined || !/^-[A-Za-z]$/.test(flag)) return null;
  return flag + redactValue(arg.slice(2), kind);
}

/** `--password=X` keeps the flag; `--password X` marks the next argument. */
function longFlag(arg: string, flags: Record<string, ValueKind>): { value: string; takesValue: ValueKind | null } {
  const eq = arg.indexOf('=');
  const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
  const toolKind = eq === -1 ? undefined : flags[`--${name}`];
  if (toolKind !== undefined) return { value: arg.slice(0, eq + 1) + redactValue(arg.slice(eq + 1), toolKind), takesValue: null };
  if (name === 'from-literal' && eq !== -1) {
    // kubectl create secret --from-literal=KEY=VALUE: every value there is a secret.
    const inner = arg.indexOf('=', eq + 1);
    return { value: inner === -1 ? arg : `${arg.slice(0, inner + 1)}${REDACTED}`, takesValue: null };
  }
  if (!isSecretName(name)) return { value: arg, takesValue: null };
  if (eq === -1) return { value: arg, takesValue: 'whole' };
  return { value: `${arg.slice(0, eq + 1)}${REDACTED}`, takesValue: null };
}

/**
 * `PGPASSWORD=x` and other secret-named assignments (env prefixes, `key=value` arguments), and
 * `password:x` (a name, a colon, the value).
 */
function assignment(arg: string): string {
  let eq = arg.indexOf('=');
  const colon = arg.indexOf(':');
  if (colon > 0 && (eq < 0 || colon < eq)) eq = colon;
  if (eq <= 0) return arg;
  const name = arg.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) || !isSecretName(name)) return arg;
  return `${name}${arg[eq]}${REDACTED}`;
}

/** Options of `openssl passwd` that take a value (which is not a password). */
const OPENSSL_PASSWD_VALUE_FLAGS = new Set(['-salt', '-in', '-rand', '-writerand', '-provider', '-provider-path', '-propquery']);

function redactValue(value: string, kind: ValueKind): string {
  const keepUpTo = (separator: string) => {
    const at = value.indexOf(separator);
    return at === -1 ? value : `${value.slice(0, at + 1)}${REDACTED}`;
  };
  switch (kind) {
    case 'whole':
      return REDACTED;
    case 'after-colon':
      return keepUpTo(':');
    case 'after-percent':
      return keepUpTo('%');
    case 'openssl-pass':
      // pass:SECRET is the secret itself; env:, file:, fd: and stdin only say where it is.
      return value.startsWith('pass:') ? `pass:${REDACTED}` : value;
    case 'cookies':
      return redactCookies(value);
    case 'header-value':
      return redactHeaderValue(value);
    case 'proxy':
      return redactProxyCredentials(value);
  }
}

/**
 * curl's `-x [scheme://][user:password@]host[:port]`: the password, from the user's colon to the
 * host's `@` (the last one), however the scheme is written or left out.
 */
function redactProxyCredentials(value: string): string {
  const scheme = value.indexOf('://');
  const from = scheme < 0 ? 0 : scheme + 3;
  const at = value.lastIndexOf('@');
  const colon = value.indexOf(':', from);
  if (at < 0 || colon < 0 || colon > at) return value;
  return `${value.slice(0, colon + 1)}${REDACTED}${value.slice(at)}`;
}

/** `curl -b 'sid=X; theme=dark'`: every cookie's value (without `=`, the value names a cookie file). */
function redactCookies(value: string): string {
  if (!value.includes('=')) return value;
  return value
    .split(';')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq + 1)}${REDACTED}`;
    })
    .join(';');
}

/** The value of an `Authorization:` given as a word of its own: its scheme stays (`Bearer X` → `Bearer [REDACTED]`). */
function redactHeaderValue(value: string): string {
  const space = value.indexOf(' ');
  return space > 0 && isAuthScheme(value.slice(0, space)) ? `${value.slice(0, space + 1)}${REDACTED}` : REDACTED;
}

/** `^-[A-Za-z]+$`, by a loop: the regex with a `b` in the middle backtracks on long arguments. */
function isLetterFlagCluster(arg: string): boolean {
  if (arg.length < 2 || arg.charCodeAt(0) !== 0x2d) return false;
  for (let i = 1; i < arg.length; i++) {
    const code = arg.charCodeAt(i) | 0x20;
    if (code < 0x61 || code > 0x7a) return false;
  }
  return true;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

// ---------------------------------------------------------------------------------------------
// Text layer
// ---------------------------------------------------------------------------------------------

/**
 * Secrets recognisable anywhere, in the order they are redacted (each scanner sees the output of
 * the one before); see secret-scanners.ts for the pattern each one implements.
 */
const TEXT_SCANNERS: readonly SecretScanner[] = [
  urlPassword,
  authorizationHeader,
  keyHeader,
  cookieHeader,
  mysqlPasswordFlag,
  sshpassFlag,
  curlUserFlag,
  opensslPassArgument,
  slackWebhookPath,
  knownToken,
  randomValueAfterKeyWord(looksRandom),
];

// ---------------------------------------------------------------------------------------------
// Private keys and assignments, scanned by hand
// ---------------------------------------------------------------------------------------------

const PEM_BEGIN = /^-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;
const PEM_END = /^-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;

/**
 * Private key blocks: keeps the armour lines and replaces the key between them (up to the end
 * of the text when the block is cut off). indexOf scanning keeps a megabyte of key material cheap.
 */
function redactPrivateKeys(text: string): string {
  let out = '';
  let last = 0;
  let from = 0;
  for (;;) {
    const begin = text.indexOf('-----BEGIN ', from);
    if (begin === -1) break;
    const header = PEM_BEGIN.exec(text.slice(begin, begin + 80));
    if (header === null) {
      from = begin + 1;
      continue;
    }
    const bodyStart = begin + header[0].length;
    let end = text.indexOf('-----END ', bodyStart);
    while (end !== -1 && !PEM_END.test(text.slice(end, end + 80))) end = text.indexOf('-----END ', end + 1);
    const bodyEnd = end === -1 ? text.length : end;
    out += text.slice(last, bodyStart) + REDACTED;
    last = bodyEnd;
    from = Math.max(bodyEnd, bodyStart);
    if (end === -1) break;
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * Finds `NAME=VALUE`, `--name VALUE` and `"name": VALUE` with a secret-sounding name by hand: a
 * single left-to-right pass where each `=` or `:` looks back at most MAX_NAME characters for its
 * name. Regexes for this shape ("any name containing a secret word") are slow on megabyte-long
 * runs of name characters even in re2, so this part is not a regex.
 */
function redactAssignments(text: string): string {
  let out = '';
  let last = 0;
  let i = 0;
  while (i < text.length) {
    const value = secretValueAt(text, i);
    if (value === null) {
      i += 1;
      continue;
    }
    out += text.slice(last, value.start) + REDACTED;
    last = value.end;
    i = Math.max(value.end, i + 1);
  }
  return last === 0 ? text : out + text.slice(last);
}

/** If position `i` starts a secret's value context (after `=`, `:` or a secret flag), its span. */
function secretValueAt(text: string, i: number): { start: number; end: number } | null {
  const ch = text[i];
  if (ch === '=') {
    const name = nameBefore(text, i);
    if (name !== null) return isSecretName(name.replace(/^-+/, '')) ? valueSpan(text, i + 1, isUnquotedStop) : null;
    return spacedAssignment(text, i);
  }
  if (ch === ':') return jsonValue(text, i);
  if (ch === '-' && (i === 0 || isSpace(text[i - 1]))) return flagValue(text, i);
  return null;
}

/** Most blanks around the `=` of `password = x` (INI, TOML, .env files written with echo). */
const MAX_ASSIGNMENT_BLANKS = 8;

/** Blanks (spaces and tabs) from `i` on, at most MAX_ASSIGNMENT_BLANKS: the index after them. */
function blanksAfter(text: string, i: number): number {
  let at = i;
  while (at < text.length && at - i < MAX_ASSIGNMENT_BLANKS && (text[at] === ' ' || text[at] === '\t')) at += 1;
  return at;
}

/**
 * `password = x`: a secret's name, blanks, `=` at `equals`, blanks, the value. Not `==` (a
 * comparison, whose right side is left to the rest of the pass), nor a value that starts with a
 * quote-less `-` (a flag).
 */
function spacedAssignment(text: string, equals: number): { start: number; end: number } | null {
  let nameEnd = equals;
  while (nameEnd > 0 && equals - nameEnd < MAX_ASSIGNMENT_BLANKS && (text[nameEnd - 1] === ' ' || text[nameEnd - 1] === '\t')) nameEnd -= 1;
  if (nameEnd === equals) return null;
  const name = nameBefore(text, nameEnd);
  if (name === null || !isSecretName(name.replace(/^-+/, ''))) return null;
  const start = blanksAfter(text, equals + 1);
  if (text[equals + 1] === '=' || text[start] === '-') return null;
  return valueSpan(text, start, isUnquotedStop);
}

/** `[A-Za-z0-9_.-]`, by code unit (this runs once per character of hostile text). */
function isNameChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) ||
    code === 0x5f || code === 0x2e || code === 0x2d
  );
}

/** Exactly the characters of the regex class `\s`. */
function isSpaceCode(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 ||
    code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff
  );
}

/** Characters that end an unquoted value: whitespace, quotes, shell and query separators. */
function isUnquotedStop(code: number): boolean {
  return isSpaceCode(code) || code === 0x27 || code === 0x22 || code === 0x26 || code === 0x3b || code === 0x7c || code === 0x2c;
}

/** Characters that end an unquoted JSON or YAML value. */
function isJsonStop(code: number): boolean {
  return isSpaceCode(code) || code === 0x27 || code === 0x22 || code === 0x2c || code === 0x7d;
}

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r';
}

/** The run of name characters ending right before `end` (its last MAX_NAME characters). */
function nameBefore(text: string, end: number): string | null {
  let start = end;
  while (start > 0 && end - start < MAX_NAME && isNameChar(text.charCodeAt(start - 1))) start -= 1;
  return start === end ? null : text.slice(start, end);
}

/** `"password": "x"` or `'token': x` (JSON, YAML, Python dicts). */
function jsonValue(text: string, colon: number): { start: number; end: number } | null {
  let close = colon - 1;
  while (close >= 0 && isSpace(text[close])) close -= 1;
  const quote = text[close];
  if (quote !== '"' && quote !== "'") return null;
  let open = close - 1;
  while (open >= 0 && close - open <= MAX_NAME + 1 && text[open] !== quote) open -= 1;
  if (open < 0 || text[open] !== quote) return null;
  if (!isSecretName(text.slice(open + 1, close))) return null;
  let start = colon + 1;
  while (start < text.length && isSpace(text[start])) start += 1;
  return valueSpan(text, start, isJsonStop);
}

/** `--password VALUE`: a secret-named flag without `=` redacts the next word. */
function flagValue(text: string, dash: number): { start: number; end: number } | null {
  let end = dash;
  while (end < text.length && end - dash <= MAX_NAME && isNameChar(text.charCodeAt(end))) end += 1;
  if (end - dash > MAX_NAME || !isSpace(text[end])) return null;
  if (!isSecretName(text.slice(dash, end).replace(/^-+/, ''))) return null;
  let start = end;
  while (start < text.length && isSpace(text[start])) start += 1;
  if (text[start] === '-' || text.startsWith(REDACTED, start)) return null;
  return valueSpan(text, start, isUnquotedStop);
}

/** A quoted value (to its closing quote, or the end) or a run up to a `stops` character. Null when empty or already redacted. */
function valueSpan(text: string, start: number, stops: (code: number) => boolean): { start: number; end: number } | null {
  // Checked before scanning: a value that is already the marker is skipped in constant time, so
  // a run of `name=[REDACTED]` (text redacted before, or typed by an attacker) stays linear.
  if (text.startsWith(REDACTED, start)) return null;
  const first = text[start];
  if (first === '"' || first === "'") {
    const close = text.indexOf(first, start + 1);
    return { start, end: close === -1 ? text.length : close + 1 };
  }
  let end = start;
  while (end < text.length && !stops(text.charCodeAt(end))) end += 1;
  return end === start ? null : { start, end };
}

/**
 * Random enough to be a key: at least two character classes and Shannon entropy above 3 bits per
 * character (English words and repeated characters stay well below).
 */
function looksRandom(value: string): boolean {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(value)).length;
  if (classes < 2) return false;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy > 3;
}
