/**
 * Worst-case cost of hostile argument text on every per-character path the service runs over
 * command lines: secret redaction, the Slack, terminal and HTML escapers, and malformed-line
 * samples. Each adversarial family repeats (or mixes) the pieces those paths react to, such as
 * `=`, `@`, quotes, `pwd=x`, `--password`, `Bearer `, `AKIA` and `-----BEGIN`, so that a regex
 * that backtracks or a loop that rescans shows up as a cost per MiB that grows with the size.
 *
 * The families and targets are exported for the property test (test/bench/hostile-text.test.ts),
 * which checks the same inputs at small sizes against a time budget per KiB.
 */
import { redactCommand, redactText } from '../src/alerts/redact.js';
import { escapeMrkdwn, sanitizeText, truncatePlain, untrustedMrkdwn } from '../src/chat/slack/escape.js';
import { storableText } from '../src/store/storable.js';
import { csvCell } from '../src/review/report.js';
import { escapeHtml } from '../src/review/console/html.js';
import { sampleOf } from '../src/sources/parsers/parse-support.js';
import { terminalText } from '../src/terminal-text.js';
import { LOG_LINE_TARGETS } from './hostile-log-lines.js';
import { SeededRandom } from './seeded-random.js';

/** One kind of adversarial text; `make` returns exactly `chars` UTF-16 code units. */
export interface HostileFamily {
  name: string;
  make: (chars: number) => string;
}

/** A per-character path under test. */
export interface HostileTarget {
  name: string;
  run: (text: string) => unknown;
}

/** Pieces that each path reacts to; every one is also a family of its own, repeated. */
const PIECES: Record<string, string> = {
  'equals signs': '=',
  'at signs': '@',
  colons: ':',
  slashes: '/',
  'double quotes': '"',
  'single quotes': "'",
  backslashes: '\\',
  'percent signs': '%',
  dashes: '-',
  hex: '0123456789abcdef',
  'pwd=x': 'pwd=x',
  'pwd=x and spaces': 'pwd=x ',
  'pwd=[REDACTED]': 'pwd=[REDACTED]',
  'pwd="': 'pwd="',
  'key=': 'key=',
  'key words': 'key',
  'api-key': 'api-key',
  '--password': '--password ',
  '--password=': '--password=',
  '"password": ': '"password": ',
  'Bearer ': 'Bearer ',
  'Authorization: ': 'Authorization: ',
  'Authorization: Bearer ': 'Authorization: Bearer x',
  'Cookie: ': 'Cookie: ',
  AKIA: 'AKIA',
  'AKIA keys': 'AKIAIOSFODNN7EXAMPLE ',
  '-----BEGIN ': '-----BEGIN ',
  'PEM headers': '-----BEGIN RSA PRIVATE KEY-----',
  'PEM trailers': '-----END RSA PRIVATE KEY-----',
  'URL user info': 'https://u:',
  'URL credentials': 'https://u:p@',
  'URL passwords with spaces': 'https://u:a b ',
  'here-strings': 'chpasswd <<< a:b ',
  'here-documents': 'chpasswd <<A\na:b\n',
  'scheme and colon': 'x://a:b',
  'mysql ': 'mysql ',
  'curl -u ': 'curl -u ',
  'curl user flags': 'curl -u a:b ',
  'mysql password flags': 'mysql -px ',
  'quoted password flags': "sshpass -p 'x y' ",
  'sshpass -a ': 'sshpass -a ',
  'JWT starts': 'eyJaaaaaaaaaa.',
  'token and random': 'token Zx9Qw2Er7Ty4Ui1Op3As6Df8Gh5Jk0LzXcVbNm1234',
  'ampersands and brackets': '&<>',
  'entity look-alikes': '&amp',
  backticks: '`',
  'control characters': '\u0000\u0007\u001b[2J\r',
  'syslog octal escapes': '#000#011#040#303#251',
  'bidi and zero-width': '\u202e\u2066\u200b\ufeff',
  'lone surrogates': '\ud800',
  emoji: '😀',
};

function repeated(piece: string): (chars: number) => string {
  return (chars) => piece.repeat(Math.ceil(chars / piece.length)).slice(0, chars);
}

/** A seeded random mixture of `pieces`, cut to `chars` (the same text on every run). */
function mixture(pieces: readonly string[], seed: number): (chars: number) => string {
  return (chars) => {
    const random = new SeededRandom(seed);
    const parts: string[] = [];
    let length = 0;
    while (length < chars) {
      const piece = pieces[random.int(0, pieces.length - 1)] as string;
      parts.push(piece);
      length += piece.length;
    }
    return parts.join('').slice(0, chars);
  };
}

/** Every adversarial family: a long run of each piece, a plain run, and mixtures of pieces. */
export const HOSTILE_FAMILIES: readonly HostileFamily[] = [
  { name: 'plain letters', make: repeated('a') },
  ...Object.entries(PIECES).map(([name, piece]) => ({ name, make: repeated(piece) })),
  { name: 'mixture of punctuation', make: mixture(['=', '@', ':', '/', '"', "'", '\\', '%', '-', ' '], 1) },
  { name: 'mixture of secret openers', make: mixture(['pwd=', '--password ', 'Bearer ', 'AKIA', '-----BEGIN ', 'https://u:', '"token": ', 'key=', ' '], 2) },
  { name: 'mixture of everything', make: mixture([...Object.values(PIECES), 'a', ' ', 'x'], 3) },
];

