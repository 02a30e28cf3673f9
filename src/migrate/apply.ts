// How one migration of the plan runs when Umzug calls its `up`: the lock is checked first (a
// dropped lock session stops the sync before anything more runs), then
// * on PostgreSQL the migration runs in a transaction with lock_timeout and statement_timeout set,
//   left open for `LedgerStorage.logMigration` to write the ledger row in and commit: a crash
//   leaves neither the migration nor its row;
// * on MariaDB, where DDL commits at once (or for a migration exporting `transactional = false`),
//   a started-marker is written first, so that a crash leaves it for the next run to refuse.
// A failure becomes our error here, naming the line, the database and the migration, with the cause.
import { pathToFileURL } from 'node:url';
import type { Transaction } from 'sequelize';
import type { RunnableMigration } from 'umzug';
import { NO_FAILPOINTS } from '../movers/failpoints.js';
import type { DatabaseHandle } from '../db/registry.js';
import { translateDriverError } from '../db/translate-error.js';
import { CellsdbError, InterruptedError, LockTimeoutError, MigrationBlockedError, MigrationFailedError } from '../errors.js';
import type { Ledger } from './ledger.js';
import type { SyncRunContext } from './ledger-storage.js';
import type { MigrationFile } from './lines.js';
import type { HeldLock } from './lock.js';
import type { LineTarget } from './target.js';
import { SchemaSteps } from './schema-steps.js';
import type { MigrationContext, MigrationModule } from './types.js';

/** What every migration of one sync runs with. */
export interface StepDeps {
  readonly target: LineTarget;
  readonly handle: DatabaseHandle;
  readonly ledger: Ledger;
  readonly lock: HeldLock;
  /** Runs a migration's `up` (capturing its statements, when asked). */
  readonly around: (migration: string, up: () => Promise<void>) => Promise<void>;
}

/** Imports a migration file (refusing one without an `up`). */
export async function loadMigration(file: MigrationFile): Promise<MigrationModule> {
  const mod = (await import(pathToFileURL(file.path).href)) as Partial<MigrationModule>;
  if (typeof mod.up !== 'function') throw new CellsdbError(`migration ${file.name} (${file.path}) exports no 'up' function`);
  return mod as MigrationModule;
}

/** Whether a migration runs in one transaction with its ledger row: where DDL is transactional, unless it opts out. */
export const runsInTransaction = (mod: Pick<MigrationModule, 'transactional'>, transactionalDdl: boolean): boolean => transactionalDdl && mod.transactional !== false;

/** The error of a migration that failed (or whose ledger row could not be written): named, cause kept. */
export function migrationFailure(deps: Pick<StepDeps, 'target' | 'handle'>, migration: string, error: unknown): CellsdbError {
  const { line, label, url } = deps.target;
  if (error instanceof MigrationBlockedError) return new MigrationBlockedError(`${error.message} (blocker ${migration})`, { cause: error });
  const translated = translateDriverError(error, url);
  return new MigrationFailedError(
    `${line.title} migration ${migration} failed on ${label}: ${translated.message}` +
      (deps.handle.dialect.transactionalDdl ? '; it was rolled back' : `; run '${line.command}' again after checking the schema`),
    migration,
    translated,
  );
}

type BaseContext = Omit<MigrationContext, 'transaction' | 'steps'>;

/** The context a migration's `up` gets, in `transaction` (if any). */
function contextFor(deps: StepDeps, base: BaseContext, transaction: Transaction | undefined): MigrationContext {
  const steps = new SchemaSteps({ ...base, dialect: deps.handle.dialect, transaction, failpoint: deps.target.failpoint ?? NO_FAILPOINTS });
  return { ...base, transaction, steps };
}

async function runInTransaction(deps: StepDeps, file: MigrationFile, mod: MigrationModule, base: BaseContext, run: SyncRunContext): Promise<void> {
  const { handle, target } = deps;
  const transaction = await handle.sequelize.transaction();
  try {
    await handle.dialect.applyTransactionTimeouts(handle.sequelize, transaction, {
      lockWaitMs: target.config.ddlLockTimeoutMs,
      statementTimeoutMs: target.config.statementTimeoutMs,
    });
    await deps.around(file.name, () => mod.up(contextFor(deps, base, transaction)));
  } catch (error) {
    await transaction.rollback().catch(() => undefined);
    throw error;
  }
  run.openTransactions.set(file.name, transaction);
}

async function runBehindMarker(deps: StepDeps, file: MigrationFile, mod: MigrationModule, base: BaseContext): Promise<void> {
  // A resumable migration's marker says so: a crash leaves it for the next sync to complete rather
  // than a dirty migration for an operator (issue 15).
  await deps.ledger.recordStarted(file.name, file.checksum, mod.resumable === true);
  (deps.target.failpoint ?? NO_FAILPOINTS)('migrate:started');
  try {
    await deps.around(file.name, () => mod.up(contextFor(deps, base, undefined)));
  } catch (error) {
    // A blocker refuses before it changes anything: nothing is half done, so no dirty marker.
    if (error instanceof MigrationBlockedError) await deps.ledger.remove(file.name);
    throw error;
  }
}

/** The Umzug migration that runs `file` as above; its ledger row is `LedgerStorage`'s. */
export function migrationStep(file: MigrationFile, deps: StepDeps): RunnableMigration<SyncRunContext> {
  const { target, handle } = deps;
  const base: BaseContext = {
    sequelize: handle.sequelize,
    queryInterface: handle.sequelize.getQueryInterface(),
    dialect: handle.dialect,
    databaseLabel: target.label,
  };
  return {
    name: file.name,
    path: file.path,
    up: async ({ context }) => {
      if (target.signal?.aborted) {
        throw new InterruptedError(`${target.label}: stopped by ${String(target.signal.reason)} before ${file.name}: the migrations before it are applied, nothing of it ran; it is safe to run sync again`, target.signal.reason);
      }
      if (!(await deps.lock.stillHeld())) {
        throw new LockTimeoutError(
          `lost the ${target.line.title} migration lock on ${target.label} (${target.url.masked}) before ${file.name}: the lock connection dropped; nothing more was run`,
        );
      }
      target.onEvent?.({ type: 'migrating', name: file.name });
      try {
        const mod = await loadMigration(file);
        if (runsInTransaction(mod, handle.dialect.transactionalDdl)) await runInTransaction(deps, file, mod, base, context);
        else await runBehindMarker(deps, file, mod, base);
      } catch (error) {
        throw migrationFailure(deps, file.name, error);
      }
    },
  };
}
