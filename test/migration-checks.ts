// One check per migration, run by the walk test right after that migration on both dialects (STYLE:
// migrations prove themselves; Nova's walk test requires the same). A check asserts, by name, every
// table, column, index, unique key and foreign key its migration creates, changes or removes, so a
// renamed constraint or a dialect quirk fails the walk instead of a mover in production.
import type { ColumnInfo, ForeignKeyInfo, IndexInfo, TableInfo } from '../src/db/dialect.js';
import type { LineId } from '../src/migrate/types.js';

/** The normalised type classes that dialect reflection reports (see {@link ColumnInfo}). */
export type TypeClass = 'integer' | 'bigint' | 'string' | 'text' | 'boolean' | 'timestamp' | 'float' | 'other';

export interface ColumnExpectation {
  readonly type?: TypeClass;
  readonly nullable?: boolean;
}

export interface IndexExpectation {
  /** @default false */
  readonly unique?: boolean;
}

const list = (columns: readonly string[]): string => `(${columns.join(', ')})`;
const sameColumns = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((c, i) => c === b[i]);

/**
 * A reflected schema with assertions that throw an `Error` naming the table and object on mismatch.
 * Each assertion returns the view, so checks can chain. Column order in indexes and keys matters.
 */
export class SchemaView {
  readonly #tables: ReadonlyMap<string, TableInfo>;

  constructor(tables: readonly TableInfo[]) {
    this.#tables = new Map(tables.map((t) => [t.name, t]));
  }

  /** The reflected table; throws when it does not exist. */
  get(name: string): TableInfo {
    const table = this.#tables.get(name);
    if (!table) {
      const known = [...this.#tables.keys()].sort().join(', ') || 'none';
      throw new Error(`Expected table ${name} to exist; tables: ${known}`);
    }
    return table;
  }

  table(name: string): this {
    this.get(name);
    return this;
  }

  noTable(name: string): this {
    if (this.#tables.has(name)) throw new Error(`Expected no table ${name}, but it exists`);
    return this;
  }

  column(table: string, name: string, expected: ColumnExpectation = {}): this {
    const column = this.#column(table, name);
    if (!column) {
      const known = this.get(table).columns.map((c) => c.name).join(', ');
      throw new Error(`Expected column ${table}.${name} to exist; columns: ${known}`);
    }
    if (expected.type !== undefined && column.type !== expected.type) {
      throw new Error(`Expected column ${table}.${name} to be of type ${expected.type}, but it is ${column.type}`);
    }
    if (expected.nullable !== undefined && column.nullable !== expected.nullable) {
      const word = (nullable: boolean) => (nullable ? 'nullable' : 'NOT NULL');
      throw new Error(`Expected column ${table}.${name} to be ${word(expected.nullable)}, but it is ${word(column.nullable)}`);
    }
    return this;
  }

  noColumn(table: string, name: string): this {
    if (this.#column(table, name)) throw new Error(`Expected no column ${table}.${name}, but it exists`);
    return this;
  }

  /** A plain (non-primary) index of that name on exactly these columns, in order. */
  index(table: string, name: string, columns: readonly string[], expected: IndexExpectation = {}): this {
    const unique = expected.unique ?? false;
    const index = this.#index(table, name, 'index');
    this.#expectColumns(`index ${table}.${name}`, index.columns, columns);
    if (index.unique !== unique) {
      throw new Error(`Expected index ${table}.${name} to be ${unique ? 'unique' : 'non-unique'}, but it is ${index.unique ? 'unique' : 'non-unique'}`);
    }
    return this;
  }

  /**
   * A unique key of that name on exactly these columns, in order. A unique constraint counts: both
   * dialects reflect it as a unique index of the same name.
   */
  uniqueKey(table: string, name: string, columns: readonly string[]): this {
    const index = this.#index(table, name, 'unique key');
    this.#expectColumns(`unique key ${table}.${name}`, index.columns, columns);
    if (!index.unique) throw new Error(`Expected ${table}.${name} to be a unique key, but it is a non-unique index`);
    return this;
  }

  /** The primary key is on exactly these columns. */
  primaryKey(table: string, columns: readonly string[]): this {
    const primary = this.get(table).indexes.find((i) => i.primary);
    if (!primary) throw new Error(`Expected table ${table} to have a primary key, but it has none`);
    this.#expectColumns(`primary key of ${table}`, primary.columns, columns);
    return this;
  }

  noIndex(table: string, name: string): this {
    if (this.get(table).indexes.some((i) => i.name === name)) {
      throw new Error(`Expected no index or unique key ${table}.${name}, but it exists`);
    }
    return this;
  }

  /** No non-primary index of any name covers exactly these columns (e.g. one a dialect made implicitly). */
  noIndexOn(table: string, columns: readonly string[]): this {
    const found = this.get(table).indexes.find((i) => !i.primary && sameColumns(i.columns, columns));
    if (found) throw new Error(`Expected no index on ${table}${list(columns)}, but ${found.name} covers it`);
    return this;
  }

  foreignKey(table: string, name: string, columns: readonly string[], refTable: string): this {
    const fk = this.#foreignKey(table, name);
    if (!fk) {
      const known = this.get(table).foreignKeys.map((f) => f.name).join(', ') || 'none';
      throw new Error(`Expected foreign key ${table}.${name} to exist; foreign keys: ${known}`);
    }
    this.#expectColumns(`foreign key ${table}.${name}`, fk.columns, columns);
    if (fk.referencedTable !== refTable) {
      throw new Error(`Expected foreign key ${table}.${name} to reference ${refTable}, but it references ${fk.referencedTable}`);
    }
    return this;
  }

  noForeignKey(table: string, name: string): this {
    if (this.#foreignKey(table, name)) throw new Error(`Expected no foreign key ${table}.${name}, but it exists`);
    return this;
  }

  #column(table: string, name: string): ColumnInfo | undefined {
    return this.get(table).columns.find((c) => c.name === name);
  }

  #foreignKey(table: string, name: string): ForeignKeyInfo | undefined {
    return this.get(table).foreignKeys.find((f) => f.name === name);
  }

  #index(table: string, name: string, what: string): IndexInfo {
    const index = this.get(table).indexes.find((i) => i.name === name && !i.primary);
    if (!index) {
      const known = this.get(table).indexes.filter((i) => !i.primary).map((i) => `${i.name}${list(i.columns)}`).join(', ') || 'none';
      throw new Error(`Expected ${what} ${table}.${name} to exist; indexes: ${known}`);
    }
    return index;
  }

  #expectColumns(what: string, actual: readonly string[], expected: readonly string[]): void {
    if (!sameColumns(actual, expected)) {
      throw new Error(`Expected ${what} to cover ${list(expected)}, but it covers ${list(actual)}`);
    }
  }
}

