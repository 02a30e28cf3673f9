// The online data migrations as an operator runs them: `cellsdb db online_data_migrations` on a
// deployment whose cells still hold legacy instance groups and compute nodes without a host, then
// `db sync` past the blocker. Every check is on what the operator sees (exit code, output, log) and
// on the rows left behind, compared with the cells' content taken before the run.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { QueryTypes, Transaction } from 'sequelize';
import { ConnectionRegistry } from '../src/db/registry.js';
import type { DatabaseUrl } from '../src/url/index.js';
import { type Cell, insertRows, query, runInProcess, useCell } from './helpers/cells.js';
import type { CliResult } from './helpers/cli.js';
import { eachDialect } from './helpers/databases.js';
import {
  apiGroups,
  assertFinished,
  countRows,
  exec,
  expectation,
  fingerprint,
  liveLegacyCounts,
  nodes,
  odm,
  plantApiGroup,
  plantCellGroup,
  seed,
  show,
  spawnOdm,
  useLegacyDeployment,
} from './helpers/movers.js';

const GROUPS = 'migrate_instance_groups_to_api_db';
const NODES = 'migrate_compute_node_host';

interface JsonReport {
  dry_run: boolean;
  exit_code: number;
  migrations: Array<{ name: string; total_needed: number; completed: number; blocked: number }>;
  blocked: Array<{ id: number; reason: string; mover: string; cell: string }>;
  errors: unknown[];
}

function parseReport(r: CliResult): JsonReport {
  try {
    return JSON.parse(r.stdout) as JsonReport;
  } catch {
    throw new Error(`--json output does not parse: ${show(r)}`);
  }
}

const completed = (report: JsonReport, name: string): number | undefined => report.migrations.find((m) => m.name === name)?.completed;

/** The cell schema version of every cell, by name (`db version --json`). */
async function versions(api: DatabaseUrl): Promise<Record<string, number>> {
  const r = await runInProcess(['--api-db', api.raw, '--json', 'db', 'version']);
  const rows = JSON.parse(r.stdout) as Array<{ cell: string; number: number }>;
  return Object.fromEntries(rows.map((row) => [row.cell, row.number]));
}

async function tableExists(url: DatabaseUrl, table: string): Promise<boolean> {
  const rows = await query<{ n: number | string }>(
    url,
    url.dialect === 'postgres'
      ? 'SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = :table'
      : 'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :table',
    { table },
  );
  return Number(rows[0]?.n) > 0;
}

eachDialect(test, "Nova's scenario: --max-count 2 over one API group and three cell groups moves 2, then 1, then nothing", async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  const cell = d.cells[0] as Cell;
  await plantApiGroup(d.cloud.api, { uuid: randomUUID() }, ['affinity'], [randomUUID()]);
  for (let i = 0; i < 3; i++) await plantCellGroup(cell.url, { uuid: randomUUID(), name: `g${i}` }, ['anti-affinity'], [randomUUID(), randomUUID()]);
  const expected = await expectation(d);

  const first = await odm(d.cloud, ['--max-count', '2', '--json']);
  t.is(first.code, 1, show(first));
  t.is(completed(parseReport(first), GROUPS), 2, show(first));
  t.is(await countRows(d.q, d.cloud.api, 'instance_groups'), 3);
  t.is(await liveLegacyCounts(d.q, cell.url), '1/1/2');

  const second = await odm(d.cloud, ['--max-count', '2', '--json']);
  t.is(second.code, 1, show(second));
  t.is(completed(parseReport(second), GROUPS), 1, show(second));
  t.is(await countRows(d.q, d.cloud.api, 'instance_groups'), 4);

  const third = await odm(d.cloud, ['--max-count', '2', '--json']);
  t.is(third.code, 0, show(third));
  t.is(completed(parseReport(third), GROUPS), 0, show(third));
  await assertFinished(t, d, expected);
});

