/**
 * What a database error means for the work that hit it. Postgres says so in the SQLSTATE; the
 * driver's own errors (a dropped socket, a refused connection) carry a Node error code or only a
 * message.
 *
 * - `transient`: the database or the connection failed, not the data (it is down, restarting, out
 *   of connections or disk, or refusing sessions for maintenance). Running the same transaction
 *   again later can succeed; an HTTP client is answered 503 with Retry-After.
 * - `poison`: the data was refused (a value out of range, a constraint other than a unique key).
 *   Running it again fails again; the offending record must be set aside so the rest can be stored.
 * - `fatal`: anything else (a missing table, a programming error). Neither retrying nor setting
 *   records aside helps; it is reported.
 */
export type DatabaseFailure = 'transient' | 'poison' | 'fatal';

/** SQLSTATE codes and classes named where they are used (Postgres manual, appendix A). */
export const SQLSTATE = {
  /** Class 08: connection exception. */
  connectionExceptionClass: '08',
  /**
   * In class 08 but raised for malformed protocol messages, such as a bind with more parameters
   * than the protocol can count: the client's bug, which no retry mends.
   */
  protocolViolation: '08P01',
  adminShutdown: '57P01',
  crashShutdown: '57P02',
  /** The server is starting, shutting down, in recovery, or a standby not yet accepting sessions. */
  cannotConnectNow: '57P03',
  /** PG 14+: the server closed a session idle longer than idle_session_timeout. */
  idleSessionTimeout: '57P05',
  /**
   * Raised (as FATAL) when the database has ALLOW_CONNECTIONS false, e.g. during maintenance; as an
   * ordinary ERROR it is a statement used out of order (currval before nextval), a bug.
   */
  objectNotInPrerequisiteState: '55000',
  /** Also what statement_timeout raises. */
  queryCanceled: '57014',
  /** What lock_timeout raises. */
  lockNotAvailable: '55P03',
  deadlockDetected: '40P01',
  serializationFailure: '40001',
  /** Class 40: transaction rollback. */
  transactionRollbackClass: '40',
  idleInTransactionTimeout: '25P03',
  /** Class 53: insufficient resources (disk full, out of memory, too many connections). */
  insufficientResourcesClass: '53',
  /** In class 53, but a limit of the configuration the same statement meets every time. */
  configurationLimitExceeded: '53400',
  /** Class 22: data exception (bad value, NUL, out of range, bad encoding). */
  dataExceptionClass: '22',
  /** Class 23: integrity constraint violation. */
  integrityViolationClass: '23',
  /** Class 54: program limit exceeded (e.g. an index row too large). */
  programLimitClass: '54',
  uniqueViolation: '23505',
} as const;

const TRANSIENT_CODES = new Set<string>([
  SQLSTATE.adminShutdown,
  SQLSTATE.crashShutdown,
  SQLSTATE.cannotConnectNow,
  SQLSTATE.queryCanceled,
  SQLSTATE.lockNotAvailable,
  SQLSTATE.deadlockDetected,
  SQLSTATE.serializationFailure,
  SQLSTATE.idleInTransactionTimeout,
  SQLSTATE.idleSessionTimeout,
  // Writes that expect duplicates say ON CONFLICT; one that still collides raced a concurrent
  // writer (another replica), and running the transaction again sees that writer's row.
  SQLSTATE.uniqueViolation,
]);

const TRANSIENT_CLASSES = new Set<string>([SQLSTATE.connectionExceptionClass, SQLSTATE.transactionRollbackClass, SQLSTATE.insufficientResourcesClass]);
/** Codes of a transient class that are the client's or the configuration's fault: fatal. */
const FATAL_IN_TRANSIENT_CLASS = new Set<string>([SQLSTATE.protocolViolation, SQLSTATE.configurationLimitExceeded]);
const POISON_CLASSES = new Set<string>([SQLSTATE.dataExceptionClass, SQLSTATE.integrityViolationClass, SQLSTATE.programLimitClass]);

/** Socket-level failures Node reports while connecting or talking to the server. */
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * pg's messages for a connection that broke or could not be made, and Kysely's for a connection it
 * set aside after such a break (a rollback on it then fails); they carry no code.
 */
const TRANSIENT_MESSAGE =
  /connection terminated|not queryable|timeout exceeded when trying to connect|connection ended|server closed the connection|terminating connection|cannot use a pool after calling end|connection has been discarded/i;

/** Classifies an error thrown by a query or transaction; see DatabaseFailure. */
export function classifyDatabaseError(error: unknown): DatabaseFailure {
  const code = sqlState(error);
  if (code !== null) {
    if (TRANSIENT_CODES.has(code) || refusedSession(error, code)) return 'transient';
    if (TRANSIENT_CLASSES.has(code.slice(0, 2)) && !FATAL_IN_TRANSIENT_CLASS.has(code)) return 'transient';
    if (POISON_CLASSES.has(code.slice(0, 2))) return 'poison';
    return 'fatal';
  }
  const nodeCode = (error as { code?: unknown } | null)?.code;
  if (typeof nodeCode === 'string' && TRANSIENT_NODE_CODES.has(nodeCode)) return 'transient';
  if (error instanceof AggregateError && error.errors.some((inner) => classifyDatabaseError(inner) === 'transient')) return 'transient';
  if (error instanceof Error && TRANSIENT_MESSAGE.test(error.message)) return 'transient';
  return 'fatal';
}

/**
 * True for the server refusing a session because the database does not accept connections now
 * (ALLOW_CONNECTIONS false). Only that refusal ends the session, so it alone is FATAL; the routine
 * name is there for servers whose messages, severity included, are translated.
 */
function refusedSession(error: unknown, code: string): boolean {
  if (code !== SQLSTATE.objectNotInPrerequisiteState) return false;
  const { severity, routine } = error as { severity?: unknown; routine?: unknown };
  return severity === 'FATAL' || routine === 'CheckMyDatabase';
}

/** The SQLSTATE of a Postgres error (pg and PGlite both put it in `code`), or null. */
export function sqlState(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}
