import { createRequire } from 'node:module';
import type pgTypes from 'pg';
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
import { advisoryLockKey } from './lock-key.js';

// The driver is loaded on first use: a process that only talks to MariaDB never loads it.
const require = createRequire(import.meta.url);
let pgModule: typeof pgTypes | undefined;
const pg = (): typeof pgTypes => (pgModule ??= require('pg') as typeof pgTypes);

function typeClass(dataType: string): string {
  const t = dataType.toLowerCase();
  if (t === 'integer' || t === 'smallint') return 'integer';
  if (t === 'bigint') return 'bigint';
  if (t.startsWith('character varying') || t === 'character' || t === 'uuid') return 'string';
  if (t === 'text') return 'text';
  if (t === 'boolean') return 'boolean';
  if (t.startsWith('timestamp') || t === 'date') return 'timestamp';
  if (t === 'double precision' || t === 'real' || t === 'numeric') return 'float';
  return 'other';
}

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

/** PostgreSQL: transactional DDL, session advisory locks, `SET LOCAL` timeouts. */
export const postgresDialect: DialectAdapter = {
  name: 'postgres',
  transactionalDdl: true,

  sequelizeOptions(url: DatabaseUrl, pool: PoolOptions): Options {
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
        connectionTimeoutMillis: pool.connectTimeoutMs ?? 10_000,
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

  async tryLock(session, name) {
    const rows = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
      advisoryLockKey(name).key.toString(),
    ]);
    return rows[0]?.locked === true;
  },

  async unlock(session, name) {
    await session.query('SELECT pg_advisory_unlock($1::bigint)', [advisoryLockKey(name).key.toString()]);
  },

  async holdsLock(session, name) {
    const { high, low } = advisoryLockKey(name);
    const rows = await session.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
         AND pid = pg_backend_pid() AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1) AS held`,
      [high, low],
    );
    return rows[0]?.held === true;
  },

  async describeLockHolder(session, name) {
    const { high, low } = advisoryLockKey(name);
    const rows = await session.query<{
      pid: number;
      application_name: string | null;
      client_addr: string | null;
      backend_start: Date | null;
    }>(
      `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.backend_start
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1`,
      [high, low],
    );
    const holder = rows[0];
    if (!holder) return undefined;
    const who = holder.application_name ? `'${holder.application_name}'` : 'a session';
    const from = holder.client_addr ? ` from ${holder.client_addr}` : '';
    const since = holder.backend_start ? ` connected since ${holder.backend_start.toISOString()}` : '';
    return `${who} (server pid ${holder.pid}${from}${since})`;
  },

  async applyTransactionTimeouts(sequelize: Sequelize, transaction: Transaction, timeouts: StatementTimeouts) {
    await sequelize.query(
      `SET LOCAL lock_timeout = ${Math.max(0, Math.trunc(timeouts.lockWaitMs))}; ` +
        `SET LOCAL statement_timeout = ${Math.max(0, Math.trunc(timeouts.statementTimeoutMs))}`,
      { transaction },
    );
  },

  async describeSchema(sequelize, tables) {
    const filter = tables ? tables : null;
    const columns = await sequelize.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
      `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_schema = current_schema() AND ($1::text[] IS NULL OR table_name = ANY($1::text[]))
        ORDER BY table_name, ordinal_position`,
      { bind: [filter], type: QueryTypes.SELECT },
    );
    const indexes = await sequelize.query<{
      table_name: string;
      index_name: string;
      unique: boolean;
      primary: boolean;
      columns: string[];
    }>(
      `SELECT t.relname::text AS table_name, i.relname::text AS index_name, ix.indisunique AS unique, ix.indisprimary AS primary,
              array_agg(a.attname::text ORDER BY k.ord) AS columns
         FROM pg_index ix
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE n.nspname = current_schema() AND ($1::text[] IS NULL OR t.relname = ANY($1::text[]))
        GROUP BY t.relname, i.relname, ix.indisunique, ix.indisprimary`,
      { bind: [filter], type: QueryTypes.SELECT },
    );
    const fks = await sequelize.query<{
      table_name: string;
      name: string;
      columns: string[];
      referenced_table: string;
      referenced_columns: string[];
    }>(
      `SELECT t.relname::text AS table_name, c.conname::text AS name, r.relname::text AS referenced_table,
              array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS columns,
              array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS referenced_columns
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         JOIN pg_class r ON r.oid = c.confrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE c.contype = 'f' AND n.nspname = current_schema() AND ($1::text[] IS NULL OR t.relname = ANY($1::text[]))`,
      { bind: [filter], type: QueryTypes.SELECT },
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
      entry(c.table_name).columns.push({ name: c.column_name, type: typeClass(c.data_type), nullable: c.is_nullable === 'YES' });
    }
    for (const i of indexes) {
      entry(i.table_name).indexes.push({ name: i.index_name, columns: i.columns, unique: i.unique, primary: i.primary });
    }
    for (const f of fks) {
      entry(f.table_name).foreignKeys.push({
        name: f.name,
        columns: f.columns,
        referencedTable: f.referenced_table,
        referencedColumns: f.referenced_columns,
      });
    }
    return [...byTable.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, e]): TableInfo => ({ name, ...e }));
  },

  async createDatabase(session, name) {
    await session.query(`CREATE DATABASE ${this.quoteIdentifier(name)}`);
  },

  async dropDatabase(session, name) {
    await session.query(`DROP DATABASE IF EXISTS ${this.quoteIdentifier(name)} WITH (FORCE)`);
  },

  quoteIdentifier(name) {
    return `"${name.replace(/"/g, '""')}"`;
  },

  insertSkippingDuplicates(table, columns, values) {
    return `INSERT INTO ${this.quoteIdentifier(table)} (${columns.map((c) => this.quoteIdentifier(c)).join(', ')}) VALUES ${values} ON CONFLICT DO NOTHING`;
  },

  insertSelectSkippingDuplicates(table, columns, select) {
    return `INSERT INTO ${this.quoteIdentifier(table)} (${columns.map((c) => this.quoteIdentifier(c)).join(', ')}) ${select} ON CONFLICT DO NOTHING`;
  },

  inBound(column, type, values, first) {
    return { sql: `${column} = ANY($${first}::${type === 'integer' ? 'bigint' : 'text'}[])`, bind: [values] };
  },

  timestampText(expression) {
    return `(${expression})::text`;
  },

  boundRows(alias, columns, rows, first) {
    // One array per column: pg serialises JS arrays (NULLs, Dates, escaping) into array literals.
    const arrays = columns.map((_, i) => rows.map((row) => row[i] ?? null));
    const cast = { text: 'text[]', integer: 'bigint[]', timestamp: 'timestamptz[]' } as const;
    const params = columns.map((c, i) => `$${first + i}::${cast[c.type]}`);
    return { sql: `unnest(${params.join(', ')}) AS ${alias} (${columns.map((c) => this.quoteIdentifier(c.name)).join(', ')})`, bind: arrays };
  },

  affectedRows(_result, metadata) {
    // Sequelize hands back pg's result (rowCount) as the metadata of a raw query.
    if (typeof metadata === 'number') return metadata;
    return Number((metadata as { rowCount?: number } | null)?.rowCount ?? 0);
  },

  sessionId(connection) {
    const pid = (connection as { processID?: unknown } | null)?.processID;
    return typeof pid === 'number' ? pid : undefined;
  },

  async otherActiveSessions(sequelize, excluded, windowMs, database) {
    const rows = await sequelize.query<{ n: string | number }>(
      `SELECT COUNT(*) AS n FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND NOT (pid = ANY($1::int[]))
          AND ($3::text IS NULL OR datname = $3::text)
          AND (state <> 'idle' OR state_change > clock_timestamp() - make_interval(secs => $2::float8 / 1000))`,
      { bind: [[...excluded], windowMs, database ?? null], type: QueryTypes.SELECT },
    );
    return Number(rows[0]?.n ?? 0);
  },
};
