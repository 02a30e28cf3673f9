import { QueryTypes } from 'sequelize';
import { ACTIVE_CLIENT_WINDOW_MS, type DialectIntrospection, type ForeignKeyInfo, type IndexInfo } from '../dialect.js';
import { assembleTables } from '../tables.js';

/**
 * The PROCESSLIST rows that are other clients active now or within `windowMs`: sessions other than
 * this one and `excluded` (server ids, written as literals: they are numbers), not the server's own
 * threads, running a statement or asleep for less than the window.
 */
const otherActiveClients = (excluded: readonly number[], windowMs: number): string =>
  `ID <> CONNECTION_ID() ${excluded.length > 0 ? `AND ID NOT IN (${excluded.join(', ')})` : ''}
     AND COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Killed') AND USER NOT IN ('system user', 'event_scheduler')
     AND (COMMAND <> 'Sleep' OR TIME_MS < ${Math.max(0, Math.round(windowMs))})`;

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

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** Gathers per-column catalog rows into one entry per table and name, in their order. */
function gather<Row extends { t: string }, T>(rows: readonly Row[], key: (row: Row) => string, start: (row: Row) => T, add: (entry: T, row: Row) => void): Array<[string, T]> {
  const out = new Map<string, [string, T]>();
  for (const row of rows) {
    const k = `${row.t}\u0000${key(row)}`;
    let entry = out.get(k);
    if (!entry) {
      entry = [row.t, start(row)];
      out.set(k, entry);
    }
    add(entry[1], row);
  }
  return [...out.values()];
}

/** MariaDB `information_schema` and `PROCESSLIST`. */
export const mariadbIntrospection: DialectIntrospection = {
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
    return assembleTables(
      columns.map((c) => [c.t, { name: c.c, type: typeClass(c.dt, c.ct), nullable: c.n === 'YES' }]),
      gather(
        indexRows,
        (r) => r.i,
        (r): IndexInfo & { columns: string[] } => ({ name: r.i, columns: [], unique: Number(r.nu) === 0, primary: r.i === 'PRIMARY' }),
        (e, r) => e.columns.push(r.c),
      ),
      gather(
        fkRows,
        (r) => r.n,
        (r): ForeignKeyInfo & { columns: string[]; referencedColumns: string[] } => ({ name: r.n, columns: [], referencedTable: r.rt, referencedColumns: [] }),
        (e, r) => {
          e.columns.push(r.c);
          e.referencedColumns.push(r.rc);
        },
      ),
    );
  },

  isServerMadeIndex(table, index) {
    // InnoDB needs an index whose leading columns are a foreign key's, and makes one named after
    // the constraint when there is none: a non-unique index with a live foreign key's name and
    // exactly its columns is that. One left behind after its foreign key was dropped is not.
    if (index.unique || index.primary) return false;
    return table.foreignKeys.some((f) => f.name === index.name && sameList(f.columns, index.columns));
  },

  async otherActiveSessions(sequelize, excluded, windowMs, database) {
    // Ids are ours (numbers) and the window a number: literals, so that nothing is prepared.
    const ids = [...excluded].filter((id) => Number.isInteger(id));
    const rows = await sequelize.query<{ n: string | number }>(
      `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
        WHERE ${otherActiveClients(ids, windowMs)} ${database === undefined ? '' : `AND DB = ${sequelize.escape(database)}`}`,
      { type: QueryTypes.SELECT },
    );
    return Number(rows[0]?.n ?? 0);
  },

  impactProbes: ['SELECT 1'],

  async loadMetrics(session, own, databases) {
    // Ids are ours (numbers), names are escaped by the driver: nothing is prepared.
    const ids = [...own].filter((id) => Number.isInteger(id));
    const idList = ids.length > 0 ? ids.join(', ') : '-1';
    const rows = await session.query<{ running: string | number; lock_waits: string | number; active: string | number }>(
      `SELECT
         (SELECT COUNT(*) FROM information_schema.PROCESSLIST
           WHERE ID <> CONNECTION_ID() AND ID NOT IN (${idList})
             AND COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Killed') AND USER NOT IN ('system user', 'event_scheduler')
             AND DB IN (?)) AS running,
         (SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ${otherActiveClients(ids, ACTIVE_CLIENT_WINDOW_MS)}) AS active,
         (SELECT COUNT(*) FROM information_schema.INNODB_LOCK_WAITS w
            JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id
            JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id
           WHERE b.trx_mysql_thread_id IN (${idList}) AND r.trx_mysql_thread_id NOT IN (${idList})) AS lock_waits`,
      [databases.length > 0 ? [...databases] : ['']],
    );
    return { threadsRunning: Number(rows[0]?.running ?? 0), lockWaits: Number(rows[0]?.lock_waits ?? 0), activeClients: Number(rows[0]?.active ?? 0) };
  },
};
