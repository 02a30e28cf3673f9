// Instance group uuids that differ only by letter case or trailing spaces (#14 item 3). A group is
// the same group only when its uuid is byte for byte the same. On MariaDB the API table's default
// collation takes `ab-case-uuid` and `AB-CASE-UUID` (or `ab-pad-uuid` and `ab-pad-uuid  `) for one
// uuid: the second cannot be copied, so it is blocked — exit 3, the row named with both spellings —
// and the blocker migration, `upgrade check` and the InstanceGroup object agree. On PostgreSQL both
// are copied as the distinct groups they are. Either way a run never exits 0 over live legacy rows.
import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { selectCells } from '../src/cells/fan-out.js';
import { targetCell } from '../src/cells/targeting.js';
import { ConnectionRegistry } from '../src/db/registry.js';
import { type GroupContext, InstanceGroup, InstanceGroupList } from '../src/objects/index.js';
import { type Cell, eachDialectLimited, query, runInProcess } from './helpers/cells.js';
import type { CliResult } from './helpers/cli.js';
import { apiGroups, exec, type LegacyDeployment, liveLegacyCounts, odm, plantCellGroup, show, useLegacyDeployment } from './helpers/movers.js';

const GROUPS = 'migrate_instance_groups_to_api_db';

interface JsonReport {
  exit_code: number;
  migrations: Array<{ name: string; total_needed: number; completed: number; blocked: number }>;
  blocked: Array<{ id: number; reason: string; mover: string; cell: string }>;
}

const report = (r: CliResult): JsonReport => JSON.parse(r.stdout) as JsonReport;

async function groupContext(t: ExecutionContext<unknown>, d: LegacyDeployment): Promise<GroupContext> {
  const registry = new ConnectionRegistry({ max: 4, connectTimeoutMs: 60_000 });
  t.teardown(() => registry.close());
  const api = registry.open(d.cloud.api);
  const cells = (await selectCells(api)).map((cell) => ({ cell, db: targetCell(registry, cell) }));
  return { api, cells };
}

/** The rows of the issue: a case pair and a trailing-space pair, one of each pair in each cell, each with a member. */
const PAIRS = [
  ['ab-case-uuid', 'AB-CASE-UUID'],
  ['ab-pad-uuid', 'ab-pad-uuid  '],
] as const;

async function plantPairs(d: LegacyDeployment): Promise<Record<string, { cell: Cell; id: number; member: string }>> {
  const [cell1, cell2] = d.cells as [Cell, Cell];
  const planted: Record<string, { cell: Cell; id: number; member: string }> = {};
  for (const [a, b] of PAIRS) {
    for (const [cell, uuid] of [
      [cell1, a],
      [cell2, b],
    ] as const) {
      const member = randomUUID();
      planted[uuid] = { cell, id: await plantCellGroup(cell.url, { uuid, name: `name of ${uuid}` }, ['affinity'], [member]), member };
    }
  }
  return planted;
}

async function liveInCell(cell: Cell, id: number): Promise<boolean> {
  const [row] = await query<{ deleted: number | string }>(cell.url, 'SELECT deleted FROM instance_groups WHERE id = :id', { id });
  return Number(row?.deleted) === 0;
}

