/** Structured logging: one JSON object per line on stderr, so log shippers can read it as is. */
import { visibleText } from './terminal-text.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void; fields?: Record<string, unknown> } = {}): Logger {
  const minimum = ORDER[options.level ?? (process.env.VOUCH_LOG_LEVEL as LogLevel | undefined) ?? 'info'] ?? ORDER.info;
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const base = options.fields ?? {};
  const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < minimum) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...serialise(fields) }, sanitisedString));
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything; for tests and tools that print their own output. */
export const silentLogger: Logger = createLogger({ write: () => undefined });

/**
 * Logged values often carry log-line text (commands, hosts): string values go through the shared
 * sanitiser, so bidi, zero-width and C1 characters, which JSON leaves raw, cannot disguise an
 * entry in a log viewer. Newlines are kept: JSON already writes them as `\\n`.
 */
function sanitisedString(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? visibleText(value, { keepLineBreaks: true }) : value;
}

function serialise(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!fields) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? { name: value.name, message: value.message } : value;
  }
  return out;
}
