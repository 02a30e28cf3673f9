/**
 * Instance groups, their policies and members: from the legacy cell tables to the API database
 * (spec cells-instance-groups-api-db; Nova Newton's migrate_instance_groups_to_api_db, improved:
 * timestamps are kept, the copy is confirmed before anything is soft-deleted, and concurrent
 * writers and runners are safe).
 *
 * One batch, per cell:
 *  1. in a cell transaction, lock up to `count` live groups (keyset order, `FOR UPDATE SKIP LOCKED`:
 *     a second runner takes other groups instead of waiting or duplicating work) and read their live
 *     policies and members;
 *  2. in one API transaction, insert groups, policies and members, skipping what is already there
 *     (unique uuid, (group_id, policy), (group_id, instance_uuid)): a group copied by an earlier run
 *     that died before step 3 counts as done, and its rows are merged, not duplicated;
 *  3. after the API commit, read back which groups, policies and members are present in the API
 *     database, and soft-delete (deleted = id) only those cell rows, in the still-open cell
 *     transaction. A group is soft-deleted only when all its copied rows are confirmed.
 * A kill at any instant leaves either nothing, or an API copy whose source is still live (redone
 * idempotently by the next run), or the finished batch.
 *
 * Locking contract for writers (the InstanceGroup object follows it): to add a member to a group
 * that may still live in a cell, in one READ COMMITTED cell transaction read the group's id by uuid
 * (no lock), then lock it by primary key — `SELECT id FROM instance_groups WHERE id = ? AND
 * deleted = 0 FOR UPDATE` — the same order in which the mover locks (row first, then the
 * (uuid, deleted) index entry its soft-delete changes; locking by uuid first deadlocks on MariaDB).
 * If the row is there, insert the member in the cell and commit promptly (the mover either waits for
 * you and copies the member, or has not reached the group yet); if it is not, the group has moved:
 * add the member in the API database. A writer that skips the lock cannot lose a member either (only
 * copied rows are soft-deleted), but its member stays behind in the cell. Under REPEATABLE READ,
 * MariaDB also locks the index gap before the row, making the mover wait up to --lock-wait.
 */
import type { Transaction } from 'sequelize';
import type { DatabaseHandle } from '../src/db/registry.js';
import { failpoint } from '../src/movers/failpoints.js';
import { batchTransaction, hasColumn, select, write } from '../src/movers/sql.js';
import type { Mover, MoverBatch, MoverContext } from '../src/movers/types.js';

interface GroupRow {
  id: number;
  user_id: string | null;
  project_id: string | null;
  uuid: string;
  name: string | null;
  created_at: Date | null;
  updated_at: Date | null;
}
interface PolicyRow {
  id: number;
  policy: string | null;
  group_id: number;
  created_at: Date | null;
  updated_at: Date | null;
}
interface MemberRow {
  id: number;
  instance_id: string | null;
  group_id: number;
  created_at: Date | null;
  updated_at: Date | null;
}

const pairKey = (uuid: string, value: string | null): string => `${uuid}\u0000${value ?? ''}`;

/** Copies one batch into the API database in one transaction; returns what the API database now holds for these groups. */
async function copyToApi(api: DatabaseHandle, ctx: MoverContext, groups: GroupRow[], policies: PolicyRow[], members: MemberRow[]) {
  const uuidOf = new Map(groups.map((g) => [g.id, g.uuid]));
  const uuids = groups.map((g) => g.uuid);
  await batchTransaction(api, ctx.timeouts, async (t: Transaction) => {
    await write(
      api,
      api.dialect.insertSkippingDuplicates('instance_groups', ['user_id', 'project_id', 'uuid', 'name', 'created_at', 'updated_at'], ':rows', 'uuid'),
      { rows: groups.map((g) => [g.user_id, g.project_id, g.uuid, g.name, g.created_at, g.updated_at]) },
      t,
    );
    const apiIds = new Map(
      (await select<{ id: number; uuid: string }>(api, 'SELECT id, uuid FROM instance_groups WHERE uuid IN (:uuids)', { uuids }, t)).map((r) => [r.uuid, Number(r.id)]),
    );
    const apiId = (cellGroupId: number): number => apiIds.get(uuidOf.get(cellGroupId) as string) as number;
    // The unique keys (group_id, policy) and (group_id, instance_uuid) never match a NULL, so a NULL
    // policy or member copied by a run that died before the soft-delete would be copied again:
    // leave out those whose group already has one.
    const withNull = async (table: string, column: string): Promise<Set<number>> => {
      const ids = [...new Set([...uuidOf.keys()].map(apiId))];
      const rows = await select<{ group_id: number }>(api, `SELECT DISTINCT group_id FROM ${table} WHERE group_id IN (:ids) AND ${column} IS NULL`, { ids }, t);
      return new Set(rows.map((r) => Number(r.group_id)));
    };
    const nullPolicyIn = policies.some((p) => p.policy === null) ? await withNull('instance_group_policy', 'policy') : new Set<number>();
    const nullMemberIn = members.some((m) => m.instance_id === null) ? await withNull('instance_group_member', 'instance_uuid') : new Set<number>();
    const newPolicies = policies.filter((p) => p.policy !== null || !nullPolicyIn.has(apiId(p.group_id)));
    const newMembers = members.filter((m) => m.instance_id !== null || !nullMemberIn.has(apiId(m.group_id)));
    if (newPolicies.length > 0) {
      await write(
        api,
        api.dialect.insertSkippingDuplicates('instance_group_policy', ['policy', 'group_id', 'created_at', 'updated_at'], ':rows', 'group_id'),
        { rows: newPolicies.map((p) => [p.policy, apiId(p.group_id), p.created_at, p.updated_at]) },
        t,
      );
    }
    if (newMembers.length > 0) {
      await write(
        api,
        api.dialect.insertSkippingDuplicates('instance_group_member', ['instance_uuid', 'group_id', 'created_at', 'updated_at'], ':rows', 'group_id'),
        { rows: newMembers.map((m) => [m.instance_id, apiId(m.group_id), m.created_at, m.updated_at]) },
        t,
      );
    }
  });
  // Read back after the commit: only what is really there may be soft-deleted in the cell.
  const present = new Set((await select<{ uuid: string }>(api, 'SELECT uuid FROM instance_groups WHERE uuid IN (:uuids)', { uuids })).map((r) => r.uuid));
  const presentPolicies = new Set(
    (
      await select<{ uuid: string; policy: string | null }>(
        api,
        'SELECT g.uuid, p.policy FROM instance_group_policy p JOIN instance_groups g ON g.id = p.group_id WHERE g.uuid IN (:uuids)',
        { uuids },
      )
    ).map((r) => pairKey(r.uuid, r.policy)),
  );
  const presentMembers = new Set(
    (
      await select<{ uuid: string; instance_uuid: string | null }>(
        api,
        'SELECT g.uuid, m.instance_uuid FROM instance_group_member m JOIN instance_groups g ON g.id = m.group_id WHERE g.uuid IN (:uuids)',
        { uuids },
      )
    ).map((r) => pairKey(r.uuid, r.instance_uuid)),
  );
  return { present, presentPolicies, presentMembers, uuidOf };
}

