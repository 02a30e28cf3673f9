import { type Options, Transaction } from 'sequelize';
import { DEFAULTS } from '../../config/defaults.js';
import type { DialectConnection, SessionConnection } from '../dialect.js';
import { mysql2, mysqlPromise } from './driver.js';
import { quote } from './sql.js';

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);
// Both lock waits take whole seconds, at least one.
const wholeSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

const dropStatement = (name: string): string => `DROP DATABASE IF EXISTS ${quote(name)}`;

/** MariaDB connections through mysql2: timeouts as session variables, UTC. */
export const mariadbConnection: DialectConnection = {
  sequelizeOptions(url, pool): Options {
    return {
      dialect: 'mysql',
      dialectModule: mysql2(),
      host: url.host,
      port: url.port,
      database: url.database,
      username: url.username ?? 'root',
      password: url.password,
      logging: false,
      timezone: '+00:00',
      pool: { max: pool.max ?? 4, min: 0, idle: 10_000, acquire: 60_000, evict: 10_000 },
      dialectOptions: {
        connectTimeout: pool.connectTimeoutMs ?? DEFAULTS.connectTimeoutSeconds * 1000,
        ...(url.socketPath ? { socketPath: url.socketPath } : {}),
      },
    };
  },

  onConnectStatements(pool) {
    if (!pool.timeouts) return [];
    const { lockWaitMs, statementTimeoutMs } = pool.timeouts;
    // lock_wait_timeout covers metadata locks (DDL queueing behind a live transaction);
    // innodb_lock_wait_timeout covers row locks and takes whole seconds.
    return [
      `SET SESSION lock_wait_timeout = ${wholeSeconds(lockWaitMs)}`,
      `SET SESSION innodb_lock_wait_timeout = ${wholeSeconds(lockWaitMs)}`,
      `SET SESSION max_statement_time = ${seconds(statementTimeoutMs)}`,
    ];
  },

  async openSession(url, options): Promise<SessionConnection> {
    const connection = await mysqlPromise().createConnection({
      host: url.host,
      port: url.port,
      database: url.database,
      user: url.username ?? 'root',
      password: url.password,
      connectTimeout: options.connectTimeoutMs,
      ...(url.socketPath ? { socketPath: url.socketPath } : {}),
    });
    connection.on('error', () => undefined);
    return {
      async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
        const [rows] = await connection.query(sql, params as unknown[]);
        return (Array.isArray(rows) ? rows : []) as Row[];
      },
      async close(): Promise<void> {
        await connection.end();
      },
    };
  },

  sessionId(connection) {
    const id = (connection as { threadId?: unknown } | null)?.threadId;
    return typeof id === 'number' ? id : undefined;
  },

  async applyTransactionTimeouts(sequelize, transaction, timeouts) {
    await sequelize.query(
      `SET SESSION innodb_lock_wait_timeout = ${wholeSeconds(timeouts.lockWaitMs)}, ` +
        `lock_wait_timeout = ${wholeSeconds(timeouts.lockWaitMs)}, ` +
        `max_statement_time = ${seconds(timeouts.statementTimeoutMs)}`,
      { transaction },
    );
  },

  batchTransaction(sequelize, timeouts, _redoable, work) {
    // MariaDB takes the isolation level before START TRANSACTION (Sequelize sends it), and its
    // durability (innodb_flush_log_at_trx_commit) is the server's, not a transaction's.
    return sequelize.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED }, async (t) => {
      await this.applyTransactionTimeouts(sequelize, t, timeouts);
      return work(t);
    });
  },

  // Always there, and readable by every user.
  maintenanceDatabase: 'information_schema',

  async databaseExists(session, name) {
    return (await session.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name])).length > 0;
  },

  async createDatabase(session, name) {
    await session.query(`CREATE DATABASE ${quote(name)} CHARACTER SET utf8mb4`);
  },

  async dropDatabase(session, name) {
    await session.query(dropStatement(name));
  },

  dropDatabaseStatement: dropStatement,
};
