// Unique keys on instance_group_policy (group_id, policy) and instance_group_member (group_id,
// instance_uuid). Not in Nova: the instance-group mover copies policies and members with ON CONFLICT
// DO NOTHING / INSERT IGNORE so that a rerun after a crash cannot duplicate them, and that needs a key
// to conflict on. They were part of 0001 until adoption (issue 15) showed that a real Nova API
// database, which lacks them, then could not be baselined: 0001 is now Nova's schema and this
// migration adds the keys after it, on a database cellsdb built and on an adopted one alike.
//
// Rows that repeat a group's policy or member add nothing (Nova itself never writes them) and are
// deleted first, keeping the oldest. instance_group_member holds a row per instance in a group, so
// on PostgreSQL the indexes are built CONCURRENTLY (outside a transaction) and then attached as the
// constraints; on MariaDB InnoDB builds them in place with LOCK=NONE. On a database cellsdb built
// with the earlier 0001 (which had them) every step finds them and does nothing.
import type { MigrationContext } from '../src/migrate/types.js';

/** Looks before it acts: safe to run again after a crash (issue 15). */
export const resumable = true;
/** CREATE INDEX CONCURRENTLY cannot run in a transaction. */
export const transactional = false;

export async function up({ steps }: MigrationContext): Promise<void> {
  await steps.deleteDuplicates('instance_group_policy', ['group_id', 'policy']);
  await steps.addUniqueOnline('instance_group_policy', 'uniq_instance_group_policy0group_id0policy', ['group_id', 'policy']);
  await steps.deleteDuplicates('instance_group_member', ['group_id', 'instance_uuid']);
  await steps.addUniqueOnline('instance_group_member', 'uniq_instance_group_member0group_id0instance_uuid', ['group_id', 'instance_uuid']);
}
