// The declared head schema of both migration lines: the single statement of what a database at the
// newest migration must look like, whatever the dialect. `schema check` compares every database it
// checks against this (Nova's models-versus-migrations test, as a command); a migration that changes
// the schema changes this file in the same commit, or CI fails.
//
// Names are part of the contract (DOMAIN.md §2): operators, movers and tests go by them. Dialect
// artefacts (primary-key index names, MariaDB's implicit foreign-key indexes, the ledger tables) are
// not declared here; src/schema/artefacts.ts removes them from what a database reflects, in one place.
import type { LineId } from '../migrate/types.js';

/** The type classes a reflected column is normalised to (see `ColumnInfo` in src/db/dialect.ts). */
export type TypeClass = 'integer' | 'bigint' | 'string' | 'text' | 'boolean' | 'timestamp' | 'float' | 'other';

export interface DeclaredColumn {
  readonly name: string;
  readonly type: TypeClass;
  readonly nullable: boolean;
}

/** A plain or unique index. A unique constraint is declared as a unique index of the same name. */
export interface DeclaredIndex {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
}

export interface DeclaredForeignKey {
  readonly name: string;
  readonly columns: readonly string[];
  readonly referencedTable: string;
  readonly referencedColumns: readonly string[];
}

export interface DeclaredTable {
  readonly name: string;
  readonly primaryKey: readonly string[];
  readonly columns: readonly DeclaredColumn[];
  readonly indexes: readonly DeclaredIndex[];
  readonly foreignKeys: readonly DeclaredForeignKey[];
}

/** The head schema of one line. */
export interface DeclaredSchema {
  readonly line: LineId;
  readonly tables: readonly DeclaredTable[];
}

/**
 * An object that a database at head still has but the models no longer declare, because a later
 * contract migration will drop it (Nova's `include_object` exclusions in its models-versus-migrations
 * test). `schema check` reports it as allowed, with the reason, instead of as drift.
 */
export interface PlannedRemoval {
  readonly line: LineId;
  readonly table: string;
  /** The column, index or foreign key that goes; none means the whole table. */
  readonly column?: string;
  readonly index?: string;
  readonly foreignKey?: string;
  readonly reason: string;
}

const col = (name: string, type: TypeClass, nullable: boolean): DeclaredColumn => ({ name, type, nullable });
const unique = (name: string, ...columns: string[]): DeclaredIndex => ({ name, columns, unique: true });
const index = (name: string, ...columns: string[]): DeclaredIndex => ({ name, columns, unique: false });
const fk = (name: string, column: string, referencedTable: string): DeclaredForeignKey => ({
  name,
  columns: [column],
  referencedTable,
  referencedColumns: ['id'],
});

const timestamps = [col('created_at', 'timestamp', true), col('updated_at', 'timestamp', true)];
// Cell tables soft-delete (`deleted = id`); API tables do not (DOMAIN.md §2).
const softDelete = [col('deleted_at', 'timestamp', true), col('deleted', 'integer', false)];

function table(name: string, columns: DeclaredColumn[], indexes: DeclaredIndex[] = [], foreignKeys: DeclaredForeignKey[] = []): DeclaredTable {
  return { name, primaryKey: ['id'], columns: [col('id', 'integer', false), ...columns], indexes, foreignKeys };
}

