// Instance groups with a NULL member or policy (#14 item 4). The columns are nullable and the mover
// copies a NULL as it is, so the InstanceGroup object (1.1) reads, lists and writes such a group,
// before and after the move: a null item is kept (as null), never an error for the whole listing.
import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { selectCells } from '../src/cells/fan-out.js';
import { targetCell } from '../src/cells/targeting.js';
import { ConnectionRegistry } from '../src/db/registry.js';
import { type GroupContext, InstanceGroup, InstanceGroupList } from '../src/objects/index.js';
import { type Cell, eachDialectLimited, query } from './helpers/cells.js';
import { exec, type LegacyDeployment, odm, plantCellGroup, show, useLegacyDeployment } from './helpers/movers.js';

async function groupContext(t: ExecutionContext<unknown>, d: LegacyDeployment): Promise<GroupContext> {
  const registry = new ConnectionRegistry({ max: 4, connectTimeoutMs: 60_000 });
  t.teardown(() => registry.close());
  const api = registry.open(d.cloud.api);
  const cells = (await selectCells(api)).map((cell) => ({ cell, db: targetCell(registry, cell) }));
  return { api, cells };
}

const nullsLast = (values: ReadonlyArray<string | null>): Array<string | null> => [...values].sort((a, b) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0));

eachDialectLimited(test, 'a group with a NULL member and a NULL policy: read, listed and given members before and after the move, the NULLs kept', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  const cell = d.cells[0] as Cell;
  const ctx = await groupContext(t, d);
  const odd = randomUUID();
  const plain = randomUUID();
  const m1 = randomUUID();
  const id = await plantCellGroup(cell.url, { uuid: odd, name: 'odd' }, ['anti-affinity'], [m1]);
  await exec(cell.url, "INSERT INTO instance_group_member (instance_id, group_id, created_at, deleted) VALUES (NULL, :id, '2020-01-01 00:00:00', 0)", { id });
  await exec(cell.url, "INSERT INTO instance_group_policy (policy, group_id, created_at, deleted) VALUES (NULL, :id, '2020-01-01 00:00:00', 0)", { id });
  await plantCellGroup(cell.url, { uuid: plain, name: 'plain' }, ['affinity'], [randomUUID()]);

  // Before the move: from the cell.
  const before = await InstanceGroup.getByUuid(ctx, odd);
  t.truthy(before);
  t.is(before?.home.kind, 'cell');
  t.deepEqual(nullsLast(before?.get('members') ?? []), [m1, null]);
  t.deepEqual(nullsLast(before?.get('policies') ?? []), ['anti-affinity', null]);
  t.deepEqual((await InstanceGroupList.getAll(ctx)).map((g) => g.get('uuid')).sort(), [odd, plain].sort(), 'one odd group does not fail the whole listing');
  const m2 = randomUUID();
  await before?.addMembers(ctx, [m2]);
  t.deepEqual(nullsLast(before?.get('members') ?? []), nullsLast([m1, m2, null]));
  t.deepEqual(before?.toPrimitive('1.0').data['members'], before?.get('members').filter((m) => m !== null), 'a 1.0 peer gets the members without the null');

  // The move copies the NULLs as they are.
  const r = await odm(d.cloud);
  t.is(r.code, 0, show(r));
  const [apiRow] = await query<{ id: number }>(d.cloud.api, 'SELECT id FROM instance_groups WHERE uuid = :odd', { odd });
  const nullMembers = await query<{ n: number | string }>(d.cloud.api, 'SELECT COUNT(*) AS n FROM instance_group_member WHERE group_id = :id AND instance_uuid IS NULL', { id: apiRow?.id });
  t.is(Number(nullMembers[0]?.n), 1, 'the API copy holds the NULL member');

  // After the move: from the API database.
  const after = await InstanceGroup.getByUuid(ctx, odd);
  t.is(after?.home.kind, 'api');
  t.deepEqual(nullsLast(after?.get('members') ?? []), nullsLast([m1, m2, null]));
  t.deepEqual(nullsLast(after?.get('policies') ?? []), ['anti-affinity', null]);
  t.is((await InstanceGroupList.getAll(ctx)).length, 2);
  const m3 = randomUUID();
  await after?.addMembers(ctx, [m3]);
  const reread = await InstanceGroup.getByUuid(ctx, odd);
  t.deepEqual(nullsLast(reread?.get('members') ?? []), nullsLast([m1, m2, m3, null]));

  // A new group may be created with a null item, and reads back the same.
  const fresh = new InstanceGroup().update({ uuid: randomUUID(), user_id: null, project_id: 'p', name: null, policies: [null], members: ['x', null] });
  await fresh.create(ctx);
  const created = await InstanceGroup.getByUuid(ctx, fresh.get('uuid'));
  t.deepEqual(created?.get('policies'), [null]);
  t.deepEqual(nullsLast(created?.get('members') ?? []), ['x', null]);
});
