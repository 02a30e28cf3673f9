import type { Options, Sequelize, Transaction } from 'sequelize';
import type { DatabaseUrl, Dialect } from '../url/index.js';

/** A raw driver connection outside every pool: locks live on one of these (a PostgreSQL advisory
 * lock belongs to its session, so a pooled connection cannot hold it). */
export interface SessionConnection {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/** Timeouts applied to every statement of a connection or transaction, in milliseconds (0 = none). */
export interface StatementTimeouts {
  /**
   * How long a statement may wait for a row or table lock on the server (PostgreSQL `lock_timeout`,
   * MariaDB `innodb_lock_wait_timeout` and `lock_wait_timeout`): migrations give `--ddl-lock-timeout`,
   * the movers `--lock-wait`. Not the migration lock, which `--lock-timeout` waits for.
   */
  readonly lockWaitMs: number;
  /** How long one statement may run. */
  readonly statementTimeoutMs: number;
}

/** A column of a bound row set (see `DialectSql.boundRows`). */
export interface BoundColumn {
  readonly name: string;
  readonly type: 'text' | 'integer' | 'timestamp';
}

/** SQL for a derived table whose rows travel as bind parameters, and the values to bind. */
export interface BoundRows {
  /** A FROM item, aliased `alias`, with the columns named as given. */
  readonly sql: string;
  /** Values for the placeholders `$first` onwards, in order. */
  readonly bind: readonly unknown[];
}

/** Options for the Sequelize instances the registry opens. */
export interface PoolOptions {
  /** @default 4 */
  readonly max?: number;
  /** Connect timeout. @default DEFAULTS.connectTimeoutSeconds × 1000 */
  readonly connectTimeoutMs?: number;
  /** Session-level statement timeouts, when wanted. */
  readonly timeouts?: StatementTimeouts;
  /** Shown to the server (PostgreSQL `application_name`) so that an operator can tell who we are. */
  readonly applicationName?: string;
}

/** One reflected column. `type` is normalised to a class: integer, bigint, string, text, boolean, timestamp, float, other. */
export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
}
export interface IndexInfo {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
  readonly primary: boolean;
}
export interface ForeignKeyInfo {
  readonly name: string;
  readonly columns: readonly string[];
  readonly referencedTable: string;
  readonly referencedColumns: readonly string[];
}
export interface TableInfo {
  readonly name: string;
  readonly columns: readonly ColumnInfo[];
  readonly indexes: readonly IndexInfo[];
  readonly foreignKeys: readonly ForeignKeyInfo[];
}

// The dialect contract, split as kysely splits a dialect (`src/dialect/`: driver, adapter,
// introspector, query compiler): what a consumer needs of a dialect is one of these parts, and it
// asks for that part only (`DatabaseHandle<DialectSql>`). Each dialect implements the parts in a
// folder of its own (`postgres/`, `mariadb/`), one file per part; `DialectAdapter` is all of them.

/** What a dialect is: its name, how reports call it, and how its DDL behaves. */
export interface DialectInfo {
  readonly name: Dialect;
  /** How reports name it (`mysql` is the driver's name; the servers are MariaDB). */
  readonly label: string;
  /** Whether DDL takes part in transactions (PostgreSQL yes, MariaDB no: it commits at once). */
  readonly transactionalDdl: boolean;
}

/** Connections: pools, dedicated sessions, databases on a server, per-transaction settings. */
export interface DialectConnection {
  /** Sequelize constructor options for a URL. */
  sequelizeOptions(url: DatabaseUrl, pool: PoolOptions): Options;
  /** Run once on every new pooled connection (session settings such as timeouts). */
  onConnectStatements(pool: PoolOptions): string[];
  /** Opens a dedicated connection outside every pool. */
  openSession(url: DatabaseUrl, options: { connectTimeoutMs: number; applicationName: string }): Promise<SessionConnection>;
  /** The server's id of a raw driver connection (PostgreSQL backend pid, MariaDB thread id). */
  sessionId(connection: unknown): number | undefined;
  /** Sets per-transaction timeouts (PostgreSQL `SET LOCAL`; MariaDB session variables). */
  applyTransactionTimeouts(sequelize: Sequelize, transaction: Transaction, timeouts: StatementTimeouts): Promise<void>;
  /**
   * Runs `work` in one READ COMMITTED transaction with per-transaction timeouts, in as few round
   * trips as the server allows (a mover's batch runs two such transactions: their set-up and commit
   * were half of a small batch's statements). `redoable`: losing this commit in a server crash only
   * makes the next run redo it (the cell side of a batch, after its API copy committed; a compute
   * node's host): PostgreSQL then commits without waiting for the WAL flush. Never for a transaction
   * whose loss would lose data (the API copy).
   */
  batchTransaction<T>(sequelize: Sequelize, timeouts: StatementTimeouts, redoable: boolean, work: (t: Transaction) => Promise<T>): Promise<T>;
  /** A database every server has, for a session when the URL's own database does not exist. */
  readonly maintenanceDatabase: string;
  /** Whether the named database exists on the session's server. */
  databaseExists(session: SessionConnection, name: string): Promise<boolean>;
  /** Creates / drops a database through a session on the server (the drop is a no-op when it is gone). */
  createDatabase(session: SessionConnection, name: string): Promise<void>;
  dropDatabase(session: SessionConnection, name: string): Promise<void>;
  /** The statement `dropDatabase` sends, for an operator to run by hand. */
  dropDatabaseStatement(name: string): string;
}

