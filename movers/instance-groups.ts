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
 *  2. in one API transaction, three set-based statements whose rows travel as bind parameters
 *     (`DialectSql.boundRows`: PostgreSQL `unnest`, MariaDB `JSON_TABLE`) insert the groups,
 *     then their policies and members joined to the API groups by uuid, skipping what is already
 *     there (unique uuid, (group_id, policy), (group_id, instance_uuid)): a group copied by an
 *     earlier run that died before step 3 counts as done, and rows added to it since are merged, not
 *     duplicated. The same transaction then reads which of the batch's uuids the API database holds:
 *     once it commits, those groups are confirmed, with every policy and member read in step 1
 *     (each was inserted or matched an existing row by its unique key);
 *  3. after the API commit, soft-delete (deleted = id) the confirmed groups and exactly the policy
 *     and member rows read in step 1, in the still-open cell transaction.
 * A kill at any instant leaves either nothing, or an API copy whose source is still live (redone
 * idempotently by the next run), or the finished batch.
 *
 * Which uuids are the same (#14; docs/uuid-collation.md): a group is the same group only when its
 * uuid is byte for byte the API copy's. The API table's collation may take two different uuids for
 * one — MariaDB's default `utf8mb4_general_ci` ignores letter case and trailing spaces, so
 * `ab-case-uuid` in cell1 and `AB-CASE-UUID` in cell2 cannot both be in `uniq_instance_groups0uuid`.
 * The insert then skips the second, which is never confirmed (the API holds another spelling), so
 * it stays live in its cell, untouched, and is reported as blocked — with both spellings — by the
 * call that reaches the end of the cell: the run exits 3, as the blocker migration would refuse
 * `db sync` over it. Merging them would join two tenants' groups on a coincidence of spelling.
 * PostgreSQL compares bytes, so there both are copied as the distinct groups they are.
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
import { translateOnDatabase } from '../src/db/translate-error.js';
import { batchTransaction, hasColumn, select, selectBound, writeBound } from '../src/movers/sql.js';
import type { BlockedRow, Mover, MoverBatch, MoverContext } from '../src/movers/types.js';
import { quoted } from '../src/text/escape.js';

interface GroupRow {
  id: number;
  user_id: string | null;
  project_id: string | null;
  uuid: string;
  name: string | null;
  created_at: string | null;
  updated_at: string | null;
}
interface PolicyRow {
  id: number;
  policy: string | null;
  group_id: number;
  created_at: string | null;
  updated_at: string | null;
}
interface MemberRow {
  id: number;
  instance_id: string | null;
  group_id: number;
  created_at: string | null;
  updated_at: string | null;
}

const TIMESTAMPS = [
  { name: 'created_at', type: 'timestamp' },
  { name: 'updated_at', type: 'timestamp' },
] as const;

/** A policy or member: its API group id, the value (policy name or instance uuid), timestamps. */
type ChildRow = readonly [number, string | null, string | null, string | null];

/**
 * Inserts the groups' policies or members (API `table`, value column `column`). The unique keys
 * (group_id, policy) and (group_id, instance_uuid) never match a NULL, so a NULL value is left out
 * when its API group already has one: a run that died before the soft-delete would otherwise copy
 * it twice.
 */
async function copyChildren(api: DatabaseHandle, t: Transaction, table: string, column: string, rows: readonly ChildRow[]): Promise<void> {
  if (rows.length === 0) return;
  const q = (name: string) => api.dialect.quoteIdentifier(name);
  const src = api.dialect.boundRows('src', [{ name: 'group_id', type: 'integer' }, { name: 'value', type: 'text' }, ...TIMESTAMPS], rows, 1);
  const select = `SELECT src.value, src.group_id, src.created_at, src.updated_at FROM ${src.sql}
                   WHERE src.value IS NOT NULL OR NOT EXISTS (SELECT 1 FROM ${q(table)} x WHERE x.group_id = src.group_id AND x.${q(column)} IS NULL)`;
  await api.sequelize.query(api.dialect.insertSelectSkippingDuplicates(table, [column, 'group_id', 'created_at', 'updated_at'], select, 'group_id'), {
    bind: [...src.bind],
    transaction: t,
  });
}

/**
 * Copies one batch into the API database in one transaction. Returns the uuids the API database
 * holds once it has committed: read after the group insert, they give the API ids the policies and
 * members are inserted under, and only groups among them are soft-deleted in the cell.
 */
async function copyToApi(api: DatabaseHandle, ctx: MoverContext, groups: GroupRow[], policies: PolicyRow[], members: MemberRow[]): Promise<Set<string>> {
  const uuidOf = new Map(groups.map((g) => [Number(g.id), g.uuid]));
  return batchTransaction(api, ctx.timeouts, async (t: Transaction) => {
    const src = api.dialect.boundRows(
      'src',
      [{ name: 'user_id', type: 'text' }, { name: 'project_id', type: 'text' }, { name: 'uuid', type: 'text' }, { name: 'name', type: 'text' }, ...TIMESTAMPS],
      groups.map((g) => [g.user_id, g.project_id, g.uuid, g.name, g.created_at, g.updated_at]),
      1,
    );
    const columns = ['user_id', 'project_id', 'uuid', 'name', 'created_at', 'updated_at'];
    await api.sequelize.query(api.dialect.insertSelectSkippingDuplicates('instance_groups', columns, `SELECT ${columns.map((c) => `src.${c}`).join(', ')} FROM ${src.sql}`, 'uuid'), {
      bind: [...src.bind],
      transaction: t,
    });
    const inBatch = api.dialect.inBound('uuid', 'text', groups.map((g) => g.uuid), 1);
    const held = await selectBound<{ id: number; uuid: string }>(api, `SELECT id, uuid FROM instance_groups WHERE ${inBatch.sql}`, inBatch.bind, t);
    const apiIds = new Map(held.map((r) => [r.uuid, Number(r.id)]));
    const children = <R extends { group_id: number; created_at: string | null; updated_at: string | null }>(rows: readonly R[], value: (r: R) => string | null): ChildRow[] =>
      rows.flatMap((r) => {
        const id = apiIds.get(uuidOf.get(Number(r.group_id)) as string);
        return id === undefined ? [] : [[id, value(r), r.created_at, r.updated_at] as const];
      });
    await copyChildren(api, t, 'instance_group_policy', 'policy', children(policies, (p) => p.policy));
    await copyChildren(api, t, 'instance_group_member', 'instance_uuid', children(members, (m) => m.instance_id));
    return new Set(apiIds.keys());
  });
}

// --- uuid collisions under the API's collation (#14, owned by helper "data"; see the header) ---

/** At most this many blocked groups are listed per cell (as the compute-node mover lists nodes). */
const LIMIT_BLOCKED_LISTED = 100;
/** Live cell groups compared with the API database per query. */
const COLLISION_PAGE = 500;

/**
 * Of `uuids` (cell spellings), those the API database holds under another spelling that its
 * collation takes for the same: cell uuid → the API's. The literals are joined to the API table
 * by `=`, which compares under the column's collation (a literal's collation yields to a column's
 * on MariaDB), so this finds exactly the rows the unique key refuses; on PostgreSQL it finds none.
 */
async function apiSpellings(api: DatabaseHandle, uuids: readonly string[]): Promise<Map<string, string>> {
  if (uuids.length === 0) return new Map();
  const literals = uuids.map((_, i) => `SELECT :u${i} AS v`).join(' UNION ALL ');
  const rows = await select<{ api_uuid: string; cell_uuid: string }>(
    api,
    `SELECT a.uuid AS api_uuid, c.v AS cell_uuid FROM instance_groups a JOIN (${literals}) c ON a.uuid = c.v`,
    Object.fromEntries(uuids.map((u, i) => [`u${i}`, u])),
  );
  return new Map(rows.filter((r) => r.api_uuid !== r.cell_uuid).map((r) => [r.cell_uuid, r.api_uuid]));
}

/**
 * Live groups of the cell whose uuid collides with another spelling in the API database: every one
 * when `limit` is undefined (for counting), else at most `limit`. A keyset walk over the live groups,
 * one API query per page; no lock is taken.
 */
async function collidingGroups(ctx: MoverContext, limit?: number): Promise<Array<{ id: number; uuid: string; apiUuid: string }>> {
  const found: Array<{ id: number; uuid: string; apiUuid: string }> = [];
  for (let after = 0; ; ) {
    const page = await select<{ id: number; uuid: string }>(ctx.cellDb, 'SELECT id, uuid FROM instance_groups WHERE deleted = 0 AND id > :after ORDER BY id LIMIT :n', {
      after,
      n: COLLISION_PAGE,
    });
    const spellings = await apiSpellings(ctx.apiDb, page.map((g) => g.uuid));
    for (const g of page) {
      const apiUuid = spellings.get(g.uuid);
      if (apiUuid !== undefined) found.push({ id: Number(g.id), uuid: g.uuid, apiUuid });
      if (limit !== undefined && found.length >= limit) return found;
    }
    if (page.length < COLLISION_PAGE) return found;
    after = Number(page.at(-1)?.id);
  }
}

/** The blocked groups of a cell, with the reason and the way out. */
async function blockedGroups(ctx: MoverContext): Promise<BlockedRow[]> {
  return (await collidingGroups(ctx, LIMIT_BLOCKED_LISTED)).map((g) => ({
    id: g.id,
    reason:
      `instance group ${quoted(g.uuid)}: the API database holds group ${quoted(g.apiUuid)}, which its collation takes for the same uuid ` +
      `(letter case or trailing spaces differ), so it cannot be copied; give this cell group a new uuid, or soft-delete it if it is a stale copy`,
  }));
}
// --- end of uuid collisions ---

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
    const ts = (column: string) => `${cell.dialect.timestampText(column)} AS ${column}`;
    const batch = await batchTransaction(cell, ctx.timeouts, async (t): Promise<MoverBatch | undefined> => {
      const lockGroups = (skipLocked: boolean) =>
        select<GroupRow>(
          cell,
          `SELECT id, user_id, project_id, uuid, name, ${ts('created_at')}, ${ts('updated_at')} FROM instance_groups
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
      // The end of the cell: report the groups only an operator can unblock (uuid collisions, #14).
      if (groups.length === 0) return undefined;
      const ids = groups.map((g) => Number(g.id));
      ctx.failpoint('instance-groups:locked');
      const ofGroups = cell.dialect.inBound('group_id', 'integer', ids, 1);
      const policies = await selectBound<PolicyRow>(
        cell,
        `SELECT id, policy, group_id, ${ts('created_at')}, ${ts('updated_at')} FROM instance_group_policy WHERE deleted = 0 AND ${ofGroups.sql}`,
        ofGroups.bind,
        t,
      );
      const members = await selectBound<MemberRow>(
        cell,
        `SELECT id, instance_id, group_id, ${ts('created_at')}, ${ts('updated_at')} FROM instance_group_member WHERE deleted = 0 AND ${ofGroups.sql}`,
        ofGroups.bind,
        t,
      );
      // Issue 15 (adopt): a failure of the API transaction names the API database, not this cell's.
      const present = await copyToApi(ctx.apiDb, ctx, groups, policies, members).catch((error: unknown) => {
        throw translateOnDatabase(error, 'the API database', ctx.apiDb.url);
      });
      ctx.failpoint('instance-groups:api-committed');
      const complete = new Set(groups.filter((g) => present.has(g.uuid)).map((g) => Number(g.id)));
      // UTC, as every timestamp here (PostgreSQL sessions run at +00:00; MariaDB DATETIME holds UTC).
      const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
      const softDelete = async (table: string, rowIds: number[]) => {
        if (rowIds.length === 0) return;
        const rows = cell.dialect.inBound('id', 'integer', rowIds, 1);
        // `now` is ours (digits and punctuation), written as a literal: the key list is the only placeholder.
        await writeBound(cell, `UPDATE ${table} SET deleted = id, deleted_at = '${now}' WHERE deleted = 0 AND ${rows.sql}`, rows.bind, t);
      };
      await softDelete('instance_group_policy', policies.filter((p) => complete.has(Number(p.group_id))).map((p) => Number(p.id)));
      await softDelete('instance_group_member', members.filter((m) => complete.has(Number(m.group_id))).map((m) => Number(m.id)));
      await softDelete('instance_groups', [...complete]);
      ctx.failpoint('instance-groups:soft-deleted');
      // #14: a group the API holds under another spelling is not counted here but listed as blocked
      // at the end of the cell; `more` goes on past a batch of only such groups.
      return { found: complete.size, done: complete.size, blocked: [], lastKey: Math.max(...ids), more: true };
      // Redoable: a soft-delete lost in a server crash leaves groups whose API copy committed
      // (durably: copyToApi's transaction is not redoable), which the next run counts as done.
    }, { redoable: true });
    if (batch) return batch;
    const blocked = await blockedGroups(ctx);
    return { found: blocked.length, done: 0, blocked, lastKey: after, more: false };
  },

  async estimate(ctx, { blocked = true } = {}) {
    const rows = await select<{ n: number | string }>(ctx.cellDb, 'SELECT COUNT(*) AS n FROM instance_groups WHERE deleted = 0');
    const remaining = Number(rows[0]?.n ?? 0);
    // Finding collisions compares every live group with the API database (4.5 s for 50 000 groups a
    // cell on the bench's PostgreSQL, before the first batch): not for a progress bar's total.
    return { remaining, blocked: remaining === 0 || !blocked ? 0 : (await collidingGroups(ctx)).length };
  },
};
