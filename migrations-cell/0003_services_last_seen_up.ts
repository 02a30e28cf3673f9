// services.last_seen_up: when the service last reported in. Liveness used to be read from updated_at,
// which every write moves, so enabling or disabling a dead service made it look alive again; Nova
// added this column for the same reason. Nullable: until a service's first heartbeat after the
// upgrade, liveness falls back to created_at (DOMAIN §5).
import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/migrate/types.js';

/** Looks before it acts: safe to run again after a crash (issue 15). */
export const resumable = true;

export async function up({ steps }: MigrationContext): Promise<void> {
  await steps.addColumn('services', 'last_seen_up', { type: DataTypes.DATE, allowNull: true });
}