const CELL_TABLES = ['services', 'compute_nodes', 'instances', 'instance_groups', 'instance_group_policy', 'instance_group_member'];

/** id PK plus the timestamps every table carries. */
function expectBaseColumns(schema: SchemaView, table: string): void {
  schema
    .table(table)
    .column(table, 'id', { type: 'integer', nullable: false })
    .primaryKey(table, ['id'])
    .column(table, 'created_at', { type: 'timestamp', nullable: true })
    .column(table, 'updated_at', { type: 'timestamp', nullable: true });
}

function expectApiTable(schema: SchemaView, table: string): void {
  expectBaseColumns(schema, table);
  schema.noColumn(table, 'deleted').noColumn(table, 'deleted_at');
}

function expectCellTable(schema: SchemaView, table: string): void {
  expectBaseColumns(schema, table);
  schema
    .column(table, 'deleted_at', { type: 'timestamp', nullable: true })
    .column(table, 'deleted', { type: 'integer', nullable: false });
}

function checkInitialApiSchema(schema: SchemaView): void {
  for (const table of ['cell_mappings', 'host_mappings', 'instance_mappings', 'instance_groups', 'instance_group_policy', 'instance_group_member']) {
    expectApiTable(schema, table);
  }
  // The API line must not create cell tables (instance_groups exists in both lines, under other keys).
  schema.noTable('services').noTable('compute_nodes').noTable('instances');

  schema
    .column('cell_mappings', 'uuid', { type: 'string', nullable: false })
    .column('cell_mappings', 'name', { type: 'string', nullable: true })
    .column('cell_mappings', 'transport_url', { type: 'text', nullable: false })
    .column('cell_mappings', 'database_connection', { type: 'text', nullable: false })
    .column('cell_mappings', 'disabled', { type: 'boolean', nullable: false })
    .uniqueKey('cell_mappings', 'uniq_cell_mappings0uuid', ['uuid']);

  schema
    .column('host_mappings', 'cell_id', { type: 'integer', nullable: false })
    .column('host_mappings', 'host', { type: 'string', nullable: false })
    .uniqueKey('host_mappings', 'uniq_host_mappings0host', ['host'])
    .foreignKey('host_mappings', 'fk_host_mappings_cell_id', ['cell_id'], 'cell_mappings');

  schema
    .column('instance_mappings', 'instance_uuid', { type: 'string', nullable: false })
    .column('instance_mappings', 'cell_id', { type: 'integer', nullable: true })
    .column('instance_mappings', 'project_id', { type: 'string', nullable: false })
    .uniqueKey('instance_mappings', 'uniq_instance_mappings0instance_uuid', ['instance_uuid'])
    .index('instance_mappings', 'project_id_idx', ['project_id'])
    .foreignKey('instance_mappings', 'fk_instance_mappings_cell_id', ['cell_id'], 'cell_mappings');

  schema
    .column('instance_groups', 'user_id', { type: 'string', nullable: true })
    .column('instance_groups', 'project_id', { type: 'string', nullable: true })
    .column('instance_groups', 'uuid', { type: 'string', nullable: false })
    .column('instance_groups', 'name', { type: 'string', nullable: true })
    .uniqueKey('instance_groups', 'uniq_instance_groups0uuid', ['uuid']);

  schema
    .column('instance_group_policy', 'policy', { type: 'string', nullable: true })
    .column('instance_group_policy', 'group_id', { type: 'integer', nullable: false })
    .index('instance_group_policy', 'instance_group_policy_policy_idx', ['policy'])
    .foreignKey('instance_group_policy', 'fk_instance_group_policy_group_id', ['group_id'], 'instance_groups')
    // Nova's schema: the unique key the mover needs comes with 0002.
    .noIndex('instance_group_policy', 'uniq_instance_group_policy0group_id0policy');

  schema
    .column('instance_group_member', 'instance_uuid', { type: 'string', nullable: true })
    .column('instance_group_member', 'group_id', { type: 'integer', nullable: false })
    .index('instance_group_member', 'instance_group_member_instance_idx', ['instance_uuid'])
    .foreignKey('instance_group_member', 'fk_instance_group_member_group_id', ['group_id'], 'instance_groups')
    .noIndex('instance_group_member', 'uniq_instance_group_member0group_id0instance_uuid');
}

