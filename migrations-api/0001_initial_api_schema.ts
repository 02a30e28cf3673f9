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

export async function up({ queryInterface, transaction }: MigrationContext): Promise<void> {

  await queryInterface.createTable(
    'cell_mappings',
    {
      id: idColumn(),
      uuid: { type: DataTypes.STRING(36), allowNull: false },
      name: { type: DataTypes.STRING(255), allowNull: true },
      // Both URLs may embed passwords; TEXT because a transport_url can list many brokers.
      transport_url: { type: DataTypes.TEXT, allowNull: false },
      database_connection: { type: DataTypes.TEXT, allowNull: false },
      disabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      ...timestampColumns(),
    },
    { transaction },
  );
  await queryInterface.addConstraint('cell_mappings', {
    type: 'unique',
    name: 'uniq_cell_mappings0uuid',
    fields: ['uuid'],
    transaction,
  });

  await queryInterface.createTable(
    'host_mappings',
    {
      id: idColumn(),
      cell_id: { type: DataTypes.INTEGER, allowNull: false },
      host: { type: DataTypes.STRING(255), allowNull: false },
      ...timestampColumns(),
    },
    { transaction },
  );
  await queryInterface.addConstraint('host_mappings', {
    type: 'unique',
    name: 'uniq_host_mappings0host',
    fields: ['host'],
    transaction,
  });
  await queryInterface.addConstraint('host_mappings', {
    type: 'foreign key',
    name: 'fk_host_mappings_cell_id',
    fields: ['cell_id'],
    references: { table: 'cell_mappings', field: 'id' },
    onDelete: 'NO ACTION',
    onUpdate: 'NO ACTION',
    transaction,
  });

  await queryInterface.createTable(
    'instance_mappings',
    {
      id: idColumn(),
      instance_uuid: { type: DataTypes.STRING(36), allowNull: false },
      // NULL while an instance is still in the API's build request, before a cell is chosen (Nova).
      cell_id: { type: DataTypes.INTEGER, allowNull: true },
      project_id: { type: DataTypes.STRING(255), allowNull: false },
      ...timestampColumns(),
    },
    { transaction },
  );
  await queryInterface.addConstraint('instance_mappings', {
    type: 'unique',
    name: 'uniq_instance_mappings0instance_uuid',
    fields: ['instance_uuid'],
    transaction,
  });
  await queryInterface.addIndex('instance_mappings', ['project_id'], { name: 'project_id_idx', transaction });
  await queryInterface.addConstraint('instance_mappings', {
    type: 'foreign key',
    name: 'fk_instance_mappings_cell_id',
    fields: ['cell_id'],
    references: { table: 'cell_mappings', field: 'id' },
    onDelete: 'NO ACTION',
    onUpdate: 'NO ACTION',
    transaction,
  });

  await queryInterface.createTable(
    'instance_groups',
    {
      id: idColumn(),
      user_id: { type: DataTypes.STRING(255), allowNull: true },
      project_id: { type: DataTypes.STRING(255), allowNull: true },
      uuid: { type: DataTypes.STRING(36), allowNull: false },
      name: { type: DataTypes.STRING(255), allowNull: true },
      ...timestampColumns(),
    },
    { transaction },
  );
  await queryInterface.addConstraint('instance_groups', {
    type: 'unique',
    name: 'uniq_instance_groups0uuid',
    fields: ['uuid'],
    transaction,
  });

  await queryInterface.createTable(
    'instance_group_policy',
    {
      id: idColumn(),
      policy: { type: DataTypes.STRING(255), allowNull: true },
      group_id: { type: DataTypes.INTEGER, allowNull: false },
      ...timestampColumns(),
    },
    { transaction },
  );
  await queryInterface.addIndex('instance_group_policy', ['policy'], {
    name: 'instance_group_policy_policy_idx',
    transaction,
  });
  // Not in Nova. The instance-group mover copies policies with ON CONFLICT DO NOTHING / INSERT IGNORE
  // so that a rerun after a crash cannot duplicate them; that needs a unique key to conflict on.
  // Created before the FK: MariaDB needs an index on group_id for the FK and uses this one (its
  // leading column) instead of adding an implicit index that PostgreSQL would not have.
  await queryInterface.addConstraint('instance_group_policy', {
    type: 'unique',
    name: 'uniq_instance_group_policy0group_id0policy',
    fields: ['group_id', 'policy'],
    transaction,
  });
  await queryInterface.addConstraint('instance_group_policy', {
    type: 'foreign key',
    name: 'fk_instance_group_policy_group_id',
    fields: ['group_id'],
    references: { table: 'instance_groups', field: 'id' },
    onDelete: 'NO ACTION',
    onUpdate: 'NO ACTION',
    transaction,
  });

  await queryInterface.createTable(
    'instance_group_member',
    {
      id: idColumn(),
      instance_uuid: { type: DataTypes.STRING(255), allowNull: true },
      group_id: { type: DataTypes.INTEGER, allowNull: false },
      ...timestampColumns(),
    },
    { transaction },
  );
  await queryInterface.addIndex('instance_group_member', ['instance_uuid'], {
    name: 'instance_group_member_instance_idx',
    transaction,
  });
  // Not in Nova; same reason as the policy key above: idempotent copy of members by the mover, and
  // the index MariaDB's FK on group_id needs.
  await queryInterface.addConstraint('instance_group_member', {
    type: 'unique',
    name: 'uniq_instance_group_member0group_id0instance_uuid',
    fields: ['group_id', 'instance_uuid'],
    transaction,
  });
  await queryInterface.addConstraint('instance_group_member', {
    type: 'foreign key',
    name: 'fk_instance_group_member_group_id',
    fields: ['group_id'],
    references: { table: 'instance_groups', field: 'id' },
    onDelete: 'NO ACTION',
    onUpdate: 'NO ACTION',
    transaction,
  });
}
