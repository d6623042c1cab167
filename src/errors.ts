/**
 * One error class per code. Codes are stable strings that logs, tests and the HTTP layer match on;
 * causes are kept with `{ cause }` so nothing is lost when an error crosses a layer.
 */
export type ErrorCode =
  | 'config_invalid'
  | 'database_error'
  | 'database_in_use'
  | 'migration_failed'
  | 'chat_error'
  | 'page_error'
  | 'second_factor_unavailable'
  | 'rule_invalid'
  | 'parse_error'
  | 'request_invalid'
  | 'not_found';

export class VouchError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration value is missing or wrong; the message names the key and the fix. */
export class ConfigError extends VouchError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super('config_invalid', `config ${key}: ${message}`);
  }
}

export class DatabaseError extends VouchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('database_error', message, options);
  }
}

/**
 * The database could not be reached, or kept failing for reasons that are not the data's, for
 * longer than the work's retries. Nothing of that work was committed; it is safe to run it again.
 */
export class DatabaseUnavailableError extends DatabaseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The database is reachable but misses migrations this version needs (or never had any): the
 * message says to run `vouch migrate`. Nothing was read or written.
 */
export class DatabaseNotMigratedError extends DatabaseError {
  constructor(message: string) {
    super(message);
  }
}

/**
 * The embedded database is open in another process (or already in this one): PGlite admits one,
 * and a second opening its files would corrupt them. The message names the directory, the pid
 * holding it, and the ways out. Nothing was opened.
 */
export class DatabaseInUseError extends VouchError {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
    message: string,
  ) {
    super('database_in_use', message);
  }
}

export class MigrationError extends VouchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('migration_failed', message, options);
  }
}

/** The chat service (Slack) refused or could not be reached. */
export class ChatError extends VouchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('chat_error', message, options);
  }
}

/** The pager (PagerDuty) refused an event or could not be reached. */
export class PageError extends VouchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('page_error', message, options);
  }
}

/**
 * The second factor (Duo) could not give an answer: network failure, timeout, bad response,
 * or an error status. Callers must treat this as "not verified" (fail closed).
 */
export class SecondFactorUnavailableError extends VouchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('second_factor_unavailable', message, options);
  }
}

/** A rule file is malformed; the message names the rule and the field. */
export class RuleError extends VouchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('rule_invalid', message, options);
  }
}

/** An HTTP request is malformed or not allowed; `status` is the 4xx to answer with. */
export class RequestError extends VouchError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('request_invalid', message);
  }
}

export class NotFoundError extends VouchError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** Turns anything thrown into an Error, so logging and wrapping never have to guess. */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
