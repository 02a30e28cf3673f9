import { QueryTypes, type Sequelize, Transaction } from 'sequelize';
import type { CellMappingRow } from '../cells/mappings.js';
import { cellLabel } from '../cells/mappings.js';
import type { DialectSql } from '../db/dialect.js';
import type { DatabaseHandle } from '../db/registry.js';
import { isMissingTable } from '../db/translate-error.js';
import { CellsdbError, GroupStillInCellError } from '../errors.js';
import { compareVersions, type FieldSpec, loadObject, VersionedObject } from './base.js';

/** Where instance groups may be: the API database, and the cells not yet fully moved. */
export interface GroupContext {
  readonly api: DatabaseHandle<DialectSql>;
  readonly cells: ReadonlyArray<{ readonly cell: CellMappingRow; readonly db: DatabaseHandle }>;
}

export interface InstanceGroupFields extends Record<string, unknown> {
  id: number;
  uuid: string;
  user_id: string | null;
  project_id: string | null;
  name: string | null;
  /** May hold null: the API and legacy columns are nullable, and the mover copies a NULL as it is. */
  policies: Array<string | null>;
  /** May hold null (a member row without an instance), as `policies`. */
  members: Array<string | null>;
}

/** Where a loaded group lives. */
export type GroupHome = { readonly kind: 'api' } | { readonly kind: 'cell'; readonly cell: CellMappingRow; readonly db: DatabaseHandle };

/** A cell past the contract step has no legacy tables: it holds no groups. Any other error stands. */
function skipContracted(error: unknown): InstanceGroup[] {
  if (isMissingTable(error)) return [];
  throw error;
}

const READ_COMMITTED = { isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED };

interface GroupRow {
  id: number;
  uuid: string;
  user_id: string | null;
  project_id: string | null;
  name: string | null;
}

async function rows<T extends object>(db: DatabaseHandle<unknown>, sql: string, replacements: Record<string, unknown>, transaction?: Transaction): Promise<T[]> {
  return db.run((s) => s.query<T>(sql, { replacements, type: QueryTypes.SELECT, transaction }));
}

/**
 * Which uuids are the same group (#14; docs/uuid-collation.md): byte for byte equal ones, as the
 * mover decides. A lookup `uuid = :uuid` compares under the column's collation, which on MariaDB
 * (`utf8mb4_general_ci`) also matches another letter case or trailing spaces — another group. So
 * every lookup by uuid keeps only the rows whose uuid is exactly the one asked for.
 */
const exactly = <R extends { uuid: string }>(found: readonly R[], uuid: string): R[] => found.filter((r) => r.uuid === uuid);

/** Loads groups with their policies and members from one database ('api': no soft-delete columns); `uuid`: exactly that one. */
async function loadGroups(db: DatabaseHandle<unknown>, where: 'api' | 'cell', filter: string, replacements: Record<string, unknown>, uuid?: string): Promise<InstanceGroup[]> {
  const live = where === 'cell' ? ' AND deleted = 0' : '';
  const matched = await rows<GroupRow>(db, `SELECT id, uuid, user_id, project_id, name FROM instance_groups WHERE ${filter}${live} ORDER BY id`, replacements);
  const groups = uuid === undefined ? matched : exactly(matched, uuid);
  if (groups.length === 0) return [];
  const ids = groups.map((g) => Number(g.id));
  const memberColumn = where === 'api' ? 'instance_uuid' : 'instance_id';
  const policies = await rows<{ group_id: number; policy: string | null }>(db, `SELECT group_id, policy FROM instance_group_policy WHERE group_id IN (:ids)${live} ORDER BY id`, { ids });
  const members = await rows<{ group_id: number; m: string | null }>(db, `SELECT group_id, ${memberColumn} AS m FROM instance_group_member WHERE group_id IN (:ids)${live} ORDER BY id`, { ids });
  return groups.map((g) =>
    loadObject(InstanceGroup, {
      ...g,
      id: Number(g.id),
      policies: policies.filter((p) => Number(p.group_id) === Number(g.id)).map((p) => p.policy),
      members: members.filter((m) => Number(m.group_id) === Number(g.id)).map((m) => m.m),
    }),
  );
}

