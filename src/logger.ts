/**
 * Structured logging on pino: one JSON object per line on stderr, so log shippers can read it as
 * is. Each line has `time` (ISO 8601), `level` (debug|info|warn|error), `message` and the fields.
 * Callers see only the small Logger port below; pino stays behind it.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { visibleText } from './terminal-text.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** Lowest level written; default VOUCH_LOG_LEVEL, else info. */
  level?: LogLevel;
  /** Receives each line without its newline; default a synchronous write to stderr. */
  write?: (line: string) => void;
  /** Fields on every line. */
  fields?: Record<string, unknown>;
}

/**
 * Field names whose values never reach a log, at any of the first three levels of nesting
 * (`token`, `config.token`, `request.headers.authorization`). Secrets that sit in free text are
 * the redactor's business (src/alerts/redact.ts); these are the ones that travel as fields.
 */
export const REDACTED_FIELDS = [
  'token',
  'bot_token',
  'botToken',
  'secret',
  'signing_secret',
  'signingSecret',
  'secret_key',
  'secretKey',
  'skey',
  'client_secret',
  'clientSecret',
  'password',
  'authorization',
  'cookie',
  'justification',
] as const;

/** The same marker the command redactor leaves, so one search finds both. */
const CENSOR = '[REDACTED]';
const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = pino(
    {
      level: options.level ?? levelFromEnvironment(),
      messageKey: 'message',
      // No pid or hostname: the shipper adds where a line came from.
      base: null,
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactedPaths(), censor: CENSOR },
    },
    destination(options.write),
  );
  return new PinoBackedLogger(options.fields === undefined ? base : base.child(prepare(options.fields) as Record<string, unknown>));
}

class PinoBackedLogger implements Logger {
  constructor(private readonly pino: PinoLogger) {}

  debug(message: string, fields?: Record<string, unknown>): void {
    if (this.pino.isLevelEnabled('debug')) this.pino.debug(prepareFields(fields), sanitised(message));
  }

  info(message: string, fields?: Record<string, unknown>): void {
    if (this.pino.isLevelEnabled('info')) this.pino.info(prepareFields(fields), sanitised(message));
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    if (this.pino.isLevelEnabled('warn')) this.pino.warn(prepareFields(fields), sanitised(message));
  }

  error(message: string, fields?: Record<string, unknown>): void {
    if (this.pino.isLevelEnabled('error')) this.pino.error(prepareFields(fields), sanitised(message));
  }

  child(fields: Record<string, unknown>): Logger {
    return new PinoBackedLogger(this.pino.child(prepareFields(fields)));
  }
}

/** A logger that drops everything; for tests and tools that print their own output. */
export const silentLogger: Logger = new PinoBackedLogger(pino({ level: 'silent' }));

function levelFromEnvironment(): LogLevel {
  const wanted = process.env.VOUCH_LOG_LEVEL?.trim().toLowerCase();
  return (LEVELS as readonly string[]).includes(wanted ?? '') ? (wanted as LogLevel) : 'info';
}

function redactedPaths(): string[] {
  return REDACTED_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);
}

function destination(write: LoggerOptions['write']): DestinationStream {
  // Synchronous on stderr: a line logged just before a crash is not lost in a buffer.
  if (write === undefined) return pino.destination({ dest: 2, sync: true });
  return { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) };
}

// --- Preparing fields ---------------------------------------------------------------------------

/** How deep logged values are walked; deeper ones are summarised, never recursed into. */
const MAX_DEPTH = 8;

function prepareFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  return fields === undefined ? {} : (prepare(fields) as Record<string, unknown>);
}

/**
 * Logged values often carry log-line text (commands, hosts): every string goes through the shared
 * sanitiser, so bidi, zero-width and C1 characters, which JSON leaves raw, cannot disguise an
 * entry in a log viewer. Newlines are kept: JSON already writes them as `\n`. Errors, anywhere in
 * the fields, become `{name, message, stack, code..., cause}` with their causes.
 */
function prepare(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return sanitised(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? '[Array]' : '[Object]';
  seen.add(value);
  try {
    if (value instanceof Error) return serialiseError(value, depth, seen);
    if (Array.isArray(value)) return value.map((item) => prepare(item, depth + 1, seen));
    const withJson = value as { toJSON?: () => unknown };
    if (typeof withJson.toJSON === 'function') return prepare(withJson.toJSON(), depth + 1, seen);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = prepare(item, depth + 1, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

function serialiseError(error: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: sanitised(error.name), message: sanitised(error.message) };
  if (error.stack !== undefined) out.stack = sanitised(error.stack);
  // Own fields such as `code`, `status` or `key` say which failure it was.
  for (const [key, item] of Object.entries(error)) {
    if (key !== 'cause') out[key] = prepare(item, depth + 1, seen);
  }
  if (error instanceof AggregateError) out.errors = prepare(error.errors, depth + 1, seen);
  if (error.cause !== undefined) out.cause = prepare(error.cause, depth + 1, seen);
  return out;
}

function sanitised(text: string): string {
  return visibleText(text, { keepLineBreaks: true });
}
