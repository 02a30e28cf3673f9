// The InstanceGroup object during a half-finished move to the API database (spec
// cells-instance-groups-api-db; DOMAIN.md §3), on both dialects: some groups moved by the real mover
// (`db online_data_migrations --max-count N`), some still in the cell, one in both (its API copy
// planted by hand). Readers find each group once, the API copy first; create refuses a uuid still
// live in a cell; addMembers writes where the group lives, and a member added while the mover runs
// in another process is never lost; destroy removes the group everywhere.
import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { selectCells } from '../src/cells/fan-out.js';
import { targetCell } from '../src/cells/targeting.js';
import { ConnectionRegistry } from '../src/db/registry.js';
import { type GroupContext, GroupStillInCellError, InstanceGroup, InstanceGroupList } from '../src/objects/index.js';
import type { Dialect } from '../src/url/index.js';
import type { Cell } from './helpers/cells.js';
import { eachDialectLimited } from './helpers/cells.js';
import { apiGroups, countRows, type LegacyDeployment, liveLegacyCounts, liveLegacyGroups, odm, plantApiGroup, plantCellGroup, seed, show, spawnOdm, useLegacyDeployment } from './helpers/movers.js';

interface HalfMoved {
  readonly d: LegacyDeployment;
  readonly cell: Cell;
  readonly ctx: GroupContext;
  /** Moved to the API database by the mover (soft-deleted in the cell). */
  readonly moved: readonly string[];
  /** Still live in the cell only. */
  readonly inCell: readonly string[];
  /** Live in the cell and with an API copy planted by hand. */
  readonly both: string;
  /** Members of each group as planted in the cell. */
  readonly members: Readonly<Record<string, readonly string[]>>;
}

/** A GroupContext over the deployment's API database and every mapped cell (closed before the drop). */
async function groupContext(t: ExecutionContext<unknown>, d: LegacyDeployment): Promise<GroupContext> {
  const registry = new ConnectionRegistry({ max: 4, connectTimeoutMs: 60_000 });
  t.teardown(() => registry.close());
  const api = registry.open(d.cloud.api);
  const cells = (await selectCells(api)).map((cell) => ({ cell, db: targetCell(registry, cell) }));
  return { api, cells };
}

/**
 * cell0 and cell1 at cell schema 0003; four groups planted in cell1, the mover run once with
 * `--max-count 2` (the first two move), then a fifth group planted in cell1 with an API copy of
 * its own (other name, other member) — as a run that died after its API commit leaves it.
 */
async function useHalfMoved(t: ExecutionContext<unknown>, dialect: Dialect): Promise<HalfMoved> {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  const cell = d.cells[0] as Cell;
  const uuids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const members: Record<string, string[]> = {};
  for (const [i, uuid] of uuids.entries()) {
    members[uuid] = [randomUUID(), randomUUID()];
    await plantCellGroup(cell.url, { uuid, name: `g${i}`, project_id: i % 2 === 0 ? 'project-even' : 'project-odd' }, ['anti-affinity'], members[uuid]);
  }
  const r = await odm(d.cloud, ['--max-count', '2']);
  if (r.code !== 1) throw new Error(`setup: online_data_migrations --max-count 2 should move two groups and exit 1: ${show(r)}`);
  const apiUuids = Object.keys(await apiGroups(d.q, d.cloud.api));
  const moved = uuids.filter((u) => apiUuids.includes(u));
  if (moved.length !== 2) throw new Error(`setup: expected two moved groups, the API database holds ${apiUuids.length}`);

  const both = randomUUID();
  members[both] = [randomUUID(), randomUUID()];
  await plantCellGroup(cell.url, { uuid: both, name: 'cell-copy', project_id: 'project-even' }, ['affinity'], members[both]);
  await plantApiGroup(d.cloud.api, { uuid: both, name: 'api-copy', project_id: 'project-even' }, ['affinity'], [members[both][0] as string]);
  return { d, cell, ctx: await groupContext(t, d), moved, inCell: uuids.filter((u) => !moved.includes(u)), both, members };
}