/**
 * Locks the live cell row of group `uuid` for the rest of transaction `t`, or returns undefined when
 * it is not live (moved, deleted, never there). The row is locked by primary key, after a plain read
 * of its id: the mover locks groups by primary key and then rewrites their (uuid, deleted) index
 * entry, so a writer that locked through that unique index first (MariaDB locks the index entry,
 * then the row) would take the two locks in the opposite order and deadlock with it. A row the
 * mover soft-deletes while we wait is re-read after the wait and no longer matches `deleted = 0`.
 */
async function lockLiveCellGroup(s: Sequelize, t: Transaction, uuid: string): Promise<{ id: number } | undefined> {
  const [found] = exactly(
    await s.query<{ id: number; uuid: string }>('SELECT id, uuid FROM instance_groups WHERE uuid = :uuid AND deleted = 0', { replacements: { uuid }, type: QueryTypes.SELECT, transaction: t }),
    uuid,
  );
  if (!found) return undefined;
  const [locked] = await s.query<{ id: number }>('SELECT id FROM instance_groups WHERE id = :id AND deleted = 0 FOR UPDATE', {
    replacements: { id: found.id },
    type: QueryTypes.SELECT,
    transaction: t,
  });
  return locked;
}

/**
 * An instance group during the move to the API database (spec cells-instance-groups-api-db): read
 * from the API database first, then the cells; created only in the API database; changed where it
 * lives, following the mover's locking contract (movers/instance-groups.ts) so that no write is lost
 * while a batch moves the group.
 */
export class InstanceGroup extends VersionedObject<InstanceGroupFields> {
  static readonly objName = 'InstanceGroup';
  /**
   * 1.0: initial. 1.1: `policies` and `members` may hold null items (the columns are nullable, the
   * mover copies NULLs, and 1.0 could not read such a group at all); backported to 1.0 without them.
   */
  static readonly VERSION = '1.1';
  static readonly fields: Readonly<Record<keyof InstanceGroupFields & string, FieldSpec>> = {
    id: { kind: 'integer', nullable: false },
    uuid: { kind: 'string', nullable: false },
    user_id: { kind: 'string', nullable: true },
    project_id: { kind: 'string', nullable: true },
    name: { kind: 'string', nullable: true },
    policies: { kind: 'nullable-string-list', nullable: false },
    members: { kind: 'nullable-string-list', nullable: false },
  };

  /** A 1.0 peer knows lists of strings only: a null policy or member is left out for it. */
  protected override makeCompatible(data: Record<string, unknown>, target: string): void {
    super.makeCompatible(data, target);
    if (compareVersions(target, '1.1') < 0) {
      for (const field of ['policies', 'members']) {
        if (Array.isArray(data[field])) data[field] = (data[field] as unknown[]).filter((v) => v !== null);
      }
    }
  }

  home: GroupHome = { kind: 'api' };

  /** The group with this uuid: the API copy if there is one, else the live cell copy. */
  static async getByUuid(ctx: GroupContext, uuid: string): Promise<InstanceGroup | undefined> {
    const [api] = await loadGroups(ctx.api, 'api', 'uuid = :uuid', { uuid }, uuid);
    if (api) return api;
    for (const { cell, db } of ctx.cells) {
      const [found] = await loadGroups(db, 'cell', 'uuid = :uuid', { uuid }, uuid).catch(skipContracted);
      if (found) {
        found.home = { kind: 'cell', cell, db };
        return found;
      }
    }
    // The mover may have moved the group between the two reads: it commits the API copy before it
    // soft-deletes the cell rows, so a group missed in the API database and then gone from its cell
    // is in the API database now (the bench's 400 ops/s workload met this as "not found").
    const [moved] = await loadGroups(ctx.api, 'api', 'uuid = :uuid', { uuid }, uuid);
    return moved;
  }

