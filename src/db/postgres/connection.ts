import type pgTypes from 'pg';
import type { Options } from 'sequelize';
import { DEFAULTS } from '../../config/defaults.js';
import type { DialectConnection, SessionConnection, StatementTimeouts } from '../dialect.js';
import { pg } from './driver.js';
import { quote } from './sql.js';

// FORCE (PostgreSQL 13+) ends the sessions still connected to the database instead of failing.
const dropStatement = (name: string): string => `DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`;

/** The per-transaction timeouts as `SET LOCAL` statements (one string, sent in one round trip). */
const setLocalTimeouts = (timeouts: StatementTimeouts): string =>
  `SET LOCAL lock_timeout = ${Math.max(0, Math.trunc(timeouts.lockWaitMs))}; SET LOCAL statement_timeout = ${Math.max(0, Math.trunc(timeouts.statementTimeoutMs))}`;

function sessionFromClient(client: pgTypes.Client): SessionConnection {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      const result = await client.query(sql, params as unknown[]);
      return result.rows as Row[];
    },
    async close(): Promise<void> {
      await client.end();
    },
  };
}

/** PostgreSQL connections: timeouts as connection parameters, `SET LOCAL` per transaction. */
export const postgresConnection: DialectConnection = {
  sequelizeOptions(url, pool): Options {
    return {
      dialect: 'postgres',
      dialectModule: pg(),
      host: url.socketPath ?? url.host,
      port: url.port,
      database: url.database,
      username: url.username ?? 'postgres',
      password: url.password,
      logging: false,
      pool: { max: pool.max ?? 4, min: 0, idle: 10_000, acquire: 60_000, evict: 10_000 },
      dialectOptions: {
        connectionTimeoutMillis: pool.connectTimeoutMs ?? DEFAULTS.connectTimeoutSeconds * 1000,
        application_name: pool.applicationName ?? 'cellsdb',
        ...(pool.timeouts
          ? {
              lock_timeout: pool.timeouts.lockWaitMs,
              statement_timeout: pool.timeouts.statementTimeoutMs,
            }
          : {}),
      },
    };
  },

  onConnectStatements(): string[] {
    // Timeouts travel as connection parameters (see sequelizeOptions). A killed client's backend
    // would otherwise run its statement to the end, holding its locks: from PostgreSQL 14 on, have
    // the server check the client every second (a no-op on older servers).
    return [
      "SELECT set_config('client_connection_check_interval', '1000', false) WHERE current_setting('server_version_num')::int >= 140000",
    ];
  },

  async openSession(url, options): Promise<SessionConnection> {
    const client = new (pg().Client)({
      host: url.socketPath ?? url.host,
      port: url.port,
      database: url.database,
      user: url.username ?? 'postgres',
      password: url.password,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: options.applicationName,
    });
    // A dropped session must not crash the process: the lock holder notices through holdsLock().
    client.on('error', () => undefined);
    await client.connect();
    return sessionFromClient(client);
  },

  sessionId(connection) {
    const pid = (connection as { processID?: unknown } | null)?.processID;
    return typeof pid === 'number' ? pid : undefined;
  },

  async applyTransactionTimeouts(sequelize, transaction, timeouts) {
    await sequelize.query(setLocalTimeouts(timeouts), { transaction });
  },

  batchTransaction(sequelize, timeouts, redoable, work) {
    // No isolation level for Sequelize to set in a statement of its own: it goes with the timeouts
    // (SET TRANSACTION is allowed until the first query of the transaction). Three round trips
    // (BEGIN, this, COMMIT) instead of four.
    // (null, not absent: absent would take the Sequelize instance's default.)
    return sequelize.transaction({ isolationLevel: null as unknown as undefined }, async (t) => {
      await sequelize.query(`SET TRANSACTION ISOLATION LEVEL READ COMMITTED; ${setLocalTimeouts(timeouts)}${redoable ? '; SET LOCAL synchronous_commit = off' : ''}`, {
        transaction: t,
      });
      return work(t);
    });
  },

  maintenanceDatabase: 'postgres',

  async databaseExists(session, name) {
    return (await session.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).length > 0;
  },

  async createDatabase(session, name) {
    await session.query(`CREATE DATABASE ${quote(name)}`);
  },

  async dropDatabase(session, name) {
    await session.query(dropStatement(name));
  },

  dropDatabaseStatement: dropStatement,
};