/** The live members of a group in a cell (empty if the group is not live there). */
async function cellMembers(h: HalfMoved, uuid: string): Promise<string[]> {
  return [...((await liveLegacyGroups(h.d.q, h.cell.url))[uuid]?.members ?? [])];
}

/** The members of the API copy of a group (duplicates kept, so that they show), or undefined. */
async function apiMembers(h: HalfMoved, uuid: string): Promise<string[] | undefined> {
  const g = (await apiGroups(h.d.q, h.d.cloud.api))[uuid];
  return g ? [...g.members] : undefined;
}

const sorted = <T extends string | null>(values: Iterable<T>): T[] => [...values].sort();

eachDialectLimited(test, 'during a half-finished move getByUuid finds every group once, the API copy first, and getAll has no duplicates', async (t, dialect) => {
  const h = await useHalfMoved(t, dialect);
  const { ctx } = h;

  for (const uuid of h.moved) {
    const g = await InstanceGroup.getByUuid(ctx, uuid);
    t.is(g?.get('uuid'), uuid);
    t.is(g?.home.kind, 'api', `moved group ${uuid} is read from the API database`);
    t.deepEqual(sorted(g?.get('members') ?? []), sorted(h.members[uuid] ?? []), 'with the members the mover copied');
    t.deepEqual(g?.get('policies'), ['anti-affinity']);
  }
  for (const uuid of h.inCell) {
    const g = await InstanceGroup.getByUuid(ctx, uuid);
    t.is(g?.home.kind, 'cell', `group ${uuid} not moved yet is read from its cell`);
    t.is(g?.home.kind === 'cell' ? g.home.cell.name : undefined, 'cell1');
    t.deepEqual(sorted(g?.get('members') ?? []), sorted(h.members[uuid] ?? []));
  }
  const both = await InstanceGroup.getByUuid(ctx, h.both);
  t.is(both?.home.kind, 'api', 'the group in both databases is read from the API database');
  t.is(both?.get('name'), 'api-copy');
  t.deepEqual(both?.get('members'), [h.members[h.both]?.[0]], 'the API copy’s members, not the cell copy’s');
  t.is(await InstanceGroup.getByUuid(ctx, randomUUID()), undefined);

  const all = await InstanceGroupList.getAll(ctx);
  const uuids = all.map((g) => g.get('uuid'));
  t.is(uuids.length, new Set(uuids).size, `no uuid twice: ${uuids.join(', ')}`);
  t.deepEqual(sorted(uuids), sorted([...h.moved, ...h.inCell, h.both]));
  const listedBoth = all.find((g) => g.get('uuid') === h.both);
  t.is(listedBoth?.get('name'), 'api-copy', 'the API copy wins');
  t.is(listedBoth?.home.kind, 'api');
  for (const g of all) t.is(g.home.kind, h.inCell.includes(g.get('uuid')) ? 'cell' : 'api', `home of ${g.get('uuid')}`);

  const even = await InstanceGroupList.getAll(ctx, { projectId: 'project-even' });
  const evenUuids = even.map((g) => g.get('uuid'));
  t.is(evenUuids.length, new Set(evenUuids).size, 'no duplicates with a project filter either');
  t.true(evenUuids.includes(h.both));
  t.true(even.every((g) => g.get('project_id') === 'project-even'));
  t.is(even.find((g) => g.get('uuid') === h.both)?.get('name'), 'api-copy');
});