/** `migrate_instance_groups_to_api_db`. */
export const copyInstanceGroupsToApi: Mover = {
  name: 'migrate_instance_groups_to_api_db',
  description: 'Copy legacy instance groups, policies and members of each cell into the API database, then soft-delete them in the cell',

  async readiness(ctx) {
    // After the contract migration the legacy tables are gone: nothing left to move.
    return (await hasColumn(ctx.cellDb, 'instance_groups', 'deleted')) ? { state: 'ready' } : { state: 'finished' };
  },

  async migrate(ctx, count, after): Promise<MoverBatch> {
    const cell = ctx.cellDb;
    return batchTransaction(cell, ctx.timeouts, async (t) => {
      const lockGroups = (skipLocked: boolean) =>
        select<GroupRow>(
          cell,
          `SELECT id, user_id, project_id, uuid, name, created_at, updated_at FROM instance_groups
            WHERE deleted = 0 AND id > :after ORDER BY id LIMIT :count FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}`,
          { after, count },
          t,
        );
      let groups = await lockGroups(true);
      // Nothing free, but live groups may remain that another transaction holds (a writer adding a
      // member, another runner's batch): wait for them (bounded by the lock timeout) instead of
      // reporting "nothing to do" — that made a run exit 0 with live groups left behind. Rows the
      // holder soft-deleted no longer match once it commits.
      if (groups.length === 0) groups = await lockGroups(false);
      if (groups.length === 0) return { found: 0, done: 0, blocked: [], lastKey: after };
      const ids = groups.map((g) => Number(g.id));
      failpoint('instance-groups:locked');
      const policies = await select<PolicyRow>(
        cell,
        'SELECT id, policy, group_id, created_at, updated_at FROM instance_group_policy WHERE deleted = 0 AND group_id IN (:ids)',
        { ids },
        t,
      );
      const members = await select<MemberRow>(
        cell,
        'SELECT id, instance_id, group_id, created_at, updated_at FROM instance_group_member WHERE deleted = 0 AND group_id IN (:ids)',
        { ids },
        t,
      );
      const { present, presentPolicies, presentMembers, uuidOf } = await copyToApi(ctx.apiDb, ctx, groups, policies, members);
      failpoint('instance-groups:api-committed');
      const confirmedPolicies = policies.filter((p) => presentPolicies.has(pairKey(uuidOf.get(p.group_id) as string, p.policy)));
      const confirmedMembers = members.filter((m) => presentMembers.has(pairKey(uuidOf.get(m.group_id) as string, m.instance_id)));
      const complete = new Set(
        groups
          .filter((g) => present.has(g.uuid))
          .filter((g) => policies.every((p) => p.group_id !== g.id || confirmedPolicies.includes(p)))
          .filter((g) => members.every((m) => m.group_id !== g.id || confirmedMembers.includes(m)))
          .map((g) => Number(g.id)),
      );
      const now = new Date();
      const softDelete = async (table: string, rowIds: number[]) => {
        if (rowIds.length > 0) await write(cell, `UPDATE ${table} SET deleted = id, deleted_at = :now WHERE id IN (:rowIds) AND deleted = 0`, { now, rowIds }, t);
      };
      await softDelete('instance_group_policy', confirmedPolicies.filter((p) => complete.has(Number(p.group_id))).map((p) => Number(p.id)));
      await softDelete('instance_group_member', confirmedMembers.filter((m) => complete.has(Number(m.group_id))).map((m) => Number(m.id)));
      await softDelete('instance_groups', [...complete]);
      failpoint('instance-groups:soft-deleted');
      return { found: groups.length, done: complete.size, blocked: [], lastKey: Math.max(...ids) };
    });
  },

  async estimate(ctx) {
    const rows = await select<{ n: number | string }>(ctx.cellDb, 'SELECT COUNT(*) AS n FROM instance_groups WHERE deleted = 0');
    return { remaining: Number(rows[0]?.n ?? 0), blocked: 0 };
  },
};
