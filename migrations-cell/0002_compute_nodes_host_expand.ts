// Expand step of detaching compute nodes from services (spec detach-service-from-computenode; in Nova,
// Kilo's compute_nodes.host column and migrations 278-279): a node is identified by (host, hypervisor_hostname) instead of by its
// service's id. Only additive or relaxing changes here, so that old and new code can run side by side;
// the compute-node-host mover then fills `host` and clears `service_id`, and a later blocker refuses
// to go further until it has.
import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/migrate/types.js';

interface ReflectedIndex {
  readonly name: string;
  readonly primary: boolean;
  readonly unique: boolean;
  readonly fields: readonly { readonly attribute: string }[];
}

function isReflectedIndex(value: unknown): value is ReflectedIndex {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['name'] === 'string' && Array.isArray(v['fields']);
}

export async function up({ queryInterface, transaction }: MigrationContext): Promise<void> {
  // The FK must go first: the mover sets service_id to NULL, and a service row may be deleted while a
  // node still names it (that node is then reported as blocked, not made impossible to store).
  await queryInterface.removeConstraint('compute_nodes', 'fk_compute_nodes_service_id', { transaction });

  // MariaDB created an index on service_id for the FK and keeps it when the FK goes. Drop it, as Nova's
  // 278 did ("the nested index which was created by the FK"), so that both dialects end up with the
  // same schema; PostgreSQL never had one, so nothing matches there.
  const indexes: unknown = await queryInterface.showIndex('compute_nodes', { transaction });
  const leftovers = (Array.isArray(indexes) ? indexes : [])
    .filter(isReflectedIndex)
    .filter((i) => !i.primary && !i.unique && i.fields.length === 1 && i.fields[0]?.attribute === 'service_id');
  for (const index of leftovers) {
    await queryInterface.removeIndex('compute_nodes', index.name, { transaction });
  }

  await queryInterface.changeColumn(
    'compute_nodes',
    'service_id',
    { type: DataTypes.INTEGER, allowNull: true },
    { transaction },
  );

  // Nullable: nodes written by not-yet-upgraded computes leave it unset until the mover (or the
  // ComputeNode object on save) fills it in from the service.
  await queryInterface.addColumn(
    'compute_nodes',
    'host',
    { type: DataTypes.STRING(255), allowNull: true },
    { transaction },
  );

  // `deleted` is part of the key (Nova 279 fixed the key without it) so that a soft-deleted node does
  // not stop the same hypervisor from registering again. Rows with host still NULL never collide.
  await queryInterface.addConstraint('compute_nodes', {
    type: 'unique',
    name: 'uniq_compute_nodes0host0hypervisor_hostname0deleted',
    fields: ['host', 'hypervisor_hostname', 'deleted'],
    transaction,
  });
}