/** Named locks held by a dedicated session (the migration lock of a line). */
export interface DialectLocking {
  /** Tries the named lock once, without waiting: true when it is now held by `session`. */
  tryLock(session: SessionConnection, name: string): Promise<boolean>;
  unlock(session: SessionConnection, name: string): Promise<void>;
  /** Whether `session` still holds the lock (a dropped connection loses it). */
  holdsLock(session: SessionConnection, name: string): Promise<boolean>;
  /** Who holds the named lock, in words, where the server can tell. */
  describeLockHolder(session: SessionConnection, name: string): Promise<string | undefined>;
}

/** The impact monitor's reading of a server besides its probe (see `DialectIntrospection.loadMetrics`). */
export interface LoadMetrics {
  /** Other clients' statements running now in the run's databases. */
  readonly threadsRunning: number;
  /** Sessions waiting for a lock the run's connections hold. */
  readonly lockWaits: number;
  /**
   * Other client sessions on the whole server (any database) running a statement now or having run
   * one within the last {@link ACTIVE_CLIENT_WINDOW_MS}: zero means nobody is there to feel the movers.
   */
  readonly activeClients: number;
}

/** How recent another session's statement must be for it to count as an active client (ms). */
export const ACTIVE_CLIENT_WINDOW_MS = 2000;

/** What the server says about a database's schema and about its other clients. */
export interface DialectIntrospection {
  /** Reflects the tables of the current database (all, or those named). */
  describeSchema(sequelize: Sequelize, tables?: readonly string[]): Promise<TableInfo[]>;
  /**
   * Whether a reflected index is one the server made by itself, not a migration (MariaDB: InnoDB's
   * index for a foreign key that has none, named after the constraint).
   */
  isServerMadeIndex(table: TableInfo, index: IndexInfo): boolean;
  /**
   * How many client sessions on the server, other than `excluded` (server ids), are running a
   * statement or ran one within the last `windowMs`: other users of the server (all databases, or
   * only `database`). Sessions this user may not see (PostgreSQL without pg_read_all_stats, MariaDB
   * without PROCESS) are not counted. The same rule as `LoadMetrics.activeClients` (one predicate per
   * dialect), readable on its own and per database, which the tests need on a shared server.
   */
  otherActiveSessions(sequelize: Sequelize, excluded: readonly number[], windowMs: number, database?: string): Promise<number>;
  /**
   * The movers' impact monitor's reading of a server, on its own `session`: other clients' statements
   * running now in `databases` (`own`, the run's server ids, and the session itself left out), and
   * sessions waiting for a lock one of `own` holds (PostgreSQL `pg_blocking_pids`; MariaDB
   * `information_schema.INNODB_LOCK_WAITS`). Needs the privileges to see other sessions
   * (pg_read_all_stats, PROCESS); without them the counts are low, never wrong the other way.
   */
  loadMetrics(session: SessionConnection, own: readonly number[], databases: readonly string[]): Promise<LoadMetrics>;
  /**
   * The impact monitor's probe statements, best first: the first one the server runs is kept. Each
   * is timed as a live client's short write would be: PostgreSQL commits a transaction holding one
   * tiny WAL record (`pg_logical_emit_message`), so the round trip includes the WAL flush a
   * client's commit waits for behind the movers' writes; a server that refuses it (the function's
   * EXECUTE revoked) falls back to `SELECT 1`. MariaDB: `SELECT 1` (InnoDB flushes nothing for a
   * transaction that changed no row, and the movers create no table of their own to write to).
   */
  readonly impactProbes: readonly string[];
}

/** SQL text that differs between the dialects, built for a statement the caller sends. */
export interface DialectSql {
  /** Quotes an identifier. */
  quoteIdentifier(name: string): string;
  /**
   * An INSERT that skips rows violating a unique key and fails on anything else (PostgreSQL
   * `ON CONFLICT DO NOTHING`; MariaDB `ON DUPLICATE KEY UPDATE` of the key to itself, which unlike
   * `INSERT IGNORE` does not also swallow foreign-key and truncation errors). `values` is the SQL
   * after VALUES (placeholders included); `keyColumn` is a column of the unique key.
   */
  insertSkippingDuplicates(table: string, columns: readonly string[], values: string, keyColumn: string): string;
  /** The same, inserting the rows of `select` (an INSERT … SELECT). */
  insertSelectSkippingDuplicates(table: string, columns: readonly string[], select: string, keyColumn: string): string;
  /**
   * Rows sent as a few bind parameters rather than as SQL text, for set-based statements over a
   * batch (PostgreSQL `unnest` of one typed array per column; MariaDB `JSON_TABLE` over one JSON
   * document). Placeholders are numbered from `$first` (Sequelize `bind`). Dates travel in UTC.
   */
  boundRows(alias: string, columns: readonly BoundColumn[], rows: ReadonlyArray<readonly unknown[]>, first: number): BoundRows;
  /**
   * `column IN (values)` for a batch's keys: PostgreSQL one array bind parameter `$first` (`= ANY`);
   * MariaDB an escaped literal list and no bind value. Use it as the statement's only placeholder.
   */
  inBound(column: string, type: 'integer' | 'text', values: readonly unknown[], first: number): BoundRows;
  /**
   * A timestamp column read as text that `boundRows` takes back unchanged (PostgreSQL with its UTC
   * offset; MariaDB as stored, UTC): a batch's timestamps pass through without becoming Dates.
   */
  timestampText(expression: string): string;
  /** How many rows an INSERT/UPDATE/DELETE through `sequelize.query` changed, from its result. */
  affectedRows(result: unknown, metadata: unknown): number;
}

/**
 * Everything that differs between PostgreSQL and MariaDB, all parts together (STYLE: dialect
 * differences live in one module per dialect). Take the part you use, not this.
 */
export interface DialectAdapter extends DialectInfo, DialectConnection, DialectLocking, DialectIntrospection, DialectSql {}
