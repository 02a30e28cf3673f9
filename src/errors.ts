/**
 * Every error an operator can meet is one of these classes. Handlers throw them; only the CLI's
 * `main` maps them to an exit code and a one-line message (STYLE: handle errors once, at the top).
 *
 * The table, class by class (each class's `exitCode`):
 *
 * | class                     | exit | when                                                              |
 * |---------------------------|------|-------------------------------------------------------------------|
 * | `InvalidInputError`       | 127  | a bad flag, argument, URL, environment variable or config file    |
 * | `DatabaseConnectionError` | 1    | a database unreachable, authentication refused, connect timed out |
 * | `DatabaseTimeoutError`    | 1    | a statement or a row/table lock wait ran past its limit           |
 * | `LockTimeoutError`        | 1    | another runner kept the migration lock past `--lock-timeout`      |
 * | `LedgerIntegrityError`    | 1    | a migration missing, changed or out of order                      |
 * | `DirtyLedgerError`        | 1    | a migration started and never finished                            |
 * | `MigrationFailedError`    | 1    | a migration failed while running                                  |
 * | `MigrationBlockedError`   | 1    | a blocker migration found rows the movers have not moved yet      |
 * | `ForeignDatabaseError`    | 1    | a database holds tables but no cellsdb ledger: not built by us    |
 * | `ServiceNotFoundError`    | 1    | no such service in the cells searched                             |
 * | `GroupStillInCellError`   | 1    | an instance group created again while still in a cell             |
 * | `ObjectError`             | 1    | a versioned object's field, primitive or version that does not fit |
 * | `InterruptedError`        | 130/143 | SIGINT / SIGTERM stopped `sync` between two migrations         |
 * | `CellsdbError`            | 1    | anything else we name (or the code it is given)                   |
 * | (any other error)         | 255  | unexpected: a bug                                                 |
 *
 * Commands whose 1 and 2 carry findings (`schema check`, `schema lint`, `upgrade check`) exit 255
 * for every error but invalid input instead; their own codes (`CheckExit`, `UpgradeExit`, and
 * `MoverExit` for `online_data_migrations`) live beside the reports that produce them.
 */

/** Exit codes shared by every command (DOMAIN.md §7). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  invalidInput: 127,
  unexpected: 255,
} as const;

/** Base class: a message meant for an operator, an exit code, and the original error as `cause`. */
export class CellsdbError extends Error {
  /** Process exit code the CLI uses for this error. @default ExitCode.failure */
  readonly exitCode: number;
  /**
   * Secret values this error's chain may hold in a driver's words (the password of the URL it was
   * raised on, in each spelling): the CLI removes them by value from what it prints (`--debug`
   * stacks included). Not enumerable: never serialised.
   */
  declare readonly secrets: readonly string[];
  /** A stable snake_case name of the failure, for `--json` error documents (see {@link errorCodeOf}). */
  readonly code: string | undefined;

  constructor(message: string, options: { exitCode?: number; cause?: unknown; code?: string; secrets?: readonly string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.code = options.code;
    Object.defineProperty(this, 'secrets', { value: Object.freeze([...(options.secrets ?? [])]), enumerable: false });
  }
}

/** The secret values carried by an error and every error of its `cause` chain (see `CellsdbError.secrets`). */
export function secretsOfError(error: unknown): string[] {
  const found: string[] = [];
  let e: unknown = error;
  for (let depth = 0; depth < 10 && e instanceof Error; depth++) {
    if (e instanceof CellsdbError) found.push(...e.secrets);
    e = e.cause;
  }
  return found;
}

/**
 * The stable snake_case code of an error, for machine-readable error documents (docs/json.md):
 * the code it was given, else its class's name (`LockTimeoutError` → `lock_timeout`;
 * a connection error adds its reason: `database_unreachable`), `failed` for a plain
 * {@link CellsdbError}, and `unexpected` for any other error (a bug).
 */
export function errorCodeOf(error: unknown): string {
  if (!(error instanceof CellsdbError)) return 'unexpected';
  if (error.code !== undefined) return error.code;
  if (error instanceof DatabaseConnectionError) return CONNECTION_CODES[error.reason];
  if (error.constructor === CellsdbError) return 'failed';
  const name = error.constructor.name.replace(/Error$/, '');
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Bad flags, arguments, URLs or configuration: exit 127, nothing is written. */
export class InvalidInputError extends CellsdbError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, exitCode: ExitCode.invalidInput });
  }
}

/** A database could not be reached, or refused us. `target` is always a masked URL. */
export class DatabaseConnectionError extends CellsdbError {
  readonly target: string;
  readonly reason: 'unreachable' | 'authentication' | 'unknown-database' | 'timeout' | 'other';

  constructor(reason: DatabaseConnectionError['reason'], target: string, detail: string, cause?: unknown, secrets?: readonly string[]) {
    super(`${detail} (${target})`, { cause, ...(secrets ? { secrets } : {}) });
    this.reason = reason;
    this.target = target;
  }
}

/** The codes of {@link DatabaseConnectionError}s, by reason (see {@link errorCodeOf}). */
const CONNECTION_CODES: Readonly<Record<DatabaseConnectionError['reason'], string>> = {
  unreachable: 'database_unreachable',
  authentication: 'database_authentication_failed',
  'unknown-database': 'database_not_found',
  timeout: 'database_connect_timeout',
  other: 'database_connection_failed',
};

/** A statement timed out or waited too long for a lock on the server. */
export class DatabaseTimeoutError extends CellsdbError {}

/** Another runner holds the migration lock and did not let go within `--lock-timeout`. */
export class LockTimeoutError extends CellsdbError {}

/** The ledger disagrees with the migration files: missing, changed or out-of-order migrations. */
export class LedgerIntegrityError extends CellsdbError {}

/** A migration started and never finished (MariaDB DDL is not transactional): an operator must look. */
export class DirtyLedgerError extends CellsdbError {}

/** A migration failed while running; names the line, database and migration, keeps the cause. */
export class MigrationFailedError extends CellsdbError {
  readonly migration: string;

  constructor(message: string, migration: string, cause?: unknown) {
    super(message, { cause });
    this.migration = migration;
  }
}

/**
 * Thrown by a blocker migration when movers still have work: the line must not go past it yet.
 * A blocker checks before it changes anything, so the migrator clears its started-marker.
 */
export class MigrationBlockedError extends CellsdbError {}

/**
 * A database that holds tables but not the line's ledger: cellsdb did not build it, so nothing is
 * written to it (not even the ledger) until `baseline` adopts it.
 */
export class ForeignDatabaseError extends CellsdbError {}

/** No live service with that host and binary in the cells searched. */
export class ServiceNotFoundError extends CellsdbError {
  constructor(host: string, binary: string) {
    super(`no service '${binary}' on host '${host}' in any cell`);
  }
}

/** The uuid is still live in a cell: create it only once the mover has moved it. */
export class GroupStillInCellError extends CellsdbError {}

/** A field value or a primitive that does not fit, or a version that cannot be loaded. */
export class ObjectError extends CellsdbError {}

/**
 * SIGINT or SIGTERM stopped the work between two units (migrations): nothing was left half done.
 * Exit 130 (SIGINT) or 143 (SIGTERM), as a shell reports a process the signal ended.
 */
export class InterruptedError extends CellsdbError {
  constructor(message: string, signal: unknown) {
    super(message, { exitCode: signal === 'SIGTERM' ? 143 : 130 });
  }
}
