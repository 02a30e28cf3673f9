import type { QueryInterface, Sequelize, Transaction } from 'sequelize';
import type { DialectInfo, DialectSql } from '../db/dialect.js';
import type { SchemaSteps } from './schema-steps.js';

/** Which migration line: the API database's or every cell database's. */
export type LineId = 'api' | 'cell';

/**
 * What a migration's `up` receives. On PostgreSQL `transaction` is the transaction that will also
 * record the migration in the ledger: pass it to every query so the migration and its ledger row
 * commit together. It is `undefined` on MariaDB (DDL commits at once there) and for migrations that
 * export `transactional = false`.
 */
export interface MigrationContext {
  readonly sequelize: Sequelize;
  readonly queryInterface: QueryInterface;
  readonly transaction: Transaction | undefined;
  /** What a migration may ask of the dialect: which it is, and SQL that differs between them. */
  readonly dialect: DialectInfo & DialectSql;
  /** A label for messages: 'API database' or the cell's name. */
  readonly databaseLabel: string;
  /** Steps that look before they act (find objects by shape; safe to repeat): see schema-steps.ts. */
  readonly steps: SchemaSteps;
}

/** The shape of a migration module in `migrations-api/` or `migrations-cell/`. */
export interface MigrationModule {
  up(context: MigrationContext): Promise<void>;
  /**
   * Set to `false` for a migration whose statements cannot run inside a transaction (e.g. PostgreSQL
   * `CREATE INDEX CONCURRENTLY`). It then runs with a started-marker in the ledger, as on MariaDB.
   * @default true
   */
  readonly transactional?: boolean;
  /**
   * Set to `true` when every step of `up` looks before it acts (`context.steps`), so that a run
   * killed half way is completed by running sync again: its started-marker is then not a dirty
   * migration but one to resume (issue 15).
   * @default false
   */
  readonly resumable?: boolean;
}
