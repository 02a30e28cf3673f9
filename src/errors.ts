/**
 * Every error an operator can meet is one of these classes. Handlers throw them; only the CLI's
 * `main` maps them to an exit code and a one-line message (STYLE: handle errors once, at the top).
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
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.failure;
  }
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

  constructor(reason: DatabaseConnectionError['reason'], target: string, detail: string, cause?: unknown) {
    super(`${detail} (${target})`, { cause });
    this.reason = reason;
    this.target = target;
  }
}

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
