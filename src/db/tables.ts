import type { ColumnInfo, ForeignKeyInfo, IndexInfo, TableInfo } from './dialect.js';

/** A reflected column, index or foreign key, with the table it belongs to. */
type Of<T> = readonly [table: string, info: T];

/**
 * Reflected tables, sorted by name, from what a dialect's catalog returned: columns in their
 * order, indexes and foreign keys (each already gathered from its per-column rows).
 */
export function assembleTables(columns: ReadonlyArray<Of<ColumnInfo>>, indexes: ReadonlyArray<Of<IndexInfo>>, foreignKeys: ReadonlyArray<Of<ForeignKeyInfo>>): TableInfo[] {
  const byTable = new Map<string, { columns: ColumnInfo[]; indexes: IndexInfo[]; foreignKeys: ForeignKeyInfo[] }>();
  const entry = (name: string) => {
    let e = byTable.get(name);
    if (!e) {
      e = { columns: [], indexes: [], foreignKeys: [] };
      byTable.set(name, e);
    }
    return e;
  };
  for (const [table, c] of columns) entry(table).columns.push(c);
  for (const [table, i] of indexes) entry(table).indexes.push(i);
  for (const [table, f] of foreignKeys) entry(table).foreignKeys.push(f);
  return [...byTable.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, e]): TableInfo => ({ name, ...e }));
}
