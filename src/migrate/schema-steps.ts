// Schema steps that look before they act (issue 15). Every step of a migration asks the catalog
// first and does nothing when the object is already there in the shape it would build — whatever
// its name — so that:
// * on MariaDB, where each DDL statement commits at once, a migration killed after any statement is
//   completed by running sync again (the steps done are skipped; the rest run), with no hand repair;
// * on a database cellsdb did not build (adopted by `baseline`), objects are found by their shape,
//   not by cellsdb's names: a foreign key by its table, columns and referenced table; a unique key
//   or an index by its columns.
// After each step that changed something, the `migrate:step` failpoint lets a crash test kill the
// process right there (src/movers/failpoints.ts).
import type { ModelAttributeColumnOptions, QueryInterface, Sequelize, Transaction } from 'sequelize';
import type { DialectInfo, DialectIntrospection, TableInfo } from '../db/dialect.js';
import type { Failpoint } from '../movers/failpoints.js';

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** What the steps need: where to send statements, in which transaction, and the failpoint. */
export interface SchemaStepsDeps {
  readonly sequelize: Sequelize;
  readonly queryInterface: QueryInterface;
  readonly transaction: Transaction | undefined;
  readonly dialect: DialectInfo & Pick<DialectIntrospection, 'describeSchema'>;
  readonly failpoint: Failpoint;
}

/** A foreign key as a step names it: its columns and the referenced table (and column, `id`). */
export interface ForeignKeyShape {
  readonly fields: readonly string[];
  readonly table: string;
  readonly field?: string;
}

export class SchemaSteps {
  constructor(private readonly deps: SchemaStepsDeps) {}

  /** The table as the catalog shows it now (inside the migration's transaction, when there is one). */
  async describe(table: string): Promise<TableInfo | undefined> {
    const { sequelize, transaction } = this.deps;
    // The catalog must be read in the migration's transaction (PostgreSQL): a table created earlier
    // in the same migration is not visible outside it yet.
    const inTransaction = Object.create(sequelize, {
      query: { value: (sql: string, options: object = {}) => sequelize.query(sql, { ...options, transaction }) },
    }) as Sequelize;
    const [info] = await this.deps.dialect.describeSchema(inTransaction, [table]);
    return info?.name === table ? info : undefined;
  }

  private done(): void {
    this.deps.failpoint('migrate:step');
  }

  /** CREATE TABLE, unless a table of that name exists (its columns are then the next steps' to check). */
  async createTable(table: string, attributes: Record<string, ModelAttributeColumnOptions>): Promise<void> {
    if (await this.describe(table)) return;
    await this.deps.queryInterface.createTable(table, attributes, { transaction: this.deps.transaction });
    this.done();
  }

  /** ADD COLUMN, unless the column exists. */
  async addColumn(table: string, column: string, attributes: ModelAttributeColumnOptions): Promise<void> {
    const info = await this.describe(table);
    if (info?.columns.some((c) => c.name === column)) return;
    await this.deps.queryInterface.addColumn(table, column, attributes, { transaction: this.deps.transaction });
    this.done();
  }

  /** Makes a column nullable (or not), unless it already is. */
  async setNullable(table: string, column: string, attributes: ModelAttributeColumnOptions & { allowNull: boolean }): Promise<void> {
    const info = await this.describe(table);
    const current = info?.columns.find((c) => c.name === column);
    if (current && current.nullable === attributes.allowNull) return;
    await this.deps.queryInterface.changeColumn(table, column, attributes, { transaction: this.deps.transaction });
    this.done();
  }

  /** A unique key on `fields`, unless a unique index on exactly those columns exists (any name). */
  async addUnique(table: string, name: string, fields: readonly string[]): Promise<void> {
    const info = await this.describe(table);
    if (info?.indexes.some((i) => i.unique && sameList(i.columns, fields))) return;
    await this.deps.queryInterface.addConstraint(table, { type: 'unique', name, fields: [...fields], transaction: this.deps.transaction });
    this.done();
  }

  /**
   * Deletes the rows that repeat another row's values in `fields` (the one with the lowest id stays),
   * so that a unique key on them can be added. NULLs never repeat (a unique key allows many), and
   * values compare under the columns' collation, as the unique key will. Safe to repeat.
   */
  async deleteDuplicates(table: string, fields: readonly string[]): Promise<void> {
    const q = (name: string) => this.deps.queryInterface.quoteIdentifier(name);
    const same = fields.map((f) => `a.${q(f)} = b.${q(f)}`).join(' AND ');
    const sql =
      this.deps.dialect.name === 'postgres'
        ? `DELETE FROM ${q(table)} a USING ${q(table)} b WHERE ${same} AND b.id < a.id`
        : `DELETE a FROM ${q(table)} a JOIN ${q(table)} b ON ${same} AND b.id < a.id`;
    const [, meta] = await this.deps.sequelize.query(sql, { transaction: this.deps.transaction });
    const deleted = Number((meta as { rowCount?: number; affectedRows?: number } | undefined)?.rowCount ?? (meta as { affectedRows?: number } | undefined)?.affectedRows ?? 0);
    if (deleted > 0) this.done();
  }

