// The API database as cells v2 needs it: where each cell lives (cell_mappings), which cell owns each
// compute host and each instance (host_mappings, instance_mappings), and the instance groups that Nova
// Newton moved up from the cell databases. As in Nova, API tables carry no soft-delete columns: a
// mapping is either there or gone.
//
// Constraints and foreign keys are added by name rather than inline so that both dialects end up with
// the same names (inline FKs get generated names that differ between PostgreSQL and MariaDB), and the
// names are what `schema check` and operators go by. Foreign keys are NO ACTION, as in Nova: deleting
// a cell that still has hosts or instances mapped must fail rather than cascade (delete_cell reports
// them first).
import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/migrate/types.js';

// Factories, not shared objects: Sequelize normalises attribute definitions in place.
const idColumn = () => ({ type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false });
const timestampColumns = () => ({
  created_at: { type: DataTypes.DATE, allowNull: true },
  updated_at: { type: DataTypes.DATE, allowNull: true },
});

/** Every step looks before it acts: a run killed half way (MariaDB) is completed by the next sync. */
export const resumable = true;

export async function up({ steps }: MigrationContext): Promise<void> {

  await steps.createTable('cell_mappings', {
    id: idColumn(),
    uuid: { type: DataTypes.STRING(36), allowNull: false },
    name: { type: DataTypes.STRING(255), allowNull: true },
    // Both URLs may embed passwords; TEXT because a transport_url can list many brokers.
    transport_url: { type: DataTypes.TEXT, allowNull: false },
    database_connection: { type: DataTypes.TEXT, allowNull: false },
    disabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    ...timestampColumns(),
  });
  await steps.addUnique('cell_mappings', 'uniq_cell_mappings0uuid', ['uuid']);

  await steps.createTable('host_mappings', {
    id: idColumn(),
    cell_id: { type: DataTypes.INTEGER, allowNull: false },
    host: { type: DataTypes.STRING(255), allowNull: false },
    ...timestampColumns(),
  });
  await steps.addUnique('host_mappings', 'uniq_host_mappings0host', ['host']);
  await steps.addForeignKey('host_mappings', 'fk_host_mappings_cell_id', { fields: ['cell_id'], table: 'cell_mappings' });

  await steps.createTable('instance_mappings', {
    id: idColumn(),
    instance_uuid: { type: DataTypes.STRING(36), allowNull: false },
    // NULL while an instance is still in the API's build request, before a cell is chosen (Nova).
    cell_id: { type: DataTypes.INTEGER, allowNull: true },
    project_id: { type: DataTypes.STRING(255), allowNull: false },
    ...timestampColumns(),
  });
  await steps.addUnique('instance_mappings', 'uniq_instance_mappings0instance_uuid', ['instance_uuid']);
  await steps.addIndex('instance_mappings', 'project_id_idx', ['project_id']);
  await steps.addForeignKey('instance_mappings', 'fk_instance_mappings_cell_id', { fields: ['cell_id'], table: 'cell_mappings' });

  await steps.createTable('instance_groups', {
    id: idColumn(),
    user_id: { type: DataTypes.STRING(255), allowNull: true },
    project_id: { type: DataTypes.STRING(255), allowNull: true },
    uuid: { type: DataTypes.STRING(36), allowNull: false },
    name: { type: DataTypes.STRING(255), allowNull: true },
    ...timestampColumns(),
  });
  await steps.addUnique('instance_groups', 'uniq_instance_groups0uuid', ['uuid']);

  await steps.createTable('instance_group_policy', {
    id: idColumn(),
    policy: { type: DataTypes.STRING(255), allowNull: true },
    group_id: { type: DataTypes.INTEGER, allowNull: false },
    ...timestampColumns(),
  });
  await steps.addIndex('instance_group_policy', 'instance_group_policy_policy_idx', ['policy']);
  // The unique key on (group_id, policy) that the instance-group mover copies on is not Nova's: it
  // is added by 0002, so that a Nova API database matches this migration and can be baselined at it.
  await steps.addForeignKey('instance_group_policy', 'fk_instance_group_policy_group_id', { fields: ['group_id'], table: 'instance_groups' });

  await steps.createTable('instance_group_member', {
    id: idColumn(),
    instance_uuid: { type: DataTypes.STRING(255), allowNull: true },
    group_id: { type: DataTypes.INTEGER, allowNull: false },
    ...timestampColumns(),
  });
  await steps.addIndex('instance_group_member', 'instance_group_member_instance_idx', ['instance_uuid']);
  // (group_id, instance_uuid) unique: 0002, as above.
  await steps.addForeignKey('instance_group_member', 'fk_instance_group_member_group_id', { fields: ['group_id'], table: 'instance_groups' });
}
