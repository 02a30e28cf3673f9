// A cell database as a pre-cells-v2 Nova left it: services, compute_nodes still tied to their service
// by a NOT NULL foreign key and no host column, instances, and the legacy instance-group tables that
// the instance-group mover later copies to the API database. Later migrations replay Nova's history
// from here (host expand, last_seen_up) so that an old cell can be upgraded step by step.
//
// Every cell table soft-deletes (`deleted = id` marks a deleted row), which is why the unique keys end
// in `deleted`: a deleted row must not block a live one with the same natural key.
//
// Constraints and foreign keys are added by name rather than inline so that both dialects end up with
// the same names; `schema check` and operators go by them. Foreign keys are NO ACTION, as in Nova:
// rows are soft-deleted, so a hard delete of a parent with children is a bug to surface, not cascade.
import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/migrate/types.js';

// Factories, not shared objects: Sequelize normalises attribute definitions in place.
const idColumn = () => ({ type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false });
const timestampAndSoftDeleteColumns = () => ({
  created_at: { type: DataTypes.DATE, allowNull: true },
  updated_at: { type: DataTypes.DATE, allowNull: true },
  deleted_at: { type: DataTypes.DATE, allowNull: true },
  deleted: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
});

/** Every step looks before it acts: a run killed half way (MariaDB) is completed by the next sync. */
export const resumable = true;

export async function up({ steps }: MigrationContext): Promise<void> {
  // last_seen_up is deliberately absent: 0003 adds it, as Nova did, so that the walk replays history.
  await steps.createTable('services', {
    id: idColumn(),
    host: { type: DataTypes.STRING(255), allowNull: true },
    binary: { type: DataTypes.STRING(255), allowNull: true },
    topic: { type: DataTypes.STRING(255), allowNull: true },
    report_count: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    disabled: { type: DataTypes.BOOLEAN, allowNull: true, defaultValue: false },
    disabled_reason: { type: DataTypes.STRING(255), allowNull: true },
    forced_down: { type: DataTypes.BOOLEAN, allowNull: true, defaultValue: false },
    version: { type: DataTypes.INTEGER, allowNull: true, defaultValue: 0 },
    ...timestampAndSoftDeleteColumns(),
  });
  await steps.addUnique('services', 'uniq_services0host0topic0deleted', ['host', 'topic', 'deleted']);
  await steps.addUnique('services', 'uniq_services0host0binary0deleted', ['host', 'binary', 'deleted']);

  // The pre-Kilo shape: a node belongs to its service by id only. MariaDB adds an implicit index on
  // service_id for the FK; 0002 drops it together with the FK, as Nova's migration 278 did.
  await steps.createTable('compute_nodes', {
    id: idColumn(),
    service_id: { type: DataTypes.INTEGER, allowNull: false },
    hypervisor_hostname: { type: DataTypes.STRING(255), allowNull: true },
    vcpus: { type: DataTypes.INTEGER, allowNull: true },
    memory_mb: { type: DataTypes.INTEGER, allowNull: true },
    local_gb: { type: DataTypes.INTEGER, allowNull: true },
    vcpus_used: { type: DataTypes.INTEGER, allowNull: true },
    memory_mb_used: { type: DataTypes.INTEGER, allowNull: true },
    local_gb_used: { type: DataTypes.INTEGER, allowNull: true },
    hypervisor_type: { type: DataTypes.STRING(255), allowNull: true },
    cpu_info: { type: DataTypes.TEXT, allowNull: true },
    ...timestampAndSoftDeleteColumns(),
  });
  await steps.addForeignKey('compute_nodes', 'fk_compute_nodes_service_id', { fields: ['service_id'], table: 'services' });

  await steps.createTable('instances', {
    id: idColumn(),
    uuid: { type: DataTypes.STRING(36), allowNull: false },
    host: { type: DataTypes.STRING(255), allowNull: true },
    node: { type: DataTypes.STRING(255), allowNull: true },
    project_id: { type: DataTypes.STRING(255), allowNull: true },
    user_id: { type: DataTypes.STRING(255), allowNull: true },
    ...timestampAndSoftDeleteColumns(),
  });
  await steps.addUnique('instances', 'uniq_instances0uuid', ['uuid']);

  // The legacy instance-group tables, as Nova kept them in each cell before Newton moved groups to
  // the API database.
  await steps.createTable('instance_groups', {
    id: idColumn(),
    user_id: { type: DataTypes.STRING(255), allowNull: true },
    project_id: { type: DataTypes.STRING(255), allowNull: true },
    uuid: { type: DataTypes.STRING(36), allowNull: false },
    name: { type: DataTypes.STRING(255), allowNull: true },
    ...timestampAndSoftDeleteColumns(),
  });
  await steps.addUnique('instance_groups', 'uniq_instance_groups0uuid0deleted', ['uuid', 'deleted']);

  // The group_id indexes are created before the FKs so that MariaDB uses them for the FKs instead of
  // adding implicit indexes of its own that PostgreSQL would not have.
  await steps.createTable('instance_group_policy', {
    id: idColumn(),
    policy: { type: DataTypes.STRING(255), allowNull: true },
    group_id: { type: DataTypes.INTEGER, allowNull: false },
    ...timestampAndSoftDeleteColumns(),
  });
  await steps.addIndex('instance_group_policy', 'instance_group_policy_policy_idx', ['policy']);
  await steps.addIndex('instance_group_policy', 'instance_group_policy_group_id_idx', ['group_id']);
  await steps.addForeignKey('instance_group_policy', 'fk_instance_group_policy_group_id', { fields: ['group_id'], table: 'instance_groups' });

  await steps.createTable('instance_group_member', {
    id: idColumn(),
    // Holds the instance's uuid despite its name (Nova); the API table calls it instance_uuid.
    instance_id: { type: DataTypes.STRING(255), allowNull: true },
    group_id: { type: DataTypes.INTEGER, allowNull: false },
    ...timestampAndSoftDeleteColumns(),
  });
  await steps.addIndex('instance_group_member', 'instance_group_member_instance_idx', ['instance_id']);
  await steps.addIndex('instance_group_member', 'instance_group_member_group_id_idx', ['group_id']);
  await steps.addForeignKey('instance_group_member', 'fk_instance_group_member_group_id', { fields: ['group_id'], table: 'instance_groups' });
}
