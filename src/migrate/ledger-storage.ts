// The ledger as Umzug's storage, a real implementation of its contract (umzug
// `src/storage/contract.ts`): Umzug runs the plan's migrations in order and, after each `up`, calls
// `logMigration`, which writes the ledger row. On PostgreSQL the migration's `up` ran inside a
// transaction left open for this moment (apply.ts): the row is written in it and the transaction
// committed here, so that a migration and its ledger row commit together or not at all. On MariaDB
// (and for a migration that opts out of a transaction) the row is the started-marker the migration
// wrote before it ran, now marked applied.
import type { Transaction } from 'sequelize';
import type { MigrationParams, UmzugStorage } from 'umzug';
import { type CellsdbError, InvalidInputError } from '../errors.js';
import type { Ledger } from './ledger.js';

/** What Umzug carries, in its context, from a migration's `up` to `logMigration` during one sync. */
export interface SyncRunContext {
  /** The transaction each migration ran in, by name, open until its ledger row is written in it. */
  readonly openTransactions: Map<string, Transaction>;
}

export class LedgerStorage implements UmzugStorage<SyncRunContext> {
  /**
   * @param checksums the checksum of every migration the plan runs, recorded with its row.
   * @param failure turns an error writing a row (or committing) into the migration's own error.
   */
  constructor(
    private readonly ledger: Ledger,
    private readonly checksums: ReadonlyMap<string, string>,
    private readonly failure: (migration: string, error: unknown) => CellsdbError,
  ) {}

  async executed(): Promise<string[]> {
    // A resumable migration's started-marker is not executed: the plan runs it again (issue 15).
    return (await this.ledger.rows()).filter((r) => !(r.state === 'started' && r.resumable)).map((r) => r.name);
  }

  async logMigration({ name, context }: MigrationParams<SyncRunContext>): Promise<void> {
    const checksum = this.checksums.get(name);
    if (checksum === undefined) throw this.failure(name, new Error(`${name} is not in the sync plan`));
    const transaction = context.openTransactions.get(name);
    context.openTransactions.delete(name);
    try {
      await this.ledger.recordApplied(name, checksum, transaction);
      await transaction?.commit();
    } catch (error) {
      await transaction?.rollback().catch(() => undefined);
      throw this.failure(name, error);
    }
  }

  async unlogMigration({ name }: MigrationParams<SyncRunContext>): Promise<void> {
    throw new InvalidInputError(`cellsdb does not run migrations down (as Nova): ${name} stays applied; restore a backup to go back`);
  }
}