eachDialect(test, 'a uuid in both the API database and a cell counts as done: soft-deleted in the cell, its missing rows merged into the API copy', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  const cell = d.cells[0] as Cell;
  const uuid = randomUUID();
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  await plantApiGroup(d.cloud.api, { uuid, name: 'api-name', user_id: 'api-user' }, ['anti-affinity'], [a]);
  const cellId = await plantCellGroup(cell.url, { uuid, name: 'cell-name', user_id: 'cell-user' }, ['anti-affinity', 'soft-affinity'], [a, b, c]);

  const r = await odm(d.cloud, ['--json']);
  t.is(r.code, 0, show(r));
  t.is(completed(parseReport(r), GROUPS), 1, 'the group counts as done');
  const api = await apiGroups(d.q, d.cloud.api);
  t.deepEqual(Object.keys(api), [uuid]);
  t.like(api[uuid], { name: 'api-name', user_id: 'api-user' }, 'the API copy keeps its own fields');
  t.deepEqual(api[uuid]?.policies, ['anti-affinity', 'soft-affinity']);
  t.deepEqual(api[uuid]?.members, [a, b, c].sort());
  const [group] = await query<{ deleted: number | string; deleted_at: unknown }>(cell.url, 'SELECT deleted, deleted_at FROM instance_groups WHERE id = :id', { id: cellId });
  t.is(Number(group?.deleted), cellId, 'soft-deleted as Nova does (deleted = id)');
  t.truthy(group?.deleted_at);
  t.is(await liveLegacyCounts(d.q, cell.url), '0/0/0');
});

eachDialect(test, 'two seeded cells run to completion: the API tables hold exactly the original live groups, policies and members; every node has its host', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  for (const [i, cell] of d.cells.entries()) {
    await seed(cell, { groups: 150, policiesPerGroup: 2, membersPerGroup: 5, computeNodes: 80, hostPrefix: `c${i}-host` });
    // Rows that are soft-deleted already are history: they must stay as they are and never be copied.
    const gone = await plantCellGroup(cell.url, { uuid: randomUUID() }, ['affinity'], [randomUUID()]);
    await exec(cell.url, 'UPDATE instance_groups SET deleted = id, deleted_at = created_at WHERE id = :gone', { gone });
    await exec(cell.url, 'UPDATE instance_group_policy SET deleted = id, deleted_at = created_at WHERE group_id = :gone', { gone });
    await exec(cell.url, 'UPDATE instance_group_member SET deleted = id, deleted_at = created_at WHERE group_id = :gone', { gone });
    // A live group's soft-deleted member is not copied either.
    await exec(cell.url, 'UPDATE instance_group_member SET deleted = id, deleted_at = created_at WHERE id = (SELECT m.id FROM (SELECT MIN(id) AS id FROM instance_group_member WHERE group_id <> :gone) m)', { gone });
  }
  const expected = await expectation(d);
  t.is(Object.keys(expected.groups).length, 300);
  const r = await odm(d.cloud, ['--batch-size', '40']);
  t.is(r.code, 0, show(r));
  await assertFinished(t, d, expected);
  const again = await odm(d.cloud, ['--batch-size', '40']);
  t.is(again.code, 0, show(again));
});

eachDialect(test, '--max-count 0, -1, abc, 1.5 are invalid input: exit 127, one line, nothing written', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  await seed(d.cells[0] as Cell, { groups: 5, computeNodes: 3, hostPrefix: 'h' });
  const before = await fingerprint(d);
  const runs = await Promise.all(['0', '-1', 'abc', '1.5'].flatMap((bad) => [odm(d.cloud, [`--max-count=${bad}`]), odm(d.cloud, ['--max-count', bad])]));
  for (const r of runs) {
    t.is(r.code, 127, show(r));
    t.is(r.stderr.trim().split('\n').length, 1, show(r));
    t.regex(r.stderr, /max-count/, show(r));
    t.notRegex(r.stderr, /\n\s+at /);
  }
  t.is(await fingerprint(d), before);
});