  /**
   * Creates the group in the API database; refuses a uuid still live in a cell (the mover will bring
   * it). The cell check compares under the cell's collation on purpose: a uuid that it takes for a
   * live cell group's would make that group one the mover cannot copy (#14).
   */
  async create(ctx: GroupContext): Promise<void> {
    const uuid = this.get('uuid');
    for (const { cell, db } of ctx.cells) {
      const live = await rows<{ id: number }>(db, 'SELECT id FROM instance_groups WHERE uuid = :uuid AND deleted = 0', { uuid }).catch((e: unknown) => (skipContracted(e), []));
      if (live.length > 0) {
        throw new GroupStillInCellError(`instance group ${uuid} still lives in cell '${cellLabel(cell)}': run 'cellsdb db online_data_migrations' to move it instead of creating it again`, {
          exitCode: 1,
        });
      }
    }
    const now = new Date();
    await ctx.api.run((s) =>
      s.transaction(READ_COMMITTED, async (t) => {
        await s.query('INSERT INTO instance_groups (uuid, user_id, project_id, name, created_at, updated_at) VALUES (:uuid, :user_id, :project_id, :name, :now, :now)', {
          replacements: { uuid, user_id: this.has('user_id') ? this.get('user_id') : null, project_id: this.has('project_id') ? this.get('project_id') : null, name: this.has('name') ? this.get('name') : null, now },
          transaction: t,
        });
        const [row] = exactly(await s.query<{ id: number; uuid: string }>('SELECT id, uuid FROM instance_groups WHERE uuid = :uuid', { replacements: { uuid }, type: QueryTypes.SELECT, transaction: t }), uuid);
        const id = Number(row?.id);
        const policies = this.has('policies') ? this.get('policies') : [];
        const members = this.has('members') ? this.get('members') : [];
        if (policies.length > 0) await s.query('INSERT INTO instance_group_policy (policy, group_id, created_at, updated_at) VALUES :rows', { replacements: { rows: policies.map((p) => [p, id, now, now]) }, transaction: t });
        if (members.length > 0) await s.query('INSERT INTO instance_group_member (instance_uuid, group_id, created_at, updated_at) VALUES :rows', { replacements: { rows: members.map((m) => [m, id, now, now]) }, transaction: t });
        this.set('id', id);
      }),
    );
    if (!this.has('policies')) this.set('policies', []);
    if (!this.has('members')) this.set('members', []);
    this.home = { kind: 'api' };
    this.resetChanges();
  }

  /** Adds members to the API copy, skipping those already there. */
  private async addToApi(ctx: GroupContext, instanceUuids: readonly string[]): Promise<void> {
    const uuid = this.get('uuid');
    const [group] = exactly(await rows<{ id: number; uuid: string }>(ctx.api, 'SELECT id, uuid FROM instance_groups WHERE uuid = :uuid', { uuid }), uuid);
    if (!group) throw new CellsdbError(`instance group ${uuid} is in no cell and not in the API database`, { exitCode: 1 });
    const now = new Date();
    await ctx.api.run((s) =>
      s.query(ctx.api.dialect.insertSkippingDuplicates('instance_group_member', ['instance_uuid', 'group_id', 'created_at', 'updated_at'], ':rows', 'group_id'), {
        replacements: { rows: instanceUuids.map((m) => [m, Number(group.id), now, now]) },
      }),
    );
    this.home = { kind: 'api' };
  }

  /**
   * Adds members where the group lives. In a cell, the group row is locked first (the mover's
   * contract): if it is still live there the members go in the cell, and a mover batch holding the
   * group waits for us or copies them; if it has moved meanwhile they go to the API copy.
   */
  async addMembers(ctx: GroupContext, instanceUuids: readonly string[]): Promise<void> {
    if (instanceUuids.length === 0) return;
    const home = this.home;
    if (home.kind === 'cell') {
      const stayed = await home.db.run((s) =>
        s.transaction(READ_COMMITTED, async (t) => {
          const group = await lockLiveCellGroup(s, t, this.get('uuid'));
          if (!group) return false;
          const existing = new Set(
            (
              await s.query<{ m: string }>('SELECT instance_id AS m FROM instance_group_member WHERE group_id = :id AND deleted = 0', {
                replacements: { id: group.id },
                type: QueryTypes.SELECT,
                transaction: t,
              })
            ).map((r) => r.m),
          );
          const fresh = instanceUuids.filter((m) => !existing.has(m));
          const now = new Date();
          if (fresh.length > 0) {
            await s.query('INSERT INTO instance_group_member (instance_id, group_id, created_at, updated_at, deleted) VALUES :rows', {
              replacements: { rows: fresh.map((m) => [m, Number(group.id), now, now, 0]) },
              transaction: t,
            });
          }
          return true;
        }),
      );
      if (!stayed) await this.addToApi(ctx, instanceUuids);
    } else {
      await this.addToApi(ctx, instanceUuids);
    }
    const members = new Set([...(this.has('members') ? this.get('members') : []), ...instanceUuids]);
    this.set('members', [...members]);
    this.resetChanges();
  }

