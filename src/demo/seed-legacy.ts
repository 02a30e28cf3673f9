import { randomUUID } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import type { DialectSql } from '../db/dialect.js';
import type { DatabaseHandle } from '../db/registry.js';

/** How much legacy data to put in one cell. */
export interface LegacySeed {
  /** Live legacy instance groups. */
  readonly groups: number;
  /** @default 1 */
  readonly policiesPerGroup?: number;
  /** @default 5 */
  readonly membersPerGroup?: number;
  /** Compute nodes with only service_id (one nova-compute service each). */
  readonly computeNodes: number;
  /** Compute nodes whose service row is gone (they end up blocked). @default 0 */
  readonly orphanNodes?: number;
  /** Rows per INSERT. @default 1000 */
  readonly chunk?: number;
  /** Prefix for host names, unique per cell. */
  readonly hostPrefix: string;
}

/** What was seeded, for checks. */
export interface SeededCell {
  readonly groupUuids: readonly string[];
}

async function insertChunks(db: DatabaseHandle<DialectSql>, table: string, columns: readonly string[], rows: unknown[][], chunk: number): Promise<void> {
  const cols = columns.map((c) => db.dialect.quoteIdentifier(c)).join(', ');
  for (let i = 0; i < rows.length; i += chunk) {
    await db.sequelize.query(`INSERT INTO ${db.dialect.quoteIdentifier(table)} (${cols}) VALUES :rows`, { replacements: { rows: rows.slice(i, i + chunk) } });
  }
}

async function idsBy(db: DatabaseHandle<DialectSql>, table: string, column: string, values: readonly string[], chunk: number): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (let i = 0; i < values.length; i += chunk) {
    const rows = await db.sequelize.query<{ id: number; k: string }>(
      `SELECT id, ${db.dialect.quoteIdentifier(column)} AS k FROM ${db.dialect.quoteIdentifier(table)} WHERE ${db.dialect.quoteIdentifier(column)} IN (:values) AND deleted = 0`,
      { replacements: { values: values.slice(i, i + chunk) }, type: QueryTypes.SELECT },
    );
    for (const r of rows) ids.set(r.k, Number(r.id));
  }
  return ids;
}

/**
 * Fills a cell database (at cell schema 0003, before the movers) with legacy data as an old cloud
 * has it: instance groups with policies and members in the cell tables, and compute nodes that know
 * their service only by service_id. Used by the demo, the tests and the benchmark.
 */
export async function seedLegacyCell(db: DatabaseHandle<DialectSql>, seed: LegacySeed): Promise<SeededCell> {
  const chunk = seed.chunk ?? 1000;
  const now = new Date(Date.UTC(2020, 0, 1));
  const policiesPer = seed.policiesPerGroup ?? 1;
  const membersPer = seed.membersPerGroup ?? 5;
  // Ids come from the database (explicit ids would leave PostgreSQL's sequences behind).
  const groupUuids = Array.from({ length: seed.groups }, () => randomUUID());
  await insertChunks(
    db,
    'instance_groups',
    ['user_id', 'project_id', 'uuid', 'name', 'created_at', 'updated_at', 'deleted'],
    groupUuids.map((uuid, i) => [`user-${i % 97}`, `project-${i % 31}`, uuid, `group-${i}`, now, now, 0]),
    chunk,
  );
  const groupIds = await idsBy(db, 'instance_groups', 'uuid', groupUuids, chunk);
  const policies = ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'];
  const policyRows: unknown[][] = [];
  const memberRows: unknown[][] = [];
  for (const uuid of groupUuids) {
    const id = groupIds.get(uuid);
    for (let p = 0; p < policiesPer; p++) policyRows.push([policies[p % policies.length], id, now, now, 0]);
    for (let m = 0; m < membersPer; m++) memberRows.push([randomUUID(), id, now, now, 0]);
  }
  await insertChunks(db, 'instance_group_policy', ['policy', 'group_id', 'created_at', 'updated_at', 'deleted'], policyRows, chunk);
  await insertChunks(db, 'instance_group_member', ['instance_id', 'group_id', 'created_at', 'updated_at', 'deleted'], memberRows, chunk);

  const hosts = Array.from({ length: seed.computeNodes }, (_, i) => `${seed.hostPrefix}-${i}`);
  await insertChunks(
    db,
    'services',
    ['host', 'binary', 'topic', 'report_count', 'created_at', 'updated_at', 'deleted'],
    hosts.map((host) => [host, 'nova-compute', 'compute', 0, now, now, 0]),
    chunk,
  );
  const serviceIds = await idsBy(db, 'services', 'host', hosts, chunk);
  const nodeRows: unknown[][] = hosts.map((host) => [serviceIds.get(host), `${host}.example.org`, 16, 65536, 1000, now, now, 0]);
  // Orphans point at service ids that do not exist (their service rows were hard-deleted long ago).
  const orphans = seed.orphanNodes ?? 0;
  for (let i = 0; i < orphans; i++) nodeRows.push([2_000_000_000 - i, `${seed.hostPrefix}-orphan-${i}.example.org`, 8, 32768, 500, now, now, 0]);
  await insertChunks(db, 'compute_nodes', ['service_id', 'hypervisor_hostname', 'vcpus', 'memory_mb', 'local_gb', 'created_at', 'updated_at', 'deleted'], nodeRows, chunk);
  return { groupUuids };
}