/** Longest Slack field the service fills with a command (a section's text limit). */
const SLACK_FIELD_CHARS = 3000;

/** Every per-character path that command text goes through. */
export const HOSTILE_TARGETS: readonly HostileTarget[] = [
  { name: 'redactText', run: (text) => redactText(text) },
  { name: 'redactCommand, one argument', run: (text) => redactCommand(['sh', '-c', text]) },
  { name: 'redactCommand, 64-character arguments', run: (text) => redactCommand(['mysql', ...splitEvery(text, 64)]) },
  { name: 'sampleOf (malformed-line sample)', run: (text) => sampleOf(text) },
  { name: 'escapeMrkdwn', run: (text) => escapeMrkdwn(text) },
  { name: 'sanitizeText', run: (text) => sanitizeText(text) },
  { name: 'untrustedMrkdwn', run: (text) => untrustedMrkdwn(text, SLACK_FIELD_CHARS) },
  { name: 'truncatePlain', run: (text) => truncatePlain(text, SLACK_FIELD_CHARS) },
  { name: 'terminalText', run: (text) => terminalText(text) },
  { name: 'escapeHtml', run: (text) => escapeHtml(text) },
  { name: 'storableText (database boundary)', run: (text) => storableText(text) },
  { name: 'csvCell (report export)', run: (text) => csvCell(text) },
  ...LOG_LINE_TARGETS,
];

function splitEvery(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let at = 0; at < text.length; at += size) parts.push(text.slice(at, at + size));
  return parts;
}

/** The best (lowest) wall time of `runs` calls, in milliseconds: noise only ever adds time. */
export function bestTimeMs(target: HostileTarget, text: string, runs: number): number {
  let best = Infinity;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    target.run(text);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/**
 * The best (lowest) CPU time of `runs` calls, in milliseconds (the process's user and system
 * time, collector threads included). Unlike wall time it does not grow while the process waits
 * for a core, so on a machine with more runnable work than cores a long run is not charged for
 * the time slices other processes took.
 */
export function bestCpuMs(target: HostileTarget, text: string, runs: number): number {
  let best = Infinity;
  for (let run = 0; run < runs; run++) {
    const started = process.cpuUsage();
    target.run(text);
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

/** One target's cost on one family at the small and the large size. */
export interface HostileMeasurement {
  target: string;
  family: string;
  /** Milliseconds per MiB at the small size and at the large size. */
  smallMsPerMiB: number;
  largeMsPerMiB: number;
  /** largeMsPerMiB / smallMsPerMiB: about 1 when linear, the size ratio when quadratic. */
  growth: number;
}

export interface HostileTextBenchResult {
  smallChars: number;
  largeChars: number;
  repeats: number;
  measurements: HostileMeasurement[];
}

const MIB = 1024 * 1024;

/** A growth above this is measured again, with CONFIRM_RUNS more runs of each size, before it is reported. */
export const CONFIRM_GROWTH = 2;
export const CONFIRM_RUNS = 10;

/**
 * Times every target on every family at `smallChars` and `largeChars` (best of `repeats`).
 * Sizes count UTF-16 code units, which is what every path walks. Noise only ever adds time, and
 * a collection or a busy neighbour during the few large runs reads as growth: a growth above
 * CONFIRM_GROWTH is measured again with more runs, and the best of all runs is kept, so a path
 * reported as growing grew in its quickest runs too.
 */
export function runHostileTextBenchmark(options: {
  smallChars: number;
  largeChars: number;
  repeats: number;
  log: (message: string) => void;
}): HostileTextBenchResult {
  const measurements: HostileMeasurement[] = [];
  for (const target of HOSTILE_TARGETS) {
    for (const family of HOSTILE_FAMILIES) {
      const small = family.make(options.smallChars);
      const large = family.make(options.largeChars);
      let smallMsPerMiB = (bestTimeMs(target, small, options.repeats) * MIB) / options.smallChars;
      let largeMsPerMiB = (bestTimeMs(target, large, options.repeats) * MIB) / options.largeChars;
      if (largeMsPerMiB / Math.max(smallMsPerMiB, 1e-6) > CONFIRM_GROWTH) {
        smallMsPerMiB = Math.min(smallMsPerMiB, (bestTimeMs(target, small, CONFIRM_RUNS) * MIB) / options.smallChars);
        largeMsPerMiB = Math.min(largeMsPerMiB, (bestTimeMs(target, large, CONFIRM_RUNS) * MIB) / options.largeChars);
      }
      measurements.push({ target: target.name, family: family.name, smallMsPerMiB, largeMsPerMiB, growth: largeMsPerMiB / Math.max(smallMsPerMiB, 1e-6) });
    }
    const worst = worstOf(measurements.filter((m) => m.target === target.name));
    options.log(`hostile text: ${target.name}: worst ${worst.family}, ${worst.largeMsPerMiB.toFixed(1)} ms per MiB`);
  }
  return { smallChars: options.smallChars, largeChars: options.largeChars, repeats: options.repeats, measurements };
}

/** The measurement with the highest cost per MiB at the large size. */
export function worstOf(measurements: readonly HostileMeasurement[]): HostileMeasurement {
  return measurements.reduce((worst, m) => (m.largeMsPerMiB > worst.largeMsPerMiB ? m : worst));
}