eachDialect(test, '--dry-run writes nothing and reports what is left, as a table and as JSON', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  await seed(d.cells[0] as Cell, { groups: 7, computeNodes: 4, orphanNodes: 1, hostPrefix: 'a' });
  await seed(d.cells[1] as Cell, { groups: 5, computeNodes: 2, hostPrefix: 'b' });
  const before = await fingerprint(d);
  const json = await odm(d.cloud, ['--dry-run', '--json']);
  const report = parseReport(json);
  t.true(report.dry_run);
  t.deepEqual(
    report.migrations.map((m) => [m.name, m.total_needed, m.completed, m.blocked]),
    [
      [NODES, 7, 0, 1],
      [GROUPS, 12, 0, 0],
    ],
    show(json),
  );
  t.is(json.code, 1, show(json));
  const human = await odm(d.cloud, ['--dry-run']);
  t.regex(human.stdout, /Migration\s*[│|]\s*Total Needed\s*[│|]\s*Completed\s*[│|]\s*Blocked/, show(human));
  t.regex(human.stdout, new RegExp(`${GROUPS}\\s*[│|]\\s*12\\s*[│|]\\s*0\\s*[│|]\\s*0`), show(human));
  t.is(await fingerprint(d), before);
});

eachDialect(test, 'compute nodes: orphans and collisions are blocked with id and reason (exit 3); soft-deleted services and nodes are migrated', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  const cell = d.cells[0] as Cell;
  const at = new Date(Date.UTC(2020, 1, 2));
  await insertRows(cell.url, 'services', ['live-1', 'gone-2', 'twin-3', 'done-4'].map((host) => ({ host, binary: 'nova-compute', topic: 'compute', report_count: 0, created_at: at, deleted: 0 })));
  await exec(cell.url, "UPDATE services SET deleted = id, deleted_at = created_at WHERE host = 'gone-2'");
  const sid = Object.fromEntries((await query<{ id: number; host: string }>(cell.url, 'SELECT id, host FROM services')).map((s) => [s.host, Number(s.id)]));
  // vcpus tells the nodes apart (ids come from the database).
  const plant = [
    { vcpus: 1, service_id: sid['live-1'], host: null, hypervisor_hostname: 'live-1.example.org' },
    { vcpus: 2, service_id: sid['gone-2'], host: null, hypervisor_hostname: 'gone-2.example.org' }, // its service is soft-deleted: still the host
    { vcpus: 3, service_id: sid['live-1'], host: null, hypervisor_hostname: 'live-1.example.org' }, // soft-deleted below: migrated too
    { vcpus: 4, service_id: 1_999_999_999, host: null, hypervisor_hostname: 'orphan.example.org' }, // service row gone
    { vcpus: 5, service_id: sid['twin-3'], host: null, hypervisor_hostname: 'twin-3.example.org' },
    { vcpus: 6, service_id: sid['twin-3'], host: null, hypervisor_hostname: 'twin-3.example.org' }, // same key as 5
    { vcpus: 7, service_id: null, host: 'done-4', hypervisor_hostname: 'done-4.example.org' }, // backfilled already
    { vcpus: 8, service_id: sid['done-4'], host: null, hypervisor_hostname: 'done-4.example.org' }, // collides with 7
    { vcpus: 9, service_id: null, host: null, hypervisor_hostname: 'lost.example.org' }, // neither: the blocker counts it
  ];
  for (const node of plant) await insertRows(cell.url, 'compute_nodes', [{ ...node, memory_mb: 1024, local_gb: 10, created_at: at, deleted: 0 }]);
  await exec(cell.url, 'UPDATE compute_nodes SET deleted = id, deleted_at = created_at WHERE vcpus = 3');
  const id = Object.fromEntries((await query<{ id: number; vcpus: number }>(cell.url, 'SELECT id, vcpus FROM compute_nodes')).map((n) => [Number(n.vcpus), String(n.id)]));

  const first = await odm(d.cloud, ['--json']);
  t.is(first.code, 3, show(first));
  const report = parseReport(first);
  t.deepEqual(
    report.blocked.map((b) => [b.mover, b.cell, String(b.id)]).sort(),
    [
      [NODES, 'cell1', id[4]],
      [NODES, 'cell1', id[6]],
      [NODES, 'cell1', id[8]],
      [NODES, 'cell1', id[9]],
    ].sort(),
  );
  const reason = (vcpus: number) => report.blocked.find((b) => String(b.id) === id[vcpus])?.reason ?? '';
  t.regex(reason(4), /service .* no longer exists/);
  t.regex(reason(6), new RegExp(`collide with compute node ${id[5]}`));
  t.regex(reason(8), new RegExp(`collide with compute node ${id[7]}`));
  t.regex(reason(9), /neither a host nor a service/);
  t.like(report.migrations.find((m) => m.name === NODES), { completed: 4, blocked: 4 });

  const after = await nodes(d.q, cell.url);
  t.like(after[id[1] as string], { host: 'live-1', service_id: null });
  t.like(after[id[2] as string], { host: 'gone-2', service_id: null });
  t.like(after[id[3] as string], { host: 'live-1', service_id: null });
  t.like(after[id[5] as string], { host: 'twin-3', service_id: null });
  for (const blocked of [4, 6, 8, 9]) t.like(after[id[blocked] as string], { host: null, service_id: plant[blocked - 1]?.service_id }, `node ${blocked} untouched`);

  // Only blocked rows left: exit 3 with and without --max-count, listed in the human output too.
  const limited = await odm(d.cloud, ['--max-count', '5']);
  t.is(limited.code, 3, show(limited));
  for (const blocked of [4, 6, 8, 9]) t.regex(limited.stdout, new RegExp(`cell1\\s*[│|]\\s*${NODES}\\s*[│|]\\s*${id[blocked]}\\s*[│|]`), show(limited));
  t.regex(limited.stderr, /blocked/i);
  const unlimited = await odm(d.cloud);
  t.is(unlimited.code, 3, show(unlimited));

  // The blocker agrees, and the operator's fixes unblock the rest.
  const sync = await runInProcess(['--api-db', d.cloud.api.raw, 'db', 'sync']);
  t.is(sync.code, 1, show(sync));
  t.regex(sync.stderr + sync.stdout, /4 compute nodes without a host/);
  await exec(cell.url, "UPDATE compute_nodes SET host = 'orphan', service_id = NULL WHERE vcpus IN (4, 9)");
  await exec(cell.url, 'UPDATE compute_nodes SET deleted = id, deleted_at = created_at WHERE vcpus IN (6, 8)');
  const fixed = await odm(d.cloud, ['--json']);
  t.is(fixed.code, 0, show(fixed));
  t.like(parseReport(fixed).migrations.find((m) => m.name === NODES), { completed: 2, blocked: 0 });
  t.like((await nodes(d.q, cell.url))[id[6] as string], { host: 'twin-3', service_id: null, deleted: Number(id[6]) });
  t.is((await runInProcess(['--api-db', d.cloud.api.raw, 'db', 'sync'])).code, 0);
});