  /**
   * A unique key on `fields` of a table that may be large and live, unless a valid unique index on
   * exactly those columns exists (any name). PostgreSQL builds the index CONCURRENTLY (the migration
   * must export `transactional = false`) and then attaches it as the constraint, so that writes go on
   * during the build; an invalid index left by a build that was killed or failed is dropped first.
   * MariaDB adds it in place (InnoDB builds a secondary index with LOCK=NONE).
   */
  async addUniqueOnline(table: string, name: string, fields: readonly string[]): Promise<void> {
    if (this.deps.dialect.name !== 'postgres') return this.addUnique(table, name, fields);
    const q = (id: string) => this.deps.queryInterface.quoteIdentifier(id);
    const run = (sql: string) => this.deps.sequelize.query(sql, { transaction: this.deps.transaction });
    const [found] = (await this.deps.sequelize.query(
      `SELECT ix.indisvalid AS valid, EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid) AS attached
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid
        WHERE ix.indrelid = to_regclass(:table) AND i.relname = :name`,
      { replacements: { table: q(table), name }, transaction: this.deps.transaction, plain: false, raw: true },
    )) as [Array<{ valid: boolean; attached: boolean }>, unknown];
    const own = found[0];
    if (own && !own.valid) {
      await run(`DROP INDEX CONCURRENTLY IF EXISTS ${q(name)}`);
      this.done();
    }
    if (!own?.valid) {
      const info = await this.describe(table);
      if (info?.indexes.some((i) => i.unique && sameList(i.columns, fields))) return;
      await run(`CREATE UNIQUE INDEX CONCURRENTLY ${q(name)} ON ${q(table)} (${fields.map(q).join(', ')})`);
      this.done();
    }
    if (!own?.attached) {
      await run(`ALTER TABLE ${q(table)} ADD CONSTRAINT ${q(name)} UNIQUE USING INDEX ${q(name)}`);
      this.done();
    }
  }

  /** A plain index on `fields`, unless an index on exactly those columns exists (any name). */
  async addIndex(table: string, name: string, fields: readonly string[]): Promise<void> {
    const info = await this.describe(table);
    if (info?.indexes.some((i) => !i.primary && sameList(i.columns, fields))) return;
    await this.deps.queryInterface.addIndex(table, [...fields], { name, transaction: this.deps.transaction });
    this.done();
  }

  /** A foreign key, unless one on the same columns to the same table exists (any name). NO ACTION, as Nova. */
  async addForeignKey(table: string, name: string, fk: ForeignKeyShape): Promise<void> {
    const info = await this.describe(table);
    if (this.matching(info, fk).length > 0) return;
    await this.deps.queryInterface.addConstraint(table, {
      type: 'foreign key',
      name,
      fields: [...fk.fields],
      references: { table: fk.table, field: fk.field ?? 'id' },
      onDelete: 'NO ACTION',
      onUpdate: 'NO ACTION',
      transaction: this.deps.transaction,
    });
    this.done();
  }

  /** Drops every foreign key on `fk.fields` to `fk.table`, whatever its name; none is fine. */
  async dropForeignKey(table: string, fk: ForeignKeyShape): Promise<void> {
    for (const found of this.matching(await this.describe(table), fk)) {
      await this.deps.queryInterface.removeConstraint(table, found, { transaction: this.deps.transaction });
      this.done();
    }
  }

  /** Drops every non-unique index on exactly `fields` (e.g. the one MariaDB made for a dropped foreign key). */
  async dropPlainIndexes(table: string, fields: readonly string[]): Promise<void> {
    const info = await this.describe(table);
    for (const index of info?.indexes ?? []) {
      if (index.primary || index.unique || !sameList(index.columns, fields)) continue;
      await this.deps.queryInterface.removeIndex(table, index.name, { transaction: this.deps.transaction });
      this.done();
    }
  }

  /** DROP TABLE, unless it is gone already. */
  async dropTable(table: string): Promise<void> {
    if (!(await this.describe(table))) return;
    await this.deps.queryInterface.dropTable(table, { transaction: this.deps.transaction });
    this.done();
  }

  private matching(info: TableInfo | undefined, fk: ForeignKeyShape): string[] {
    const field = fk.field ?? 'id';
    return (info?.foreignKeys ?? [])
      .filter((f) => f.referencedTable === fk.table && sameList(f.columns, fk.fields) && f.referencedColumns.every((c) => c === field))
      .map((f) => f.name);
  }
}