function checkInstanceGroupUniqueKeys(schema: SchemaView): void {
  schema
    .uniqueKey('instance_group_policy', 'uniq_instance_group_policy0group_id0policy', ['group_id', 'policy'])
    .foreignKey('instance_group_policy', 'fk_instance_group_policy_group_id', ['group_id'], 'instance_groups')
    .uniqueKey('instance_group_member', 'uniq_instance_group_member0group_id0instance_uuid', ['group_id', 'instance_uuid'])
    .foreignKey('instance_group_member', 'fk_instance_group_member_group_id', ['group_id'], 'instance_groups');
}

function checkInitialCellSchema(schema: SchemaView): void {
  for (const table of CELL_TABLES) expectCellTable(schema, table);
  schema.noTable('cell_mappings').noTable('host_mappings').noTable('instance_mappings');

  schema
    .column('services', 'host', { type: 'string', nullable: true })
    .column('services', 'binary', { type: 'string', nullable: true })
    .column('services', 'topic', { type: 'string', nullable: true })
    .column('services', 'report_count', { type: 'integer', nullable: false })
    .column('services', 'disabled', { type: 'boolean', nullable: true })
    .column('services', 'disabled_reason', { type: 'string', nullable: true })
    .column('services', 'forced_down', { type: 'boolean', nullable: true })
    .column('services', 'version', { type: 'integer', nullable: true })
    .uniqueKey('services', 'uniq_services0host0topic0deleted', ['host', 'topic', 'deleted'])
    .uniqueKey('services', 'uniq_services0host0binary0deleted', ['host', 'binary', 'deleted'])
    // Added by 0003, not here.
    .noColumn('services', 'last_seen_up');

  schema
    .column('compute_nodes', 'service_id', { type: 'integer', nullable: false })
    .column('compute_nodes', 'hypervisor_hostname', { type: 'string', nullable: true })
    .column('compute_nodes', 'hypervisor_type', { type: 'string', nullable: true })
    .column('compute_nodes', 'cpu_info', { type: 'text', nullable: true })
    .foreignKey('compute_nodes', 'fk_compute_nodes_service_id', ['service_id'], 'services')
    // Added by 0002, not here: the walk must replay an old cell's shape.
    .noColumn('compute_nodes', 'host')
    .noIndex('compute_nodes', 'uniq_compute_nodes0host0hypervisor_hostname0deleted');
  for (const column of ['vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used', 'local_gb_used']) {
    schema.column('compute_nodes', column, { type: 'integer', nullable: true });
  }

  schema
    .column('instances', 'uuid', { type: 'string', nullable: false })
    .column('instances', 'host', { type: 'string', nullable: true })
    .column('instances', 'node', { type: 'string', nullable: true })
    .column('instances', 'project_id', { type: 'string', nullable: true })
    .column('instances', 'user_id', { type: 'string', nullable: true })
    .uniqueKey('instances', 'uniq_instances0uuid', ['uuid']);

  schema
    .column('instance_groups', 'user_id', { type: 'string', nullable: true })
    .column('instance_groups', 'project_id', { type: 'string', nullable: true })
    .column('instance_groups', 'uuid', { type: 'string', nullable: false })
    .column('instance_groups', 'name', { type: 'string', nullable: true })
    .uniqueKey('instance_groups', 'uniq_instance_groups0uuid0deleted', ['uuid', 'deleted']);

  schema
    .column('instance_group_policy', 'policy', { type: 'string', nullable: true })
    .column('instance_group_policy', 'group_id', { type: 'integer', nullable: false })
    .index('instance_group_policy', 'instance_group_policy_policy_idx', ['policy'])
    .index('instance_group_policy', 'instance_group_policy_group_id_idx', ['group_id'])
    .foreignKey('instance_group_policy', 'fk_instance_group_policy_group_id', ['group_id'], 'instance_groups')
    // The legacy tables have no unique key on (group_id, …); those belong to the API line only.
    .noIndex('instance_group_policy', 'uniq_instance_group_policy0group_id0policy');

  schema
    .column('instance_group_member', 'instance_id', { type: 'string', nullable: true })
    .column('instance_group_member', 'group_id', { type: 'integer', nullable: false })
    .noColumn('instance_group_member', 'instance_uuid')
    .index('instance_group_member', 'instance_group_member_instance_idx', ['instance_id'])
    .index('instance_group_member', 'instance_group_member_group_id_idx', ['group_id'])
    .foreignKey('instance_group_member', 'fk_instance_group_member_group_id', ['group_id'], 'instance_groups')
    .noIndex('instance_group_member', 'uniq_instance_group_member0group_id0instance_uuid');
}