  /** Writes changed name, user and project where the group lives (locking a cell row as addMembers does). */
  async save(ctx: GroupContext): Promise<void> {
    const changed = this.changes().filter((c) => c === 'name' || c === 'user_id' || c === 'project_id');
    if (changed.length === 0) return;
    const sets = changed.map((c) => `${c} = :${c}`).join(', ');
    const values = Object.fromEntries(changed.map((c) => [c, this.get(c as keyof InstanceGroupFields & string)]));
    const uuid = this.get('uuid');
    const home = this.home;
    let done = false;
    if (home.kind === 'cell') {
      done = await home.db.run((s) =>
        s.transaction(READ_COMMITTED, async (t) => {
          const group = await lockLiveCellGroup(s, t, uuid);
          if (!group) return false;
          await s.query(`UPDATE instance_groups SET ${sets}, updated_at = :now WHERE id = :id`, { replacements: { ...values, now: new Date(), id: group.id }, transaction: t });
          return true;
        }),
      );
    }
    if (!done) {
      const [group] = exactly(await rows<{ id: number; uuid: string }>(ctx.api, 'SELECT id, uuid FROM instance_groups WHERE uuid = :uuid', { uuid }), uuid);
      if (group) await ctx.api.run((s) => s.query(`UPDATE instance_groups SET ${sets}, updated_at = :now WHERE id = :id`, { replacements: { ...values, now: new Date(), id: group.id } }));
      this.home = { kind: 'api' };
    }
    this.resetChanges();
  }

  /**
   * Deletes the group everywhere: the API copy (API tables have no soft delete) and any live cell
   * copy (soft-deleted), so that a half-finished move cannot bring it back.
   */
  async destroy(ctx: GroupContext): Promise<void> {
    const uuid = this.get('uuid');
    for (const { db } of ctx.cells) {
      await db.run((s) =>
        s.transaction(READ_COMMITTED, async (t) => {
          const group = await lockLiveCellGroup(s, t, uuid);
          if (!group) return;
          const now = new Date();
          for (const table of ['instance_group_member', 'instance_group_policy']) {
            await s.query(`UPDATE ${table} SET deleted = id, deleted_at = :now WHERE group_id = :id AND deleted = 0`, { replacements: { id: group.id, now }, transaction: t });
          }
          await s.query('UPDATE instance_groups SET deleted = id, deleted_at = :now WHERE id = :id', { replacements: { id: group.id, now }, transaction: t });
        }),
      ).catch(skipContracted);
    }
    await ctx.api.run((s) =>
      s.transaction(READ_COMMITTED, async (t) => {
        const [group] = exactly(await s.query<{ id: number; uuid: string }>('SELECT id, uuid FROM instance_groups WHERE uuid = :uuid', { replacements: { uuid }, type: QueryTypes.SELECT, transaction: t }), uuid);
        if (!group) return;
        await s.query('DELETE FROM instance_group_member WHERE group_id = :id', { replacements: { id: group.id }, transaction: t });
        await s.query('DELETE FROM instance_group_policy WHERE group_id = :id', { replacements: { id: group.id }, transaction: t });
        await s.query('DELETE FROM instance_groups WHERE id = :id', { replacements: { id: group.id }, transaction: t });
      }),
    );
  }
}

/** Lists of instance groups across the API database and the cells. */
export const InstanceGroupList = {
  /**
   * Every group (of a project, if given): the API copies first, then cell groups whose uuid has no
   * API copy — deduplicated by uuid, API copy first (the spec's choice; Nova concatenated).
   */
  async getAll(ctx: GroupContext, options: { projectId?: string } = {}): Promise<InstanceGroup[]> {
    const filter = options.projectId !== undefined ? 'project_id = :projectId' : '1 = 1';
    const replacements = { projectId: options.projectId };
    const groups = await loadGroups(ctx.api, 'api', filter, replacements);
    const seen = new Set(groups.map((g) => g.get('uuid')));
    for (const { cell, db } of ctx.cells) {
      const inCell = await loadGroups(db, 'cell', filter, replacements).catch(skipContracted);
      for (const g of inCell) {
        if (seen.has(g.get('uuid'))) continue;
        seen.add(g.get('uuid'));
        g.home = { kind: 'cell', cell, db };
        groups.push(g);
      }
    }
    return groups;
  },
};
