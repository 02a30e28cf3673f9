// Contract: the legacy instance-group tables go, now that the blocker before this migration has
// proved every live group, policy and member was copied to the API database (what remains are the
// soft-deleted source rows). Children first, for their foreign keys.
import type { MigrationContext } from '../src/migrate/types.js';

/** Each table is dropped only if it is still there: a run killed half way is completed by the next sync. */
export const resumable = true;

export async function up({ steps }: MigrationContext): Promise<void> {
  await steps.dropTable('instance_group_member');
  await steps.dropTable('instance_group_policy');
  await steps.dropTable('instance_groups');
}