eachDialectLimited(test, 'create refuses a uuid still live in a cell and creates a new group only in the API database', async (t, dialect) => {
  const h = await useHalfMoved(t, dialect);
  const { ctx } = h;
  const apiBefore = await countRows(h.d.q, h.d.cloud.api, 'instance_groups');
  const stillInCell = h.inCell[0] as string;

  const again = new InstanceGroup().update({ uuid: stillInCell, user_id: 'u', project_id: 'p', name: 'again', policies: ['affinity'], members: [] });
  const error = await t.throwsAsync(() => again.create(ctx), { instanceOf: GroupStillInCellError });
  t.regex(error?.message ?? '', new RegExp(`${stillInCell} still lives in cell 'cell1'`));
  t.regex(error?.message ?? '', /online_data_migrations/, 'says how to get past it');
  t.is(error?.exitCode, 1);
  t.is(await countRows(h.d.q, h.d.cloud.api, 'instance_groups'), apiBefore, 'nothing written to the API database');
  t.is((await InstanceGroup.getByUuid(ctx, stillInCell))?.home.kind, 'cell', 'the cell group is untouched');

  const uuid = randomUUID();
  const member = randomUUID();
  const created = new InstanceGroup().update({ uuid, user_id: 'user-new', project_id: 'project-new', name: 'fresh', policies: ['soft-anti-affinity'], members: [member] });
  await created.create(ctx);
  t.is(created.home.kind, 'api');
  t.true(created.get('id') > 0);
  t.deepEqual(created.changes(), []);
  t.is(await countRows(h.d.q, h.d.cloud.api, 'instance_groups'), apiBefore + 1);
  const { created_at: _createdAt, ...stored } = (await apiGroups(h.d.q, h.d.cloud.api))[uuid] ?? { created_at: null };
  t.deepEqual(stored, { user_id: 'user-new', project_id: 'project-new', name: 'fresh', policies: ['soft-anti-affinity'], members: [member] });
  for (const c of [h.d.cell0, h.cell]) {
    const rows = await h.d.q<{ id: number }>(c.url, 'SELECT id FROM instance_groups WHERE uuid = :uuid', { uuid });
    t.deepEqual(rows, [], `no row for the new group in ${c.name}`);
  }
  const read = await InstanceGroup.getByUuid(ctx, uuid);
  t.is(read?.get('name'), 'fresh');
  t.is(read?.home.kind, 'api');
});

eachDialectLimited(test, 'addMembers adds in the cell for a cell group, to the API copy for a moved one, and follows a group moved since it was read', async (t, dialect) => {
  const h = await useHalfMoved(t, dialect);
  const { ctx } = h;
  const [inCell, stale] = h.inCell as [string, string];
  const moved = h.moved[0] as string;

  // A group still in the cell: the member goes to the cell (the mover brings it later); an existing member is not added twice.
  const cellGroup = (await InstanceGroup.getByUuid(ctx, inCell)) ?? t.fail('cell group not found');
  if (!cellGroup) return;
  const forCell = randomUUID();
  await cellGroup.addMembers(ctx, [forCell, h.members[inCell]?.[0] as string]);
  t.deepEqual(sorted(await cellMembers(h, inCell)), sorted([...(h.members[inCell] ?? []), forCell]));
  t.is(await apiMembers(h, inCell), undefined, 'no API copy is made by addMembers');
  t.deepEqual(sorted(cellGroup.get('members')), sorted([...(h.members[inCell] ?? []), forCell]), 'the object knows its members');
  t.deepEqual(cellGroup.changes(), []);

  // A moved group: the member goes to the API copy, the soft-deleted cell copy is not touched.
  const movedGroup = (await InstanceGroup.getByUuid(ctx, moved)) ?? t.fail('moved group not found');
  if (!movedGroup) return;
  const cellRowsBefore = await countRows(h.d.q, h.cell.url, 'instance_group_member');
  const forApi = randomUUID();
  await movedGroup.addMembers(ctx, [forApi]);
  t.deepEqual(sorted((await apiMembers(h, moved)) ?? []), sorted([...(h.members[moved] ?? []), forApi]));
  t.is(await countRows(h.d.q, h.cell.url, 'instance_group_member'), cellRowsBefore, 'nothing written in the cell');

  // The group in both databases: the API copy gets it, and an existing member is not duplicated.
  const bothGroup = (await InstanceGroup.getByUuid(ctx, h.both)) ?? t.fail('group in both not found');
  if (!bothGroup) return;
  const forBoth = randomUUID();
  await bothGroup.addMembers(ctx, [forBoth, h.members[h.both]?.[0] as string]);
  t.deepEqual(sorted((await apiMembers(h, h.both)) ?? []), sorted([h.members[h.both]?.[0] as string, forBoth]));
  t.deepEqual(sorted(await cellMembers(h, h.both)), sorted(h.members[h.both] ?? []), 'the cell copy is not written');

  // Read while in the cell, moved by the mover since: the member follows the group to the API database.
  const staleGroup = (await InstanceGroup.getByUuid(ctx, stale)) ?? t.fail('group not found');
  if (!staleGroup) return;
  t.is(staleGroup.home.kind, 'cell');
  const done = await odm(h.d.cloud);
  t.is(done.code, 0, show(done));
  t.is(await liveLegacyCounts(h.d.q, h.cell.url), '0/0/0', 'the mover finished the cell');
  const late = randomUUID();
  await staleGroup.addMembers(ctx, [late]);
  t.is(staleGroup.home.kind, 'api', 'the object now knows where its group lives');
  t.deepEqual(sorted((await apiMembers(h, stale)) ?? []), sorted([...(h.members[stale] ?? []), late]));
  t.is(await liveLegacyCounts(h.d.q, h.cell.url), '0/0/0', 'nothing written in the cell');
  // And the member added in the cell before the move was carried over by the mover.
  t.deepEqual(sorted((await apiMembers(h, inCell)) ?? []), sorted([...(h.members[inCell] ?? []), forCell]));
});

