// Contract: the legacy instance-group tables go, now that the blocker before this migration has
// proved every live group, policy and member was copied to the API database (what remains are the
// soft-deleted source rows). Children first, for their foreign keys.
import type { MigrationContext } from '../src/migrate/types.js';

export async function up({ queryInterface, transaction }: MigrationContext): Promise<void> {
  await queryInterface.dropTable('instance_group_member', { transaction });
  await queryInterface.dropTable('instance_group_policy', { transaction });
  await queryInterface.dropTable('instance_groups', { transaction });
}
