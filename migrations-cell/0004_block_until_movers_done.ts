// Blocker: the cell line goes no further until the online data migrations are done in this cell —
// live legacy instance groups copied to the API database, live compute nodes given a host. The
// contract step after it drops the legacy tables, so letting it run early would lose data.
// Soft-deleted rows never block, and an empty (new) database passes. Nova used the same pattern
// (e.g. its migration 330 "enforce_mitaka_online_migrations").
import { QueryTypes } from 'sequelize';
import { MigrationBlockedError } from '../src/errors.js';
import type { MigrationContext } from '../src/migrate/types.js';

async function count(context: MigrationContext, sql: string): Promise<number> {
  const rows = await context.sequelize.query<{ n: number | string }>(sql, { type: QueryTypes.SELECT, transaction: context.transaction });
  return Number(rows[0]?.n ?? 0);
}

/** Reads only: safe to run again. */
export const resumable = true;

export async function up(context: MigrationContext): Promise<void> {
  const groups = await count(context, 'SELECT COUNT(*) AS n FROM instance_groups WHERE deleted = 0');
  const nodes = await count(context, 'SELECT COUNT(*) AS n FROM compute_nodes WHERE host IS NULL AND deleted = 0');
  if (groups === 0 && nodes === 0) return;
  const what = [
    groups > 0 ? `${groups} unmigrated instance group${groups === 1 ? '' : 's'}` : '',
    nodes > 0 ? `${nodes} compute node${nodes === 1 ? '' : 's'} without a host` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  const verb = groups + nodes === 1 ? 'is' : 'are';
  throw new MigrationBlockedError(
    `There ${verb} still ${what} in ${context.databaseLabel}. Run 'cellsdb db online_data_migrations' until it exits 0, then run this sync again.`,
  );
}
