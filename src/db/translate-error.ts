import { CellsdbError, DatabaseConnectionError, DatabaseTimeoutError } from '../errors.js';
import { maskUrlsInText } from '../url/index.js';

interface DriverErrorish {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  original?: unknown;
  parent?: unknown;
  cause?: unknown;
}

/** Follows Sequelize's `original`/`parent` and `cause` chains down to the driver's own error. */
function driverError(error: unknown): DriverErrorish {
  let current = error as DriverErrorish;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const next = (current.original ?? current.parent) as DriverErrorish | undefined;
    if (!next || next === current) break;
    current = next;
  }
  return current ?? {};
}

/** Each error of the chain, outermost first: Sequelize's `original`/`parent`, then our wrappers' `cause`. */
function* errorChain(error: unknown): Generator<unknown> {
  let e: unknown = error;
  for (let depth = 0; depth < 6; depth++) {
    yield e;
    if (!e || typeof e !== 'object') return;
    const next = (e as DriverErrorish).original ?? (e as DriverErrorish).parent ?? (e as DriverErrorish).cause;
    if (!next || next === e) return;
    e = next;
  }
}

/**
 * The message of the driver's error, else the nearest non-empty one up the chain (Sequelize's
 * UnknownConstraintError on MariaDB carries an `original` with an empty message), else the error's
 * name and code: never an empty reason (issue 15).
 */
function messageOf(error: DriverErrorish, outer?: unknown): string {
  const own = (e: unknown): string => {
    if (!e || typeof e !== 'object') return typeof e === 'string' ? e : '';
    const x = e as DriverErrorish & { sqlMessage?: unknown };
    if (typeof x.message === 'string' && x.message.trim() !== '') return x.message;
    return typeof x.sqlMessage === 'string' ? x.sqlMessage : '';
  };
  let text = own(error);
  if (text === '' && outer !== undefined) for (const e of errorChain(outer)) if ((text = own(e)) !== '') break;
  if (text === '') {
    const named = (outer ?? error) as { name?: unknown };
    const code = error.code ?? error.errno;
    text = `${typeof named.name === 'string' ? named.name : 'error'}${code !== undefined ? ` (code ${String(code)})` : ''} without a message`;
  }
  return maskUrlsInText(text);
}

/**
 * The one place where driver errors become ours (PostgreSQL SQLSTATE, MariaDB errno, Node's socket
 * codes), as slonik does. `target` must already be masked. Our own errors pass through unchanged;
 * anything unrecognised becomes a {@link CellsdbError} with its message masked and the cause kept.
 */
export function translateDriverError(error: unknown, target: string): CellsdbError {
  if (error instanceof CellsdbError) return error;
  const e = driverError(error);
  const code = typeof e.code === 'string' ? e.code : undefined;
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  const message = messageOf(e, error);
  const name = (error as { name?: string } | null)?.name ?? '';

  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || errno === 2003 || errno === 2005) {
    return new DatabaseConnectionError('unreachable', target, `cannot reach the database server: ${code ?? message}`, error);
  }
  if (code === '28P01' || code === '28000' || errno === 1045 || errno === 1698) {
    return new DatabaseConnectionError('authentication', target, 'authentication failed: check the user name and password', error);
  }
  if (code === '3D000' || errno === 1049) {
    return new DatabaseConnectionError('unknown-database', target, 'the database does not exist', error);
  }
  if (
    code === 'ETIMEDOUT' ||
    name === 'SequelizeConnectionTimedOutError' ||
    /timeout expired|connection timeout|connect ETIMEDOUT/i.test(message)
  ) {
    return new DatabaseConnectionError('timeout', target, 'timed out connecting to the database server', error);
  }
  if (code === '55P03' || errno === 1205) {
    return new DatabaseTimeoutError(`gave up waiting for a lock held by another transaction (${target}): ${message}`, { cause: error });
  }
  if (code === '57014' || errno === 1969 || errno === 3024) {
    return new DatabaseTimeoutError(`a statement ran past its time limit (${target}): ${message}`, { cause: error });
  }
  if (name.startsWith('SequelizeConnection') || code === 'ECONNRESET' || code === '57P01') {
    return new DatabaseConnectionError('other', target, `database connection failed: ${message}`, error);
  }
  return new CellsdbError(`${message} (${target})`, { cause: error });
}

/**
 * Whether a smaller, later retry may get past an error: a lock wait timeout, a deadlock or a
 * serialisation failure (PostgreSQL 55P03, 40P01, 40001; MariaDB 1205, 1213).
 */
export function isRetryableConflict(error: unknown): boolean {
  // The whole chain: an error translated where it happened (on the API database, say) keeps the
  // driver's error as its cause.
  for (const x of errorChain(error)) {
    const e = driverError(x);
    if (e.code === '55P03' || e.code === '40P01' || e.code === '40001' || e.errno === 1205 || e.errno === 1213 || x instanceof DatabaseTimeoutError) return true;
  }
  return false;
}

/**
 * An error of a statement sent to another database than the one a caller reports on (the API
 * database during a cell's mover batch): translated here with that database's masked URL and named,
 * so that the message does not blame the caller's database (issue 15). The class is kept.
 */
export function translateOnDatabase(error: unknown, what: string, maskedUrl: string): CellsdbError {
  const translated = translateDriverError(error, maskedUrl);
  const message = `on ${what}: ${translated.message}${translated.message.includes(maskedUrl) ? '' : ` (${maskedUrl})`}`;
  return translated instanceof DatabaseTimeoutError ? new DatabaseTimeoutError(message, { cause: translated }) : new CellsdbError(message, { cause: translated });
}

/** Whether an error says a table does not exist (PostgreSQL 42P01, MariaDB 1146): e.g. a cell past a contract step. */
export function isMissingTable(error: unknown): boolean {
  const e = driverError(error);
  if (e.code === '42P01' || e.errno === 1146) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== error ? isMissingTable(cause) : false;
}

/** The driver's own message, without our wrappers' additions (URLs masked). */
export function driverMessage(error: unknown): string {
  let innermost: unknown = error;
  for (const e of errorChain(error)) innermost = e;
  return messageOf(innermost as DriverErrorish, error);
}

/**
 * Whether MariaDB refused an ALTER's ALGORITHM or LOCK clause, applying nothing
 * (ER_ALTER_OPERATION_NOT_SUPPORTED 1845, ER_ALTER_OPERATION_NOT_SUPPORTED_REASON 1846).
 */
export function isOnlineAlterRefused(error: unknown): boolean {
  for (const e of errorChain(error)) {
    const errno = (e as DriverErrorish | null)?.errno;
    if (typeof errno === 'number') return errno === 1845 || errno === 1846;
  }
  return false;
}
