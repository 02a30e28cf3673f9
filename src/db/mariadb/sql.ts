import type { DialectSql } from '../dialect.js';
import { mysql2 } from './driver.js';

/** Quotes a MariaDB identifier. */
export const quote = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

const columnList = (columns: readonly string[]): string => columns.map(quote).join(', ');

/** MariaDB SQL building: `ON DUPLICATE KEY UPDATE`, `JSON_TABLE` bound row sets, literal key lists. */
export const mariadbSql: DialectSql = {
  quoteIdentifier: quote,

  insertSkippingDuplicates(table, columns, values, keyColumn) {
    const key = quote(keyColumn);
    return `INSERT INTO ${quote(table)} (${columnList(columns)}) VALUES ${values} ON DUPLICATE KEY UPDATE ${key} = ${key}`;
  },

  insertSelectSkippingDuplicates(table, columns, select, keyColumn) {
    const t = quote(table);
    // Qualified: in INSERT … SELECT … ON DUPLICATE KEY UPDATE a bare name may also name a SELECT column.
    const key = `${t}.${quote(keyColumn)}`;
    return `INSERT INTO ${t} (${columnList(columns)}) ${select} ON DUPLICATE KEY UPDATE ${key} = ${key}`;
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
    const cols = columns.map((c, i) => `${quote(c.name)} ${type[c.type]} PATH '$[${i}]'`).join(', ');
    return { sql: `JSON_TABLE($${first}, '$[*]' COLUMNS (${cols})) AS ${alias}`, bind: [json] };
  },

  affectedRows(result, metadata) {
    // mysql2's ResultSetHeader; a duplicate "updated" to itself counts 0.
    const header = (metadata ?? result) as { affectedRows?: number } | number | null;
    if (typeof header === 'number') return header;
    return Number(header?.affectedRows ?? 0);
  },
};
