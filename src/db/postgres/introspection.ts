import { QueryTypes } from 'sequelize';
import { ACTIVE_CLIENT_WINDOW_MS, type DialectIntrospection } from '../dialect.js';
import { assembleTables } from '../tables.js';

/**
 * The rows of pg_stat_activity that are other clients active now or within a window: client
 * backends other than this session and the `excluded` pids (an int[] parameter), running a statement
 * or in a transaction, or idle for less than `windowMs` (a number parameter, milliseconds).
 */
const otherActiveClients = (excluded: string, windowMs: string): string =>
  `backend_type = 'client backend' AND pid <> pg_backend_pid() AND NOT (pid = ANY(${excluded}::int[]))
     AND (state <> 'idle' OR state_change > clock_timestamp() - make_interval(secs => ${windowMs}::float8 / 1000))`;

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

/** PostgreSQL catalogs (`pg_index`, `pg_constraint`) and `pg_stat_activity`. */
export const postgresIntrospection: DialectIntrospection = {
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
    return assembleTables(
      columns.map((c) => [c.table_name, { name: c.column_name, type: typeClass(c.data_type), nullable: c.is_nullable === 'YES' }]),
      indexes.map((i) => [i.table_name, { name: i.index_name, columns: i.columns, unique: i.unique, primary: i.primary }]),
      fks.map((f) => [f.table_name, { name: f.name, columns: f.columns, referencedTable: f.referenced_table, referencedColumns: f.referenced_columns }]),
    );
  },

  isServerMadeIndex() {
    // A primary key's index (`<table>_pkey`) and a unique constraint's are reflected as such; the
    // server makes no index a migration did not ask for.
    return false;
  },

  async otherActiveSessions(sequelize, excluded, windowMs, database) {
    const rows = await sequelize.query<{ n: string | number }>(
      `SELECT COUNT(*) AS n FROM pg_stat_activity WHERE ${otherActiveClients('$1', '$2')} AND ($3::text IS NULL OR datname = $3::text)`,
      { bind: [[...excluded], windowMs, database ?? null], type: QueryTypes.SELECT },
    );
    return Number(rows[0]?.n ?? 0);
  },

  // One simple-protocol round trip: BEGIN, one transactional WAL record (no table, no lock; a logical
  // decoding consumer sees a message with this prefix and no content), COMMIT, which waits for the flush.
  impactProbes: [`BEGIN; SELECT pg_logical_emit_message(true, 'cellsdb-impact-probe', ''); COMMIT`, 'SELECT 1'],

  async loadMetrics(session, own, databases) {
    const ids = [...own].filter((id) => Number.isInteger(id));
    const rows = await session.query<{ running: string | number; lock_waits: string | number; active: string | number }>(
      `SELECT
         (SELECT COUNT(*) FROM pg_stat_activity
           WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()
             AND NOT (pid = ANY($1::int[])) AND datname = ANY($2::text[])) AS running,
         (SELECT COUNT(*) FROM pg_stat_activity
           WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND NOT (pid = ANY($1::int[]))
             AND pg_blocking_pids(pid) && $1::int[]) AS lock_waits,
         (SELECT COUNT(*) FROM pg_stat_activity WHERE ${otherActiveClients('$1', '$3')}) AS active`,
      [ids, [...databases], ACTIVE_CLIENT_WINDOW_MS],
    );
    return { threadsRunning: Number(rows[0]?.running ?? 0), lockWaits: Number(rows[0]?.lock_waits ?? 0), activeClients: Number(rows[0]?.active ?? 0) };
  },
};