eachDialectLimited(test, 'uuids differing only by case or trailing spaces: MariaDB blocks the second (exit 3, both spellings named), PostgreSQL copies both; nothing is left behind with exit 0', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  const planted = await plantPairs(d);
  const ctx = await groupContext(t, d);

  const dry = await odm(d.cloud, ['--dry-run', '--json']);
  const first = await odm(d.cloud, ['--json']);
  const api = await apiGroups(d.q, d.cloud.api);

  if (dialect === 'postgres') {
    t.is(first.code, 0, show(first));
    t.deepEqual(Object.keys(api).sort(), Object.keys(planted).sort(), 'four distinct groups, byte for byte');
    for (const [uuid, p] of Object.entries(planted)) {
      t.deepEqual(api[uuid]?.members, [p.member]);
      t.false(await liveInCell(p.cell, p.id));
    }
    t.is(dry.code, 1, show(dry));
    t.like(report(dry).migrations.find((m) => m.name === GROUPS), { total_needed: 4, blocked: 0 });
  } else {
    t.is(first.code, 3, show(first));
    const r = report(first);
    t.is(r.blocked.length, 2, show(first));
    t.like(r.migrations.find((m) => m.name === GROUPS), { total_needed: 4, completed: 2, blocked: 2 });
    for (const [a, b] of PAIRS) {
      // Cells run concurrently: either spelling may be first; the other is the blocked one.
      const copied = a in api ? a : b;
      const other = copied === a ? b : a;
      t.false(other in api, `only one of '${a}'/'${b}' is in the API database`);
      t.deepEqual(api[copied]?.members, [planted[copied]?.member], 'the copied group has its own member only');
      t.false(await liveInCell(planted[copied]?.cell as Cell, planted[copied]?.id as number), 'the copied one is soft-deleted in its cell');
      t.true(await liveInCell(planted[other]?.cell as Cell, planted[other]?.id as number), 'the blocked one stays live, untouched');
      const blocked = r.blocked.find((x) => x.id === planted[other]?.id && x.cell === planted[other]?.cell.name);
      t.truthy(blocked, show(first));
      t.true(blocked?.reason.includes(`instance group '${other}'`), blocked?.reason);
      t.true(blocked?.reason.includes(`holds group '${copied}'`), blocked?.reason);
      t.regex(blocked?.reason ?? '', /give this cell group a new uuid/);
    }
    // The dry run said the same before anything moved: nothing blocked yet (the API was empty).
    t.is(dry.code, 1, show(dry));
    // Rerun: still 3, and the human output names the rows.
    const again = await odm(d.cloud);
    t.is(again.code, 3, show(again));
    t.regex(again.stdout, /ab-case-uuid|AB-CASE-UUID/);
    t.regex(again.stdout, /'ab-pad-uuid  '|'ab-pad-uuid'/);
    const dryAfter = await odm(d.cloud, ['--dry-run', '--json']);
    t.is(dryAfter.code, 3, show(dryAfter));
    t.like(report(dryAfter).migrations.find((m) => m.name === GROUPS), { total_needed: 2, blocked: 2 });

    // upgrade check agrees: the rows left need an operator.
    const check = await runInProcess(['--api-db', d.cloud.api.raw, 'upgrade', 'check']);
    t.is(check.code, 2, show(check));
    const flat = check.stdout.replace(/[│|]/g, ' ').replace(/\s+/g, ' ');
    const needs = [...flat.matchAll(/migrate_instance_groups_to_api_db has (\d+) rows? left \((\d+) need an operator/g)];
    t.deepEqual([needs.reduce((n, m) => n + Number(m[1]), 0), needs.reduce((n, m) => n + Number(m[2]), 0)], [2, 2], flat);

    // The blocker agrees: db sync refuses the cells that still hold them.
    const sync = await runInProcess(['--api-db', d.cloud.api.raw, 'db', 'sync']);
    t.is(sync.code, 1, show(sync));
    t.regex(sync.stdout + sync.stderr, /unmigrated instance group/);

    // The object reads each spelling as its own group: the API copy, or the live cell group.
    for (const [a, b] of PAIRS) {
      for (const uuid of [a, b]) {
        const g = await InstanceGroup.getByUuid(ctx, uuid);
        t.is(g?.get('uuid'), uuid, `getByUuid('${uuid}') returns that spelling, not the other`);
        t.deepEqual(g?.get('members'), [planted[uuid]?.member]);
      }
    }
    t.deepEqual((await InstanceGroupList.getAll(ctx)).map((g) => g.get('uuid')).sort(), Object.keys(planted).sort());

    // The way out the reason gives: a new uuid for the cell group; then the run finishes.
    for (const [a, b] of PAIRS) {
      const other = a in api ? b : a;
      await exec(planted[other]?.cell.url as NonNullable<Cell['url']>, 'UPDATE instance_groups SET uuid = :fresh WHERE id = :id', { fresh: randomUUID(), id: planted[other]?.id });
    }
    const fixed = await odm(d.cloud);
    t.is(fixed.code, 0, show(fixed));
    t.is(Object.keys(await apiGroups(d.q, d.cloud.api)).length, 4);
  }
  // A cell without blocked rows may have been synced past the contract step above (no legacy tables).
  for (const cell of d.cells) t.is(await liveLegacyCounts(d.q, cell.url).catch((e: Error) => (/doesn't exist|does not exist/.test(e.message) ? '0/0/0' : e.message)), '0/0/0', `nothing left live in ${cell.name}`);
  const synced = await runInProcess(['--api-db', d.cloud.api.raw, 'db', 'sync']);
  t.is(synced.code, 0, show(synced));
});
