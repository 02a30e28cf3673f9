import { createRequire } from 'node:module';
import type mysql2Types from 'mysql2';
import type mysqlPromiseTypes from 'mysql2/promise';
import type { Options, Sequelize, Transaction } from 'sequelize';
import { QueryTypes } from 'sequelize';
import type { DatabaseUrl } from '../url.js';
import type {
  ColumnInfo,
  DialectAdapter,
  ForeignKeyInfo,
  IndexInfo,
  PoolOptions,
  SessionConnection,
  StatementTimeouts,
  TableInfo,
} from './dialect.js';
import { namedLockKey } from './lock-key.js';

// The driver is loaded on first use: a process that only talks to PostgreSQL never loads it.
const require = createRequire(import.meta.url);
const mysql2 = (): typeof mysql2Types => require('mysql2') as typeof mysql2Types;
const mysqlPromise = (): typeof mysqlPromiseTypes => require('mysql2/promise') as typeof mysqlPromiseTypes;

function typeClass(dataType: string, columnType: string): string {
  const t = dataType.toLowerCase();
  if (t === 'tinyint' && columnType.toLowerCase().startsWith('tinyint(1)')) return 'boolean';
  if (t === 'int' || t === 'integer' || t === 'smallint' || t === 'mediumint' || t === 'tinyint') return 'integer';
  if (t === 'bigint') return 'bigint';
  if (t === 'varchar' || t === 'char') return 'string';
  if (t === 'text' || t === 'mediumtext' || t === 'longtext' || t === 'tinytext') return 'text';
  if (t === 'datetime' || t === 'timestamp' || t === 'date') return 'timestamp';
  if (t === 'double' || t === 'float' || t === 'decimal') return 'float';
  return 'other';
}

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

