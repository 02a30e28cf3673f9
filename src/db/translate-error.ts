import { CellsdbError, DatabaseConnectionError, DatabaseTimeoutError } from '../errors.js';
import { type DatabaseUrl, displayUrl, redactSecrets, urlSecrets } from '../url/index.js';

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
  return text;
}

/** A database a driver error was raised on: its URL as given (secrets included), or parsed. */
export type ErrorTarget = string | Pick<DatabaseUrl, 'raw'>;

/** The target's printable form and its secrets by value. */
function targetOf(url: ErrorTarget): { display: string; secrets: string[] } {
  const raw = typeof url === 'string' ? url : url.raw;
  return { display: displayUrl(raw), secrets: urlSecrets(raw) };
}

/**
 * The one place where driver errors become ours (PostgreSQL SQLSTATE, MariaDB errno, Node's socket
 * codes), as slonik does. `url` is the database the error was raised on, as data: the message names
 * it through `displayUrl`, and its password (raw, decoded and encoded) is removed from the driver's
 * words by value; the error carries those secrets for the top-level printer (`--debug` stacks).
 * Our own errors pass through unchanged; anything unrecognised becomes a {@link CellsdbError} with
 * the cause kept.
 */
export function translateDriverError(error: unknown, url: ErrorTarget): CellsdbError {
  if (error instanceof CellsdbError) return error;
  const { display: target, secrets } = targetOf(url);
  const e = driverError(error);
  const code = typeof e.code === 'string' ? e.code : undefined;
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  const message = redactSecrets(messageOf(e, error), secrets);
  const name = (error as { name?: string } | null)?.name ?? '';

  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || errno === 2003 || errno === 2005) {
    return new DatabaseConnectionError('unreachable', target, `cannot reach the database server: ${code ?? message}`, error, secrets);
  }
  if (code === '28P01' || code === '28000' || errno === 1045 || errno === 1698) {
    return new DatabaseConnectionError('authentication', target, 'authentication failed: check the user name and password', error, secrets);
  }
  if (code === '3D000' || errno === 1049) {
    return new DatabaseConnectionError('unknown-database', target, 'the database does not exist', error, secrets);
  }
  if (
    code === 'ETIMEDOUT' ||
    name === 'SequelizeConnectionTimedOutError' ||
    /timeout expired|connection timeout|connect ETIMEDOUT/i.test(message)
  ) {
    return new DatabaseConnectionError('timeout', target, 'timed out connecting to the database server', error, secrets);
  }
  if (code === '55P03' || errno === 1205) {
    return new DatabaseTimeoutError(`gave up waiting for a lock held by another transaction (${target}): ${message}`, { cause: error, secrets });
  }
  if (code === '57014' || errno === 1969 || errno === 3024) {
    return new DatabaseTimeoutError(`a statement ran past its time limit (${target}): ${message}`, { cause: error, secrets });
  }
  if (name.startsWith('SequelizeConnection') || code === 'ECONNRESET' || code === '57P01') {
    return new DatabaseConnectionError('other', target, `database connection failed: ${message}`, error, secrets);
  }
  return new CellsdbError(`${message} (${target})`, { cause: error, secrets });
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
export function translateOnDatabase(error: unknown, what: string, url: ErrorTarget): CellsdbError {
  const translated = translateDriverError(error, url);
  const { display, secrets } = targetOf(url);
  const message = `on ${what}: ${translated.message}${translated.message.includes(display) ? '' : ` (${display})`}`;
  const options = { cause: translated, secrets };
  return translated instanceof DatabaseTimeoutError ? new DatabaseTimeoutError(message, options) : new CellsdbError(message, options);
}

/** Whether an error says a table does not exist (PostgreSQL 42P01, MariaDB 1146): e.g. a cell past a contract step. */
export function isMissingTable(error: unknown): boolean {
  const e = driverError(error);
  if (e.code === '42P01' || e.errno === 1146) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== error ? isMissingTable(cause) : false;
}

/** The driver's own message, without our wrappers' additions; the password of `url` (when given) removed by value. */
export function driverMessage(error: unknown, url?: ErrorTarget): string {
  let innermost: unknown = error;
  for (const e of errorChain(error)) innermost = e;
  const text = messageOf(innermost as DriverErrorish, error);
  return url === undefined ? text : redactSecrets(text, targetOf(url).secrets);
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
