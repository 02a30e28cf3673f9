import { hostname } from 'node:os';
import { DataTypes, QueryTypes, type Sequelize, type Transaction } from 'sequelize';

/** A ledger row. `started` means a migration began and never finished (non-transactional DDL). */
export interface LedgerRow {
  readonly name: string;
  readonly checksum: string;
  readonly state: 'started' | 'applied';
  /** A started resumable migration (every step looks first): the next sync completes it. */
  readonly resumable: boolean;
  readonly startedAt: Date | null;
  readonly appliedAt: Date | null;
  readonly appliedBy: string | null;
  /** Recorded by `baseline` (an adopted database), not by running the migration. */
  readonly baselined: boolean;
}

const whoAmI = (): string => `${hostname()} pid ${process.pid}`;

/**
 * The ledger table of one line in one database: which migrations ran, with the checksum of their
 * source and a started-marker for migrations whose DDL commits as it goes (MariaDB). Umzug reaches
 * it through `LedgerStorage` (ledger-storage.ts).
 */
export class Ledger {
  private readonly table: string;

  constructor(
    private readonly sequelize: Sequelize,
    readonly tableName: string,
  ) {
    this.table = sequelize.getQueryInterface().quoteIdentifier(tableName);
  }

  /** Whether the ledger table exists (a database never synced has none). */
  async exists(): Promise<boolean> {
    return this.sequelize.getQueryInterface().tableExists(this.tableName);
  }

  /** Creates the ledger table when missing. */
  async ensure(): Promise<void> {
    await this.sequelize.getQueryInterface().createTable(this.tableName, {
      name: { type: DataTypes.STRING(255), primaryKey: true, allowNull: false },
      checksum: { type: DataTypes.STRING(64), allowNull: false },
      state: { type: DataTypes.STRING(16), allowNull: false },
      started_at: { type: DataTypes.DATE, allowNull: true },
      applied_at: { type: DataTypes.DATE, allowNull: true },
      applied_by: { type: DataTypes.STRING(255), allowNull: true },
    });
  }

  /** Every row, in name order; none when the table does not exist. */
  async rows(): Promise<LedgerRow[]> {
    if (!(await this.exists())) return [];
    const rows = await this.sequelize.query<{
      name: string;
      checksum: string;
      state: string;
      started_at: Date | string | null;
      applied_at: Date | string | null;
      applied_by: string | null;
    }>(`SELECT name, checksum, state, started_at, applied_at, applied_by FROM ${this.table} ORDER BY name`, {
      type: QueryTypes.SELECT,
    });
    const date = (v: Date | string | null): Date | null => (v === null ? null : v instanceof Date ? v : new Date(v));
    return rows.map((r) => ({
      name: r.name,
      checksum: r.checksum,
      state: r.state === 'started' || r.state === 'resumable' ? 'started' : 'applied',
      resumable: r.state === 'resumable',
      startedAt: date(r.started_at),
      appliedAt: date(r.applied_at),
      appliedBy: r.applied_by,
      baselined: r.state === 'baselined',
    }));
  }

  /**
   * Writes the started-marker before a non-transactional migration runs. A resumable migration's
   * marker (state `resumable`) may already be there, left by a run that died: it is taken over.
   */
  async recordStarted(name: string, checksum: string, resumable = false): Promise<void> {
    const replacements = { name, checksum, now: new Date(), by: whoAmI(), state: resumable ? 'resumable' : 'started' };
    if (resumable) {
      const [, updated] = await this.sequelize.query(
        `UPDATE ${this.table} SET started_at = :now, applied_by = :by WHERE name = :name AND state = 'resumable' AND checksum = :checksum`,
        { replacements, type: QueryTypes.UPDATE },
      );
      if (Number(updated) > 0) return;
    }
    await this.sequelize.query(
      `INSERT INTO ${this.table} (name, checksum, state, started_at, applied_by) VALUES (:name, :checksum, :state, :now, :by)`,
      { replacements },
    );
  }

  /** Marks a migration applied: updates its started-marker, or inserts the row (in `transaction` if given). */
  async recordApplied(name: string, checksum: string, transaction?: Transaction): Promise<void> {
    const now = new Date();
    const [, updated] = await this.sequelize.query(
      `UPDATE ${this.table} SET state = 'applied', checksum = :checksum, applied_at = :now, applied_by = :by WHERE name = :name`,
      { replacements: { name, checksum, now, by: whoAmI() }, transaction, type: QueryTypes.UPDATE },
    );
    if (Number(updated) > 0) return;
    await this.sequelize.query(
      `INSERT INTO ${this.table} (name, checksum, state, started_at, applied_at, applied_by) VALUES (:name, :checksum, 'applied', :now, :now, :by)`,
      { replacements: { name, checksum, now, by: whoAmI() }, transaction },
    );
  }

  /**
   * Records migrations as applied by `baseline` (state `baselined`, read as applied), all in
   * `transaction`: an adopted database's schema already holds what they would have built.
   */
  async recordBaselined(files: readonly { readonly name: string; readonly checksum: string }[], transaction: Transaction): Promise<void> {
    const now = new Date();
    for (const f of files) {
      await this.sequelize.query(
        `INSERT INTO ${this.table} (name, checksum, state, started_at, applied_at, applied_by) VALUES (:name, :checksum, 'baselined', :now, :now, :by)`,
        { replacements: { name: f.name, checksum: f.checksum, now, by: `baseline: ${whoAmI()}` }, transaction },
      );
    }
  }

  /** Removes a row (`--mark-pending`). Returns whether there was one. */
  async remove(name: string): Promise<boolean> {
    if (!(await this.exists())) return false;
    const found = await this.sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${this.table} WHERE name = :name`, {
      replacements: { name },
      type: QueryTypes.SELECT,
    });
    if (Number(found[0]?.n ?? 0) === 0) return false;
    await this.sequelize.query(`DELETE FROM ${this.table} WHERE name = :name`, { replacements: { name } });
    return true;
  }
}