/** MariaDB (also MySQL) through mysql2: DDL commits at once, `GET_LOCK` named locks. */
export const mariadbDialect: DialectAdapter = {
  name: 'mysql',
  transactionalDdl: false,

  sequelizeOptions(url: DatabaseUrl, pool: PoolOptions): Options {
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
        connectTimeout: pool.connectTimeoutMs ?? 10_000,
        ...(url.socketPath ? { socketPath: url.socketPath } : {}),
      },
    };
  },

  onConnectStatements(pool: PoolOptions): string[] {
    if (!pool.timeouts) return [];
    const { lockWaitMs, statementTimeoutMs } = pool.timeouts;
    // lock_wait_timeout covers metadata locks (DDL queueing behind a live transaction);
    // innodb_lock_wait_timeout covers row locks and takes whole seconds.
    return [
      `SET SESSION lock_wait_timeout = ${Math.max(1, Math.ceil(lockWaitMs / 1000))}`,
      `SET SESSION innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(lockWaitMs / 1000))}`,
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

  async tryLock(session, name) {
    const rows = await session.query<{ locked: number | null }>('SELECT GET_LOCK(?, 0) AS locked', [namedLockKey(name)]);
    const locked = rows[0]?.locked;
    // GET_LOCK returns NULL on an error (out of memory, killed thread): never read that as "held".
    if (locked === null || locked === undefined) throw new Error(`GET_LOCK('${namedLockKey(name)}') returned NULL`);
    return Number(locked) === 1;
  },

  async unlock(session, name) {
    await session.query('SELECT RELEASE_LOCK(?)', [namedLockKey(name)]);
  },

  async holdsLock(session, name) {
    const rows = await session.query<{ held: number | null }>('SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS held', [
      namedLockKey(name),
    ]);
    return Number(rows[0]?.held) === 1;
  },

  async describeLockHolder(session, name) {
    const rows = await session.query<{ id: number; user: string; host: string; time: number }>(
      `SELECT p.ID AS id, p.USER AS user, p.HOST AS host, p.TIME AS time
         FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)`,
      [namedLockKey(name)],
    );
    const holder = rows[0];
    if (!holder) return undefined;
    return `connection ${holder.id} of user '${holder.user}' from ${holder.host} (in its current state for ${holder.time} s)`;
  },

  async applyTransactionTimeouts(sequelize: Sequelize, transaction: Transaction, timeouts: StatementTimeouts) {
    await sequelize.query(
      `SET SESSION innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(timeouts.lockWaitMs / 1000))}, ` +
        `lock_wait_timeout = ${Math.max(1, Math.ceil(timeouts.lockWaitMs / 1000))}, ` +
        `max_statement_time = ${seconds(timeouts.statementTimeoutMs)}`,
      { transaction },
    );
  },

  async describeSchema(sequelize, tables) {
    const filter = tables && tables.length > 0 ? tables : null;
    const where = filter ? ' AND TABLE_NAME IN (?)' : '';
    const replacements = filter ? [filter] : [];
    const columns = await sequelize.query<{ t: string; c: string; dt: string; ct: string; n: string }>(
      `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS dt, COLUMN_TYPE AS ct, IS_NULLABLE AS n
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()${where} ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      { replacements, type: QueryTypes.SELECT },
    );
    const indexRows = await sequelize.query<{ t: string; i: string; c: string; nu: number | string }>(
      `SELECT TABLE_NAME AS t, INDEX_NAME AS i, COLUMN_NAME AS c, NON_UNIQUE AS nu
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()${where}
        ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
      { replacements, type: QueryTypes.SELECT },
    );
    const fkRows = await sequelize.query<{ t: string; n: string; c: string; rt: string; rc: string }>(
      `SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS n, COLUMN_NAME AS c, REFERENCED_TABLE_NAME AS rt, REFERENCED_COLUMN_NAME AS rc
         FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL${where}
        ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
      { replacements, type: QueryTypes.SELECT },
    );
    const byTable = new Map<string, { columns: ColumnInfo[]; indexes: IndexInfo[]; foreignKeys: ForeignKeyInfo[] }>();
    const entry = (name: string) => {
      let e = byTable.get(name);
      if (!e) {
        e = { columns: [], indexes: [], foreignKeys: [] };
        byTable.set(name, e);
      }
      return e;
    };
    for (const c of columns) {
      entry(c.t).columns.push({ name: c.c, type: typeClass(c.dt, c.ct), nullable: c.n === 'YES' });
    }
    const indexes = new Map<string, { table: string; info: { name: string; columns: string[]; unique: boolean; primary: boolean } }>();
    for (const r of indexRows) {
      const key = `${r.t}\u0000${r.i}`;
      let idx = indexes.get(key);
      if (!idx) {
        idx = { table: r.t, info: { name: r.i, columns: [], unique: Number(r.nu) === 0, primary: r.i === 'PRIMARY' } };
        indexes.set(key, idx);
      }
      idx.info.columns.push(r.c);
    }
    for (const { table, info } of indexes.values()) entry(table).indexes.push(info);
    const fks = new Map<string, { table: string; info: { name: string; columns: string[]; referencedTable: string; referencedColumns: string[] } }>();
    for (const r of fkRows) {
      const key = `${r.t}\u0000${r.n}`;
      let fk = fks.get(key);
      if (!fk) {
        fk = { table: r.t, info: { name: r.n, columns: [], referencedTable: r.rt, referencedColumns: [] } };
        fks.set(key, fk);
      }
      fk.info.columns.push(r.c);
      fk.info.referencedColumns.push(r.rc);
    }
    for (const { table, info } of fks.values()) entry(table).foreignKeys.push(info);
    return [...byTable.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, e]): TableInfo => ({ name, ...e }));
  },

  async createDatabase(session, name) {
    await session.query(`CREATE DATABASE ${this.quoteIdentifier(name)} CHARACTER SET utf8mb4`);
  },

  async dropDatabase(session, name) {
    await session.query(`DROP DATABASE IF EXISTS ${this.quoteIdentifier(name)}`);
  },

  quoteIdentifier(name) {
    return `\`${name.replace(/`/g, '``')}\``;
  },

  insertSkippingDuplicates(table, columns, values, keyColumn) {
    const key = this.quoteIdentifier(keyColumn);
    return `INSERT INTO ${this.quoteIdentifier(table)} (${columns.map((c) => this.quoteIdentifier(c)).join(', ')}) VALUES ${values} ON DUPLICATE KEY UPDATE ${key} = ${key}`;
  },

  insertSelectSkippingDuplicates(table, columns, select, keyColumn) {
    const t = this.quoteIdentifier(table);
    // Qualified: in INSERT … SELECT … ON DUPLICATE KEY UPDATE a bare name may also name a SELECT column.
    const key = `${t}.${this.quoteIdentifier(keyColumn)}`;
    return `INSERT INTO ${t} (${columns.map((c) => this.quoteIdentifier(c)).join(', ')}) ${select} ON DUPLICATE KEY UPDATE ${key} = ${key}`;
  },

  inBound(column, type, values) {
    // A literal list, not a bound one: MariaDB evaluates `IN (SELECT … FROM JSON_TABLE(…))` in an
    // UPDATE as a dependent subquery per row of the table (minutes per batch), while an IN list is a
    // sorted-list range lookup. No placeholders either, so the SQL (and the statement mysql2 would
    // prepare for it) is never cached per list length.
    const escape = mysql2().escape;
    const list = values.map((v) => {
      if (type === 'integer') {
        const n = Number(v);
        if (!Number.isSafeInteger(n)) throw new TypeError(`not an integer key: ${String(v)}`);
        return String(n);
      }
      return escape(String(v));
    });
    return { sql: list.length === 0 ? 'FALSE' : `${column} IN (${list.join(', ')})`, bind: [] };
  },

  timestampText(expression) {
    return `CAST(${expression} AS CHAR)`;
  },

  boundRows(alias, columns, rows, first) {
    // One JSON document of row arrays, read back by JSON_TABLE (MariaDB 10.6+); JSON null is NULL.
    const type = { text: 'TEXT', integer: 'BIGINT', timestamp: 'DATETIME(6)' } as const;
    const value = (v: unknown) => (v instanceof Date ? v.toISOString().replace('T', ' ').replace('Z', '') : (v ?? null));
    const json = JSON.stringify(rows.map((row) => columns.map((_, i) => value(row[i]))));
    const cols = columns.map((c, i) => `${this.quoteIdentifier(c.name)} ${type[c.type]} PATH '$[${i}]'`).join(', ');
    return { sql: `JSON_TABLE($${first}, '$[*]' COLUMNS (${cols})) AS ${alias}`, bind: [json] };
  },

  affectedRows(result, metadata) {
    // mysql2's ResultSetHeader; a duplicate "updated" to itself counts 0.
    const header = (metadata ?? result) as { affectedRows?: number } | number | null;
    if (typeof header === 'number') return header;
    return Number(header?.affectedRows ?? 0);
  },

  sessionId(connection) {
    const id = (connection as { threadId?: unknown } | null)?.threadId;
    return typeof id === 'number' ? id : undefined;
  },

  async otherActiveSessions(sequelize, excluded, windowMs, database) {
    // Ids are ours (numbers) and the window a number: literals, so that nothing is prepared.
    const ids = [...excluded].filter((id) => Number.isInteger(id));
    const rows = await sequelize.query<{ n: string | number }>(
      `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
        WHERE ID <> CONNECTION_ID() ${ids.length > 0 ? `AND ID NOT IN (${ids.join(', ')})` : ''}
          AND COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Killed') AND USER NOT IN ('system user', 'event_scheduler')
          ${database === undefined ? '' : `AND DB = ${sequelize.escape(database)}`}
          AND (COMMAND <> 'Sleep' OR TIME_MS < ${Math.max(0, Math.round(windowMs))})`,
      { type: QueryTypes.SELECT },
    );
    return Number(rows[0]?.n ?? 0);
  },
};
