import { QueryTypes, type Transaction } from 'sequelize';
import type { DatabaseHandle } from '../db/registry.js';
import type { DialectConnection, DialectSql, StatementTimeouts } from '../db/dialect.js';

/** Runs a SELECT and returns its rows. */
export function select<Row extends object>(
  db: DatabaseHandle<unknown>,
  sql: string,
  replacements: Record<string, unknown> = {},
  transaction?: Transaction,
): Promise<Row[]> {
  return db.sequelize.query<Row>(sql, { replacements, type: QueryTypes.SELECT, transaction });
}

/**
 * Sequelize options for bind values: none at all when there are none, for with any `bind` (even
 * empty) Sequelize has mysql2 prepare the statement, and a prepared statement per distinct SQL
 * text (a literal key list) would pile up on the server.
 */
const bound = (bind: readonly unknown[]) => (bind.length > 0 ? { bind: [...bind] } : {});

/** Runs a SELECT whose values are bind parameters ($1, $2, …) and returns its rows. */
export function selectBound<Row extends object>(db: DatabaseHandle<unknown>, sql: string, bind: readonly unknown[], transaction?: Transaction): Promise<Row[]> {
  return db.sequelize.query<Row>(sql, { ...bound(bind), type: QueryTypes.SELECT, transaction });
}

/** Runs a write whose values are bind parameters and returns how many rows it changed. */
export async function writeBound(db: DatabaseHandle<DialectSql>, sql: string, bind: readonly unknown[], transaction?: Transaction): Promise<number> {
  const [result, metadata] = await db.sequelize.query(sql, { ...bound(bind), transaction });
  return db.dialect.affectedRows(result, metadata);
}

/** Runs a write and returns how many rows it changed. */
export async function write(db: DatabaseHandle<DialectSql>, sql: string, replacements: Record<string, unknown>, transaction?: Transaction): Promise<number> {
  const [result, metadata] = await db.sequelize.query(sql, { replacements, transaction });
  return db.dialect.affectedRows(result, metadata);
}

/**
 * One short READ COMMITTED transaction with the batch's timeouts. Movers never hold a transaction
 * open between batches; READ COMMITTED also spares MariaDB the gap locks that make concurrent
 * inserts deadlock under REPEATABLE READ. `redoable`: a transaction whose loss in a server crash
 * the next run redoes (see `DialectConnection.batchTransaction`); never the API copy of a batch.
 */
export function batchTransaction<T>(db: DatabaseHandle<DialectConnection>, timeouts: StatementTimeouts, work: (t: Transaction) => Promise<T>, { redoable = false } = {}): Promise<T> {
  return db.dialect.batchTransaction(db.sequelize, timeouts, redoable, work);
}

/** Whether a table has a column (a cell may be behind the mover's schema, or past it). */
export async function hasColumn(db: DatabaseHandle<unknown>, table: string, column: string): Promise<boolean> {
  const qi = db.sequelize.getQueryInterface();
  if (!(await qi.tableExists(table))) return false;
  const columns = await qi.describeTable(table);
  return column in columns;
}
