// Expand step of detaching compute nodes from services (spec detach-service-from-computenode; in Nova,
// Kilo's compute_nodes.host column and migrations 278-279): a node is identified by (host, hypervisor_hostname) instead of by its
// service's id. Only additive or relaxing changes here, so that old and new code can run side by side;
// the compute-node-host mover then fills `host` and clears `service_id`, and a later blocker refuses
// to go further until it has.
import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/migrate/types.js';

/**
 * Every step looks before it acts, and finds what it removes by shape: an adopted database names its
 * foreign key its own way (Nova's is not always fk_compute_nodes_service_id). A run killed half way
 * (MariaDB) is completed by the next sync.
 */
export const resumable = true;

export async function up({ steps }: MigrationContext): Promise<void> {
  // The FK must go first: the mover sets service_id to NULL, and a service row may be deleted while a
  // node still names it (that node is then reported as blocked, not made impossible to store).
  await steps.dropForeignKey('compute_nodes', { fields: ['service_id'], table: 'services' });

  // MariaDB created an index on service_id for the FK and keeps it when the FK goes. Drop it, as Nova's
  // 278 did ("the nested index which was created by the FK"), so that both dialects end up with the
  // same schema; PostgreSQL never had one, so nothing matches there.
  await steps.dropPlainIndexes('compute_nodes', ['service_id']);

  await steps.setNullable('compute_nodes', 'service_id', { type: DataTypes.INTEGER, allowNull: true });

  // Nullable: nodes written by not-yet-upgraded computes leave it unset until the mover (or the
  // ComputeNode object on save) fills it in from the service.
  await steps.addColumn('compute_nodes', 'host', { type: DataTypes.STRING(255), allowNull: true });

  // `deleted` is part of the key (Nova 279 fixed the key without it) so that a soft-deleted node does
  // not stop the same hypervisor from registering again. Rows with host still NULL never collide.
  await steps.addUnique('compute_nodes', 'uniq_compute_nodes0host0hypervisor_hostname0deleted', ['host', 'hypervisor_hostname', 'deleted']);
}