eachDialect(test, 'compute nodes in small batches: windows of only blocked nodes do not end the run, and a later twin is blocked, not the first', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  const cell = d.cells[0] as Cell;
  const at = new Date(Date.UTC(2020, 1, 2));
  await insertRows(cell.url, 'services', ['good', 'twin'].map((host) => ({ host, binary: 'nova-compute', topic: 'compute', report_count: 0, created_at: at, deleted: 0 })));
  const sid = Object.fromEntries((await query<{ id: number; host: string }>(cell.url, 'SELECT id, host FROM services')).map((s) => [s.host, Number(s.id)]));
  // vcpus tells the nodes apart: six orphans first (three whole windows of two), then a twin, three
  // good nodes, and the twin's later copy, two windows on.
  const plant = [
    ...[1, 2, 3, 4, 5, 6].map((n) => ({ vcpus: n, service_id: 1_999_999_000 + n, hypervisor_hostname: `orphan-${n}.example.org` })),
    { vcpus: 7, service_id: sid['twin'], hypervisor_hostname: 'twin.example.org' },
    ...[8, 9, 10].map((n) => ({ vcpus: n, service_id: sid['good'], hypervisor_hostname: `good-${n}.example.org` })),
    { vcpus: 11, service_id: sid['twin'], hypervisor_hostname: 'twin.example.org' },
  ];
  for (const node of plant) await insertRows(cell.url, 'compute_nodes', [{ ...node, host: null, memory_mb: 1024, local_gb: 10, created_at: at, deleted: 0 }]);
  const id = Object.fromEntries((await query<{ id: number; vcpus: number }>(cell.url, 'SELECT id, vcpus FROM compute_nodes')).map((n) => [Number(n.vcpus), String(n.id)]));

  const run = await odm(d.cloud, ['--json', '--batch-size', '2']);
  t.is(run.code, 3, show(run));
  const report = parseReport(run);
  t.like(report.migrations.find((m) => m.name === NODES), { completed: 4, blocked: 7 });
  t.deepEqual(report.blocked.map((b) => String(b.id)).sort(), [1, 2, 3, 4, 5, 6, 11].map((n) => id[n] as string).sort());
  t.regex(report.blocked.find((b) => String(b.id) === id[11])?.reason ?? '', new RegExp(`collide with compute node ${id[7]}`));
  const after = await nodes(d.q, cell.url);
  for (const n of [7, 8, 9, 10]) t.like(after[id[n] as string], { host: n === 7 ? 'twin' : 'good', service_id: null }, `node ${n} migrated`);
  for (const n of [1, 2, 3, 4, 5, 6, 11]) t.like(after[id[n] as string], { host: null, service_id: plant[n - 1]?.service_id }, `node ${n} untouched`);
});

