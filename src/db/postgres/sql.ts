import type { DialectSql } from '../dialect.js';

/** Quotes a PostgreSQL identifier. */
export const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

const columnList = (columns: readonly string[]): string => columns.map(quote).join(', ');

/** PostgreSQL SQL building: `ON CONFLICT DO NOTHING`, typed arrays as bound row sets. */
export const postgresSql: DialectSql = {
  quoteIdentifier: quote,

  insertSkippingDuplicates(table, columns, values) {
    return `INSERT INTO ${quote(table)} (${columnList(columns)}) VALUES ${values} ON CONFLICT DO NOTHING`;
  },

  insertSelectSkippingDuplicates(table, columns, select) {
    return `INSERT INTO ${quote(table)} (${columnList(columns)}) ${select} ON CONFLICT DO NOTHING`;
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
    return { sql: `unnest(${params.join(', ')}) AS ${alias} (${columnList(columns.map((c) => c.name))})`, bind: arrays };
  },

  affectedRows(_result, metadata) {
    // Sequelize hands back pg's result (rowCount) as the metadata of a raw query.
    if (typeof metadata === 'number') return metadata;
    return Number((metadata as { rowCount?: number } | null)?.rowCount ?? 0);
  },
};