function checkComputeNodesHostExpand(schema: SchemaView): void {
  schema
    .column('compute_nodes', 'host', { type: 'string', nullable: true })
    .column('compute_nodes', 'service_id', { type: 'integer', nullable: true })
    .noForeignKey('compute_nodes', 'fk_compute_nodes_service_id')
    // MariaDB's implicit FK index must have gone with the FK.
    .noIndexOn('compute_nodes', ['service_id'])
    .uniqueKey('compute_nodes', 'uniq_compute_nodes0host0hypervisor_hostname0deleted', ['host', 'hypervisor_hostname', 'deleted']);
}

function checkServicesLastSeenUp(schema: SchemaView): void {
  schema.column('services', 'last_seen_up', { type: 'timestamp', nullable: true });
}

function checkBlockUntilMoversDone(schema: SchemaView): void {
  // A blocker changes nothing: the legacy tables are still there for the contract step to drop.
  for (const table of ['instance_groups', 'instance_group_policy', 'instance_group_member', 'compute_nodes', 'services', 'instances']) schema.table(table);
  schema.column('compute_nodes', 'host', { type: 'string', nullable: true }).column('services', 'last_seen_up', { type: 'timestamp', nullable: true });
}

function checkDropLegacyInstanceGroups(schema: SchemaView): void {
  schema.noTable('instance_groups').noTable('instance_group_policy').noTable('instance_group_member');
  for (const table of ['compute_nodes', 'services', 'instances']) schema.table(table);
}

/** Per line, per migration name (its file name without extension), the check to run after it. */
export const migrationChecks: Record<LineId, Record<string, (schema: SchemaView) => void>> = {
  api: {
    '0001_initial_api_schema': checkInitialApiSchema,
    '0002_instance_group_unique_keys': checkInstanceGroupUniqueKeys,
  },
  cell: {
    '0001_initial_cell_schema': checkInitialCellSchema,
    '0002_compute_nodes_host_expand': checkComputeNodesHostExpand,
    '0003_services_last_seen_up': checkServicesLastSeenUp,
    '0004_block_until_movers_done': checkBlockUntilMoversDone,
    '0005_drop_legacy_instance_groups': checkDropLegacyInstanceGroups,
  },
};