eachDialectLimited(test, 'members added through addMembers while the mover runs in another process are all in the API copies afterwards', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  const cell = d.cells[0] as Cell;
  await seed(cell, { groups: 300, membersPerGroup: 2, policiesPerGroup: 1, computeNodes: 0, hostPrefix: 'race' });
  const original = await liveLegacyGroups(d.q, cell.url);
  const ctx = await groupContext(t, d);
  // Read while every group still lives in the cell: each object starts with home 'cell'.
  const groups = await InstanceGroupList.getAll(ctx);
  t.is(groups.length, 300);
  t.true(groups.every((g) => g.home.kind === 'cell'));

  const added = new Map<string, string[]>();
  let inCellWrites = 0;
  let followedToApi = 0;
  const mover = spawnOdm(d.cloud, ['--batch-size', '5']);
  let running = true;
  const finished = mover.result.finally(() => {
    running = false;
  });
  // Writers round-robin over the groups, in the order the mover takes them, until the mover exits
  // (two at once: the cell pool has two connections), so that writes meet the mover's batches.
  const writer = async (w: number, writers: number): Promise<void> => {
    for (let i = w; running || i < 20; i += writers) {
      const g = groups[i % groups.length] as InstanceGroup;
      const wasInCell = g.home.kind === 'cell';
      const member = randomUUID();
      await g.addMembers(ctx, [member]);
      const uuid = g.get('uuid');
      added.set(uuid, [...(added.get(uuid) ?? []), member]);
      if (wasInCell && g.home.kind === 'cell') inCellWrites++;
      if (wasInCell && g.home.kind === 'api') followedToApi++;
    }
  };
  await Promise.all([writer(0, 2), writer(1, 2)]);
  const r = await finished;
  t.true(r.code === 0 || r.code === 1, show(r));
  // A group a writer held locked was skipped by the batch that reached it (SKIP LOCKED): run until done.
  for (let i = 0; i < 5; i++) {
    const again = await odm(d.cloud);
    if (again.code === 0) break;
    t.is(again.code, 1, show(again));
  }
  t.is(await liveLegacyCounts(d.q, cell.url), '0/0/0', 'every group has moved');
  t.true(inCellWrites > 0, `some members went to groups still in the cell while the mover ran (${inCellWrites})`);
  t.true(followedToApi > 0, `some members followed their group to the API database (${followedToApi})`);

  const api = await apiGroups(d.q, d.cloud.api);
  const lost: string[] = [];
  const wrong: string[] = [];
  for (const [uuid, g] of Object.entries(original)) {
    const expected = sorted([...g.members, ...(added.get(uuid) ?? [])]);
    const have = api[uuid]?.members ?? [];
    for (const m of expected) if (!have.includes(m)) lost.push(`${uuid}: ${m}${added.get(uuid)?.includes(m) ? ' (added)' : ''}`);
    if (JSON.stringify(have) !== JSON.stringify(expected)) wrong.push(uuid);
  }
  t.deepEqual(lost.slice(0, 10), [], `${lost.length} members lost out of ${[...added.values()].flat().length} added`);
  t.deepEqual(wrong.slice(0, 10), [], 'API copies hold exactly the original and added members, none twice');
  t.is(Object.keys(api).length, 300);
});