eachDialect(test, 'the blocker: a dirty cell stops db sync with its name, count and the way out; soft-deleted rows and empty cells pass; after the movers, sync reaches head', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['dirty', 'history']);
  const [dirty, history] = d.cells as [Cell, Cell];
  await seed(dirty, { groups: 3, computeNodes: 2, hostPrefix: 'dirty' });
  await seed(history, { groups: 4, computeNodes: 2, hostPrefix: 'history' });
  for (const table of ['instance_group_member', 'instance_group_policy', 'instance_groups']) {
    await exec(history.url, `UPDATE ${table} SET deleted = id, deleted_at = created_at`);
  }
  await exec(history.url, 'UPDATE compute_nodes SET deleted = id, deleted_at = created_at');
  const expected = await expectation(d);

  const blocked = await runInProcess(['--api-db', d.cloud.api.raw, 'db', 'sync']);
  t.is(blocked.code, 1, show(blocked));
  const message = blocked.stderr + blocked.stdout;
  t.regex(message, /dirty/);
  t.regex(message, /3 unmigrated instance groups/);
  t.regex(message, /2 compute nodes without a host/);
  t.regex(message, /cellsdb db online_data_migrations/);
  t.notRegex(message, /history'.*unmigrated/);
  const head = (await versions(d.cloud.api)).cell0 as number;
  t.true(head >= 5);
  t.deepEqual(await versions(d.cloud.api), { cell0: head, dirty: 3, history: head }, 'soft-deleted rows and an empty cell do not block');
  t.false(await tableExists(history.url, 'instance_groups'), '0005 dropped the legacy tables');

  // A fresh cell syncs from nothing to head.
  const fresh = await useCell(t, d.cloud, 'fresh');
  const freshSync = await runInProcess(['--api-db', d.cloud.api.raw, 'db', 'sync', '--cell', 'fresh']);
  t.is(freshSync.code, 0, show(freshSync));
  t.false(await tableExists(fresh.url, 'instance_groups'));

  const moved = await odm(d.cloud);
  t.is(moved.code, 0, show(moved));
  const synced = await runInProcess(['--api-db', d.cloud.api.raw, 'db', 'sync']);
  t.is(synced.code, 0, show(synced));
  t.deepEqual(await versions(d.cloud.api), { cell0: head, dirty: head, fresh: head, history: head });
  t.false(await tableExists(dirty.url, 'instance_groups'));
  t.deepEqual(Object.keys(await apiGroups(d.q, d.cloud.api)).sort(), Object.keys(expected.groups).sort());
  const later = await odm(d.cloud);
  t.is(later.code, 0, show(later));
});

