// What a database reflects but nobody declared: the dialect's own artefacts and the toolkit's
// bookkeeping. Every one of them is removed here, in one place, so that the drift check compares what
// the migrations meant and never reports a dialect's habit as drift:
//
// * The ledger tables (`cellsdb_migrations_api`, `cellsdb_migrations_cell`): the migrator's own.
// * The primary key's index: PostgreSQL names it `<table>_pkey`, MariaDB `PRIMARY`. Only its
//   columns are compared.
// * Indexes the server made by itself, which the dialect's introspection knows (`isServerMadeIndex`):
//   MariaDB's implicit foreign-key index, which InnoDB creates named after the constraint when no
//   index leads with the FK's columns (e.g. `fk_host_mappings_cell_id`). One left behind after its
//   foreign key was dropped is not an artefact: that is real drift (migration 0002 drops it for that
//   reason, as Nova's 278 did).
// * Unique constraints and unique indexes: both dialects reflect a unique constraint as a unique
//   index of its name (PostgreSQL backs the constraint with one; MariaDB has no difference), so the
//   models declare both as unique indexes.
import type { TableInfo } from '../db/dialect.js';
import { dialectFor } from '../db/dialects.js';
import { LINES } from '../migrate/lines.js';
import type { Dialect } from '../url/index.js';
import type { DeclaredSchema, TypeClass } from './models.js';

/** A table as the drift check compares it: declared or reflected, artefacts removed. */
export interface TableShape {
  readonly name: string;
  readonly primaryKey: readonly string[] | null;
  readonly columns: ReadonlyMap<string, { readonly type: string; readonly nullable: boolean }>;
  readonly indexes: ReadonlyMap<string, { readonly columns: readonly string[]; readonly unique: boolean }>;
  readonly foreignKeys: ReadonlyMap<string, { readonly columns: readonly string[]; readonly referencedTable: string; readonly referencedColumns: readonly string[] }>;
}

/** A schema as the drift check compares it. */
export type SchemaShape = ReadonlyMap<string, TableShape>;

/** Tables the toolkit keeps for itself in every database it migrates. */
export const BOOKKEEPING_TABLES: ReadonlySet<string> = new Set(Object.values(LINES).map((l) => l.ledgerTable));

/** The shape of a reflected schema, with every artefact listed above removed. */
export function shapeFromDatabase(tables: readonly TableInfo[], dialect: Dialect): SchemaShape {
  const { isServerMadeIndex } = dialectFor(dialect);
  const out = new Map<string, TableShape>();
  for (const t of tables) {
    if (BOOKKEEPING_TABLES.has(t.name)) continue;
    const primary = t.indexes.find((i) => i.primary);
    out.set(t.name, {
      name: t.name,
      primaryKey: primary ? primary.columns : null,
      columns: new Map(t.columns.map((c) => [c.name, { type: c.type, nullable: c.nullable }])),
      indexes: new Map(t.indexes.filter((i) => !i.primary && !isServerMadeIndex(t, i)).map((i) => [i.name, { columns: i.columns, unique: i.unique }])),
      foreignKeys: new Map(t.foreignKeys.map((f) => [f.name, { columns: f.columns, referencedTable: f.referencedTable, referencedColumns: f.referencedColumns }])),
    });
  }
  return out;
}

/** The shape of the declared models. */
export function shapeFromModels(schema: DeclaredSchema): SchemaShape {
  const out = new Map<string, TableShape>();
  for (const t of schema.tables) {
    out.set(t.name, {
      name: t.name,
      primaryKey: t.primaryKey,
      columns: new Map(t.columns.map((c) => [c.name, { type: c.type satisfies TypeClass, nullable: c.nullable }])),
      indexes: new Map(t.indexes.map((i) => [i.name, { columns: i.columns, unique: i.unique }])),
      foreignKeys: new Map(t.foreignKeys.map((f) => [f.name, { columns: f.columns, referencedTable: f.referencedTable, referencedColumns: f.referencedColumns }])),
    });
  }
  return out;
}
