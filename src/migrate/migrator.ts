// `sync`, `status` and the hand-made marks of one line in one database.
//
// Umzug's role is the one its design gives it: it runs a list of migrations in order against a
// storage. It is given the plan's pending migrations (plan.ts decides them, with integrity rules
// Umzug does not have) and the ledger as a real storage (ledger-storage.ts): it calls each
// migration's `up` (apply.ts), then `logMigration`, which writes the ledger row, and stops at the
// first failure. On PostgreSQL the transaction opened before `up` is committed by `logMigration`
// after the row is written, so a migration and its row still commit together; on MariaDB the
// started-marker is written before `up` as always. What Umzug does not do, cellsdb does around it:
// the lock (Umzug's FileLocker is per host; ours is the database's, held on a dedicated session and
// re-checked before each migration) and no down migrations (`unlogMigration` refuses).
//
// Why Umzug through its storage contract rather than lock, transaction and migration composed by
// hand on one pinned connection (kysely's way): the stack includes Umzug, and this way keeps every
// guarantee of the README's "Safety" section with Umzug doing what it is built for (running the
// list in order, recording each step through its storage, reporting progress) instead of a loop
// around our own code. The lock stays on its own session: a PostgreSQL advisory lock belongs to the
// session, and a migration's rollback must not touch it.
import type { DatabaseHandle } from '../db/registry.js';
import { translateDriverError } from '../db/translate-error.js';
import { InvalidInputError } from '../errors.js';
import { migrationFailure, migrationStep } from './apply.js';
import { captureStatements, type StatementListener } from './capture.js';
import { foreignDatabaseError, foreignTablesWithoutLedger } from './foreign.js';
import { Ledger } from './ledger.js';
import { LedgerStorage, type SyncRunContext } from './ledger-storage.js';
import { listMigrationFiles, resolveVersion } from './lines.js';
import { withLineLock } from './lock.js';
import { decidePlan, type LineStatus, planAim, planRefusal, readPlan, statusOf } from './plan.js';
import type { LineTarget } from './target.js';

/** Optional behaviour of {@link syncLine}; without it, a sync behaves as it always did. */
export interface SyncOptions {
  /**
   * Called with every statement a migration's `up` sends, in order, while it runs: neither the
   * ledger's nor the lock's statements, nor the transaction's own. Used by the SQL preview
   * (`sync --dry-run`, on a scratch database) and by `schema lint`.
   */
  readonly onStatement?: StatementListener;
}

/** What a sync did. Versions are migration names; `null` is an empty database. */
export interface SyncResult {
  readonly from: string | null;
  readonly to: string | null;
  readonly applied: readonly string[];
}

function connectForMigrations(target: LineTarget): Promise<DatabaseHandle> {
  return target.registry.connect(target.url, {
    purpose: 'migrate',
    max: 2,
    timeouts: { lockWaitMs: target.config.ddlLockTimeoutMs, statementTimeoutMs: target.config.statementTimeoutMs },
  });
}

/**
 * Brings one line of one database up to `version` (default: the newest), under the line's lock.
 * Refuses, before running anything, what its plan refuses: a dirty ledger, a missing, changed or
 * out-of-order migration, an unknown version, and a version behind the current one (no
 * downgrades, as Nova).
 */
export async function syncLine(target: LineTarget, version?: string, options: SyncOptions = {}): Promise<SyncResult> {
  const aim = planAim(target.line, version);
  const handle = await connectForMigrations(target);
  const capture = captureStatements(handle, options.onStatement);
  try {
    return await withLineLock(target, handle, async (lock) => {
      const ledger = new Ledger(handle.sequelize, target.line.ledgerTable);
      const plan = decidePlan(aim, await handle.run(() => ledger.rows()), target.label);
      const refused = planRefusal(plan, 'nothing was run');
      if (refused) throw refused;
      if (plan.pending.length === 0) return { from: plan.current, to: plan.current, applied: [] };
      const foreign = await handle.run((s) => foreignTablesWithoutLedger(s, target.line));
      if (foreign.length > 0) throw foreignDatabaseError(target, foreign, 'Nothing was written');
      await handle.run(() => ledger.ensure());

      // Loaded only when there is something to apply (status and version never need it).
      const { MigrationError, Umzug } = await import('umzug');
      const deps = { target, handle, ledger, lock, around: capture.around };
      const run: SyncRunContext = { openTransactions: new Map() };
      const umzug = new Umzug<SyncRunContext>({
        migrations: plan.pending.map((file) => migrationStep(file, deps)),
        storage: new LedgerStorage(ledger, new Map(plan.pending.map((f) => [f.name, f.checksum])), (name, error) => migrationFailure(deps, name, error)),
        context: run,
        logger: undefined,
      });
      const started = new Map<string, number>();
      umzug.on('migrating', ({ name }) => void started.set(name, Date.now()));
      umzug.on('migrated', ({ name }) => target.onEvent?.({ type: 'migrated', name, ms: Date.now() - (started.get(name) ?? Date.now()) }));
      try {
        const applied = (await umzug.up()).map((m) => m.name);
        return { from: plan.current, to: applied.at(-1) ?? plan.current, applied };
      } catch (error) {
        // Umzug wraps what a migration's `up` throws, and ours is already complete (apply.ts); the
        // rest (the storage reading the ledger) is a driver error, translated here once.
        throw error instanceof MigrationError ? error.cause : translateDriverError(error, target.url);
      } finally {
        // Only a failure between `up` and `logMigration` could leave one: never commit it.
        for (const transaction of run.openTransactions.values()) await transaction.rollback().catch(() => undefined);
      }
    });
  } finally {
    capture.stop();
  }
}

/** Applied, pending and dirty migrations of one line in one database, with any ledger problems. No lock is taken. */
export async function lineStatus(target: LineTarget): Promise<LineStatus> {
  return statusOf(await readPlan(target), target.url.masked);
}

/**
 * Resolves a dirty or doubtful ledger entry by hand: `applied` records the migration as done (with
 * the checksum of the file now on disk), `pending` removes its row so that the next sync runs it.
 */
export async function markMigration(target: LineTarget, migration: string, state: 'applied' | 'pending'): Promise<void> {
  const files = listMigrationFiles(target.line);
  const handle = await connectForMigrations(target);
  await withLineLock(target, handle, async () => {
    const ledger = new Ledger(handle.sequelize, target.line.ledgerTable);
    if (state === 'applied') {
      const file = resolveVersion(target.line, files, migration);
      const foreign = await handle.run((s) => foreignTablesWithoutLedger(s, target.line));
      if (foreign.length > 0) throw foreignDatabaseError(target, foreign, `Nothing was written: marking one migration applied does not adopt a database`);
      await handle.run(async () => {
        await ledger.ensure();
        await ledger.recordApplied(file.name, file.checksum);
      });
      return;
    }
    const rows = await handle.run(() => ledger.rows());
    const name = rows.find((r) => r.name === migration)?.name ?? resolveVersion(target.line, files, migration).name;
    const removed = await handle.run(() => ledger.remove(name));
    if (!removed) throw new InvalidInputError(`${target.line.title} migration ${name} has no ledger entry on ${target.label}: nothing to mark pending`);
  });
}