eachDialect(test, 'output: --json totals, the human table, and one log line per batch in --log-file (text and JSON)', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  await seed(d.cells[0] as Cell, { groups: 25, computeNodes: 10, hostPrefix: 'a' });
  await seed(d.cells[1] as Cell, { groups: 12, computeNodes: 3, hostPrefix: 'b' });
  const dir = mkdtempSync(join(tmpdir(), 'cellsdb-movers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const jsonLog = join(dir, 'batches.jsonl');
  const json = await odm(d.cloud, ['--json', '--max-count', '30', '--log-file', jsonLog, '--log-format', 'json']);
  t.is(json.code, 1, show(json));
  const report = parseReport(json);
  t.deepEqual(
    report.migrations.map((m) => Object.keys(m).sort()),
    [
      ['blocked', 'completed', 'name', 'total_needed'],
      ['blocked', 'completed', 'name', 'total_needed'],
    ].slice(0, report.migrations.length),
  );
  t.is(completed(report, GROUPS), 30);
  const lines = readFileSync(jsonLog, 'utf8').trim().split('\n');
  const entries = lines.map((l) => JSON.parse(l) as { event?: string; cell: string; mover: string; key_range: [number, number]; found: number; done: number; ms: number });
  // Besides one line per batch, the log records each change of the impact controller's pace (#12):
  // on a loaded machine the movers may be throttled here.
  const batches = entries.filter((e) => e.event !== 'pace');
  for (const b of batches) {
    t.true(typeof b.cell === 'string' && typeof b.mover === 'string' && typeof b.ms === 'number' && typeof b.found === 'number' && typeof b.done === 'number', JSON.stringify(b));
    t.is(b.key_range.length, 2);
  }
  t.is(batches.filter((b) => b.mover === GROUPS).reduce((n, b) => n + b.done, 0), 30, 'the batch lines add up to what was done');

  const textLog = join(dir, 'batches.log');
  const human = await odm(d.cloud, ['--batch-size', '4', '--log-file', textLog]);
  t.is(human.code, 0, show(human));
  t.regex(human.stdout, /Migration\s*[│|]\s*Total Needed\s*[│|]\s*Completed\s*[│|]\s*Blocked/, show(human));
  t.regex(human.stdout, new RegExp(`${GROUPS}\\s*[│|]\\s*7\\s*[│|]\\s*7\\s*[│|]\\s*0`), show(human));
  t.regex(human.stdout, new RegExp(`${NODES}\\s*[│|]\\s*13\\s*[│|]\\s*13\\s*[│|]\\s*0`), show(human));
  t.notRegex(human.stderr, /batch cell=/, 'batch lines go to the log file, not stderr');
  const text = readFileSync(textLog, 'utf8').trim().split('\n').filter((l) => !/^\S+ movers (throttled|paused|back to full speed)/.test(l));
  t.true(text.every((l) => /batch cell=\S+ mover=\S+ keys=\(\d+,\d+\] rows=\d+ done=\d+ ms=\d+$/.test(l)), text.join('\n'));
  const doneOf = (mover: string) => text.filter((l) => l.includes(`mover=${mover} `)).reduce((n, l) => n + Number(/done=(\d+)/.exec(l)?.[1]), 0);
  t.is(doneOf(GROUPS), 7);
  t.is(doneOf(NODES), 13);
  t.true(text.filter((l) => l.includes(`mover=${GROUPS} `) && l.includes('cell=cell1')).length >= 2, 'small batches: several lines');
});

eachDialect(test, '--max-count N moves exactly N rows when one cell is slow to give back its unused share', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['a-slow', 'b-busy']);
  const [slow, busy] = d.cells as [Cell, Cell];
  const held = randomUUID();
  await plantCellGroup(slow.url, { uuid: held }, ['affinity'], [randomUUID()]);
  for (let i = 0; i < 10; i++) await plantCellGroup(busy.url, { uuid: randomUUID() }, ['affinity'], [randomUUID()]);
  // The slow cell's only group is locked by another transaction: its batch waits for it, holding
  // its share of the budget, while the busy cell spends its own and asks for more.
  const registry = new ConnectionRegistry({ max: 1, connectTimeoutMs: 60_000 });
  t.teardown(() => registry.close());
  const h = registry.open(slow.url);
  const transaction = await h.sequelize.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED });
  await h.sequelize.query('SELECT id FROM instance_groups WHERE uuid = :held FOR UPDATE', { replacements: { held }, type: QueryTypes.SELECT, transaction });
  const run = spawnOdm(d.cloud, ['--max-count', '6', '--lock-wait', '30', '--json', '--log-batches']);
  await new Promise<void>((resolve) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (/batch cell=b-busy .*done=[1-9]/.test(seen)) resolve();
    };
    run.stderr?.on('data', onData);
    run.once('close', () => resolve());
  });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await transaction.commit();
  const r = await run.result;
  t.is(r.code, 1, show(r));
  t.is(completed(parseReport(r), GROUPS), 6, show(r));
  t.is(await countRows(d.q, d.cloud.api, 'instance_groups'), 6);
});