/** The API line at head (`0002_instance_group_unique_keys`). */
const API_HEAD: DeclaredSchema = {
  line: 'api',
  tables: [
    table(
      'cell_mappings',
      [
        col('uuid', 'string', false),
        col('name', 'string', true),
        col('transport_url', 'text', false),
        col('database_connection', 'text', false),
        col('disabled', 'boolean', false),
        ...timestamps,
      ],
      [unique('uniq_cell_mappings0uuid', 'uuid')],
    ),
    table(
      'host_mappings',
      [col('cell_id', 'integer', false), col('host', 'string', false), ...timestamps],
      [unique('uniq_host_mappings0host', 'host')],
      [fk('fk_host_mappings_cell_id', 'cell_id', 'cell_mappings')],
    ),
    table(
      'instance_mappings',
      [col('instance_uuid', 'string', false), col('cell_id', 'integer', true), col('project_id', 'string', false), ...timestamps],
      [unique('uniq_instance_mappings0instance_uuid', 'instance_uuid'), index('project_id_idx', 'project_id')],
      [fk('fk_instance_mappings_cell_id', 'cell_id', 'cell_mappings')],
    ),
    table(
      'instance_groups',
      [col('user_id', 'string', true), col('project_id', 'string', true), col('uuid', 'string', false), col('name', 'string', true), ...timestamps],
      [unique('uniq_instance_groups0uuid', 'uuid')],
    ),
    table(
      'instance_group_policy',
      [col('policy', 'string', true), col('group_id', 'integer', false), ...timestamps],
      // The unique key is not in Nova: the instance-group mover copies idempotently on it.
      [index('instance_group_policy_policy_idx', 'policy'), unique('uniq_instance_group_policy0group_id0policy', 'group_id', 'policy')],
      [fk('fk_instance_group_policy_group_id', 'group_id', 'instance_groups')],
    ),
    table(
      'instance_group_member',
      [col('instance_uuid', 'string', true), col('group_id', 'integer', false), ...timestamps],
      [index('instance_group_member_instance_idx', 'instance_uuid'), unique('uniq_instance_group_member0group_id0instance_uuid', 'group_id', 'instance_uuid')],
      [fk('fk_instance_group_member_group_id', 'group_id', 'instance_groups')],
    ),
  ],
};

/** The cell line at head (`0005_drop_legacy_instance_groups`): the legacy instance-group tables are gone. */
const CELL_HEAD: DeclaredSchema = {
  line: 'cell',
  tables: [
    table(
      'services',
      [
        col('host', 'string', true),
        col('binary', 'string', true),
        col('topic', 'string', true),
        col('report_count', 'integer', false),
        col('disabled', 'boolean', true),
        col('disabled_reason', 'string', true),
        col('forced_down', 'boolean', true),
        col('version', 'integer', true),
        ...timestamps,
        ...softDelete,
        col('last_seen_up', 'timestamp', true),
      ],
      [unique('uniq_services0host0topic0deleted', 'host', 'topic', 'deleted'), unique('uniq_services0host0binary0deleted', 'host', 'binary', 'deleted')],
    ),
    table(
      'compute_nodes',
      [
        // Deprecated by detach-service-from-computenode (the mover nulls it), but still read by the
        // ComputeNode object's backport below 1.2: declared until a contract migration drops it.
        col('service_id', 'integer', true),
        col('hypervisor_hostname', 'string', true),
        col('vcpus', 'integer', true),
        col('memory_mb', 'integer', true),
        col('local_gb', 'integer', true),
        col('vcpus_used', 'integer', true),
        col('memory_mb_used', 'integer', true),
        col('local_gb_used', 'integer', true),
        col('hypervisor_type', 'string', true),
        col('cpu_info', 'text', true),
        ...timestamps,
        ...softDelete,
        col('host', 'string', true),
      ],
      [unique('uniq_compute_nodes0host0hypervisor_hostname0deleted', 'host', 'hypervisor_hostname', 'deleted')],
    ),
    table(
      'instances',
      [
        col('uuid', 'string', false),
        col('host', 'string', true),
        col('node', 'string', true),
        col('project_id', 'string', true),
        col('user_id', 'string', true),
        ...timestamps,
        ...softDelete,
      ],
      [unique('uniq_instances0uuid', 'uuid')],
    ),
  ],
};

/** The declared head schema of each line. */
export const HEAD_MODELS: Readonly<Record<LineId, DeclaredSchema>> = Object.freeze({ api: API_HEAD, cell: CELL_HEAD });

/**
 * Objects a database at head may still have although the models no longer declare them. Empty
 * today: add an entry, with its reason, when the models drop an object before the contract
 * migration that removes it from the databases has shipped.
 */
export const PLANNED_REMOVALS: readonly PlannedRemoval[] = Object.freeze([]);