eachDialectLimited(test, 'destroy removes the API copy and any live cell copy, and the mover does not bring it back', async (t, dialect) => {
  const h = await useHalfMoved(t, dialect);
  const { ctx } = h;
  const inCell = h.inCell[0] as string;
  const moved = h.moved[0] as string;

  // The API rows of a group, counted by what they belong to.
  const apiRowsOf = async (uuid: string): Promise<string> => {
    const [g] = await h.d.q<{ id: number | string }>(h.d.cloud.api, 'SELECT id FROM instance_groups WHERE uuid = :uuid', { uuid });
    if (!g) return 'none';
    const p = await h.d.q(h.d.cloud.api, 'SELECT id FROM instance_group_policy WHERE group_id = :id', { id: g.id });
    const m = await h.d.q(h.d.cloud.api, 'SELECT id FROM instance_group_member WHERE group_id = :id', { id: g.id });
    return `group, ${p.length} policies, ${m.length} members`;
  };
  const orphans = async (): Promise<number> =>
    (await h.d.q(h.d.cloud.api, 'SELECT id FROM instance_group_member WHERE group_id NOT IN (SELECT id FROM instance_groups)')).length +
    (await h.d.q(h.d.cloud.api, 'SELECT id FROM instance_group_policy WHERE group_id NOT IN (SELECT id FROM instance_groups)')).length;
  const softDeletedInCell = async (uuid: string): Promise<string[]> => {
    const rows = await h.d.q<{ t: string; id: number | string; deleted: number | string; deleted_at: unknown }>(
      h.cell.url,
      `SELECT 'group' AS t, g.id, g.deleted, g.deleted_at FROM instance_groups g WHERE g.uuid = :uuid
       UNION ALL SELECT 'policy', p.id, p.deleted, p.deleted_at FROM instance_group_policy p JOIN instance_groups g ON g.id = p.group_id WHERE g.uuid = :uuid
       UNION ALL SELECT 'member', m.id, m.deleted, m.deleted_at FROM instance_group_member m JOIN instance_groups g ON g.id = m.group_id WHERE g.uuid = :uuid`,
      { uuid },
    );
    return rows.filter((r) => Number(r.deleted) !== Number(r.id) || r.deleted_at === null).map((r) => `${r.t} ${r.id} not soft-deleted`);
  };

  // A group still in the cell: soft-deleted there (Nova's deleted = id), nothing in the API database.
  await (await InstanceGroup.getByUuid(ctx, inCell))?.destroy(ctx);
  t.deepEqual(await softDeletedInCell(inCell), []);
  t.is(await apiRowsOf(inCell), 'none');
  t.is(await InstanceGroup.getByUuid(ctx, inCell), undefined);

  // A moved group: its API rows are gone (API tables have no soft delete).
  t.is(await apiRowsOf(moved), 'group, 1 policies, 2 members');
  await (await InstanceGroup.getByUuid(ctx, moved))?.destroy(ctx);
  t.is(await apiRowsOf(moved), 'none');
  t.is(await InstanceGroup.getByUuid(ctx, moved), undefined);

  // The group in both: the API copy read first, and its live cell copy goes too.
  const both = await InstanceGroup.getByUuid(ctx, h.both);
  t.is(both?.home.kind, 'api');
  await both?.destroy(ctx);
  t.is(await apiRowsOf(h.both), 'none');
  t.deepEqual(await softDeletedInCell(h.both), [], 'the live cell copy is soft-deleted, so the mover cannot bring it back');
  t.is(await InstanceGroup.getByUuid(ctx, h.both), undefined);
  t.is(await orphans(), 0, 'no policy or member left without its group');

  const r = await odm(h.d.cloud);
  t.true(r.code === 0 || r.code === 1, show(r));
  for (const uuid of [inCell, moved, h.both]) {
    t.is(await InstanceGroup.getByUuid(ctx, uuid), undefined, `${uuid} stays deleted after the mover runs`);
  }
  const left = sorted((await InstanceGroupList.getAll(ctx)).map((g) => g.get('uuid')));
  t.deepEqual(left, sorted([h.moved[1] as string, h.inCell[1] as string]));
});
