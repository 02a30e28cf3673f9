// Every cell_v2 command through the real CLI, one test per exit code, on both dialects: the exit
// codes are nova-manage's, so that runbooks written for it read the same here.
import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { type Dialect, parseDatabaseUrl } from '../src/url/index.js';
import { useDatabase } from './helpers/databases.js';
import {
  type Cell,
  type Cloud,
  describeResult,
  eachDialectLimited,
  hostMappings,
  insertRows,
  type ListedCell,
  listedCells,
  mapHosts,
  mapInstances,
  query,
  useCell,
  useCell0,
  useCloud,
} from './helpers/cells.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CELL0_UUID = '00000000-0000-0000-0000-000000000000';

async function instanceMappingCount(cloud: Cloud, cell: Cell): Promise<number> {
  const rows = await query<{ n: number | string }>(
    cloud.api,
    'SELECT COUNT(*) AS n FROM instance_mappings WHERE cell_id = (SELECT id FROM cell_mappings WHERE uuid = :uuid)',
    { uuid: cell.uuid },
  );
  return Number(rows[0]?.n);
}

// ---------------------------------------------------------------- map_cell0

eachDialectLimited(test, 'map_cell0: exit 0 creates cell0; a second run exits 0 and says it is already setup', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell0Db = await useDatabase(t, dialect, 'cell0');

  const first = await cloud.cli(['cell_v2', 'map_cell0', '--database_connection', cell0Db.raw]);
  t.is(first.code, 0, describeResult(first));
  t.is(first.stdout, '', 'silent on success, as nova-manage');
  const second = await cloud.cli(['cell_v2', 'map_cell0', '--database_connection', cell0Db.raw]);
  t.is(second.code, 0, describeResult(second));
  t.regex(second.stdout, /already setup/);

  const cells = await listedCells(cloud);
  t.deepEqual(cells, [{ name: 'cell0', uuid: CELL0_UUID, transport_url: 'none:///', database_connection: cell0Db.raw, disabled: false }]);
});

eachDialectLimited(test, "map_cell0: without --database_connection, cell0's database is --db's with _cell0 appended", async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const local = await useDatabase(t, dialect, 'local');

  const r = await cloud.cli(['--db', local.raw, 'cell_v2', 'map_cell0']);
  t.is(r.code, 0, describeResult(r));

  const cells = await listedCells(cloud);
  t.is(cells.length, 1);
  t.is(cells[0]?.uuid, CELL0_UUID);
  const cell0 = parseDatabaseUrl(cells[0]?.database_connection ?? '');
  t.is(cell0.database, `${local.database}_cell0`);
  t.is(cell0.dialect, local.dialect);
  t.is(cell0.host, local.host);
  t.is(cell0.port, local.port);
  t.is(cell0.username, local.username);
});

// ---------------------------------------------------------------- create_cell

eachDialectLimited(test, 'create_cell: exit 0, --verbose prints the new uuid, and the cell is listed', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const db = await useDatabase(t, dialect, 'cell1');

  const r = await cloud.cli(['cell_v2', 'create_cell', '--name', 'cell1', '--transport-url', 'rabbit://u:pw@h/', '--database_connection', db.raw, '--verbose']);
  t.is(r.code, 0, describeResult(r));
  const uuid = r.stdout.trim();
  t.regex(uuid, UUID_RE);
  t.deepEqual(await listedCells(cloud), [{ name: 'cell1', uuid, transport_url: 'rabbit://u:pw@h/', database_connection: db.raw, disabled: false }]);
});

eachDialectLimited(test, 'create_cell: exit 1 without --transport-url or without --database_connection, and nothing is created', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const db = await useDatabase(t, dialect, 'cell1');

  const noTransport = await cloud.cli(['cell_v2', 'create_cell', '--name', 'cell1', '--database_connection', db.raw]);
  t.is(noTransport.code, 1, describeResult(noTransport));
  t.regex(noTransport.stderr, /--transport-url/);
  const noDatabase = await cloud.cli(['cell_v2', 'create_cell', '--name', 'cell1', '--transport-url', 'rabbit://u:pw@h/']);
  t.is(noDatabase.code, 1, describeResult(noDatabase));
  t.regex(noDatabase.stderr, /--database_connection/);
  t.deepEqual(await listedCells(cloud), []);
});

eachDialectLimited(test, 'create_cell: exit 2 when another cell already has the same transport URL', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell1 = await useCell(t, cloud, 'cell1');
  const other = await useDatabase(t, dialect, 'cell2');

  const r = await cloud.cli(['cell_v2', 'create_cell', '--name', 'cell2', '--transport-url', cell1.transportUrl, '--database_connection', other.raw]);
  t.is(r.code, 2, describeResult(r));
  t.regex(r.stderr, new RegExp(`already exists for another cell with uuid ${cell1.uuid}`));
  t.deepEqual((await listedCells(cloud)).map((c) => c.name), ['cell1']);
});

eachDialectLimited(test, 'create_cell: exit 2 when another cell already has the same database URL', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell1 = await useCell(t, cloud, 'cell1');

  const r = await cloud.cli(['cell_v2', 'create_cell', '--name', 'cell2', '--transport-url', 'rabbit://u:pw@other/', '--database_connection', cell1.url.raw]);
  t.is(r.code, 2, describeResult(r));
  t.regex(r.stderr, new RegExp(`already exists for another cell with uuid ${cell1.uuid}`));
  t.deepEqual((await listedCells(cloud)).map((c) => c.name), ['cell1']);
});

eachDialectLimited(test, 'create_cell: exit 127 for a malformed database URL, and nothing is created', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);

  const r = await cloud.cli(['cell_v2', 'create_cell', '--name', 'cell1', '--transport-url', 'rabbit://u:pw@h/', '--database_connection', 'mysql+pymysql//nova:pw@db/nova']);
  t.is(r.code, 127, describeResult(r));
  t.regex(r.stderr, /^cellsdb: error: malformed database URL/m);
  t.deepEqual(await listedCells(cloud), []);
});

// ---------------------------------------------------------------- list_cells

/** The order in which `names` appear in `text`. */
const orderIn = (text: string, names: readonly string[]): string[] => {
  const at = (n: string): number => text.search(new RegExp(`\\|\\s+${n}\\s+\\|`));
  return names.filter((n) => at(n) >= 0).sort((a, b) => at(a) - at(b));
};

eachDialectLimited(test, 'list_cells: a table sorted by name, URLs masked', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  // Created out of order: the listing sorts, it does not keep insertion or id order.
  await useCell(t, cloud, 'zeta', { transportUrl: 'rabbit://nova:zeta-mq-pw@zeta:5672/' });
  await useCell0(t, cloud);
  await useCell(t, cloud, 'alpha', { transportUrl: 'rabbit://nova:alpha-mq-pw@alpha:5672/' });
  await useCell(t, cloud, 'mid', { transportUrl: 'rabbit://nova:mid-mq-pw@mid:5672/' });

  const r = await cloud.cli(['cell_v2', 'list_cells']);
  t.is(r.code, 0, describeResult(r));
  t.deepEqual(orderIn(r.stdout, ['zeta', 'cell0', 'alpha', 'mid']), ['alpha', 'cell0', 'mid', 'zeta']);
  t.true(r.stdout.includes('rabbit://nova:****@alpha:5672/'), r.stdout);
  t.false(r.stdout.includes('mq-pw'), r.stdout);
});

eachDialectLimited(test, 'list_cells --json: sorted by name, URLs masked; --verbose shows them in the table and in JSON', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const b = await useCell(t, cloud, 'b-cell', { transportUrl: 'rabbit://nova:b-mq-pw@b:5672/', databaseConnection: `${dialect === 'postgres' ? 'postgresql' : 'mysql+pymysql'}://nova:b-db-pw@db-b/nova` });
  const a = await useCell(t, cloud, 'a-cell', { transportUrl: 'rabbit://nova:a-mq-pw@a:5672/', databaseConnection: `${dialect === 'postgres' ? 'postgresql' : 'mysql+pymysql'}://nova:a-db-pw@db-a/nova` });

  const masked = await cloud.cli(['--json', 'cell_v2', 'list_cells']);
  t.is(masked.code, 0, describeResult(masked));
  const rows = JSON.parse(masked.stdout) as Array<{ name: string; uuid: string; transport_url: string; database_connection: string; disabled: boolean }>;
  t.deepEqual(rows, [
    { name: 'a-cell', uuid: a.uuid, transport_url: 'rabbit://nova:****@a:5672/', database_connection: a.url.masked, disabled: false },
    { name: 'b-cell', uuid: b.uuid, transport_url: 'rabbit://nova:****@b:5672/', database_connection: b.url.masked, disabled: false },
  ]);
  t.false(masked.stdout.includes('-pw'));

  const verboseJson = await cloud.cli(['--json', 'cell_v2', 'list_cells', '--verbose']);
  t.is(verboseJson.code, 0, describeResult(verboseJson));
  t.deepEqual(JSON.parse(verboseJson.stdout), [
    { name: 'a-cell', uuid: a.uuid, transport_url: a.transportUrl, database_connection: a.url.raw, disabled: false },
    { name: 'b-cell', uuid: b.uuid, transport_url: b.transportUrl, database_connection: b.url.raw, disabled: false },
  ]);

  const verboseTable = await cloud.cli(['cell_v2', 'list_cells', '--verbose']);
  t.is(verboseTable.code, 0, describeResult(verboseTable));
  for (const secret of ['a-mq-pw', 'b-mq-pw', 'a-db-pw', 'b-db-pw']) t.true(verboseTable.stdout.includes(secret), `${secret} in ${verboseTable.stdout}`);
});

// ---------------------------------------------------------------- update_cell

eachDialectLimited(test, 'update_cell: exit 0 changes only the fields given; omitted ones stay as they were', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell = await useCell(t, cloud, 'cell1');
  const newDb = await useDatabase(t, dialect, 'cell1new');
  const before = (await listedCells(cloud))[0] as ListedCell;

  const rename = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', cell.uuid, '--name', 'renamed']);
  t.is(rename.code, 0, describeResult(rename));
  t.deepEqual(await listedCells(cloud), [{ ...before, name: 'renamed' }]);

  const transport = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', cell.uuid, '--transport-url', 'rabbit://nova:new@mq2:5672/']);
  t.is(transport.code, 0, describeResult(transport));
  t.deepEqual(await listedCells(cloud), [{ ...before, name: 'renamed', transport_url: 'rabbit://nova:new@mq2:5672/' }]);

  const database = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', cell.uuid, '--database_connection', newDb.raw, '--disable']);
  t.is(database.code, 0, describeResult(database));
  t.deepEqual(await listedCells(cloud), [
    { ...before, name: 'renamed', transport_url: 'rabbit://nova:new@mq2:5672/', database_connection: newDb.raw, disabled: true },
  ]);

  const enable = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', cell.uuid, '--enable']);
  t.is(enable.code, 0, describeResult(enable));
  t.deepEqual(await listedCells(cloud), [
    { ...before, name: 'renamed', transport_url: 'rabbit://nova:new@mq2:5672/', database_connection: newDb.raw, disabled: false },
  ]);
});

eachDialectLimited(test, 'update_cell: exit 1 when the cell is not found', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell(t, cloud, 'cell1');
  const before = await listedCells(cloud);

  const r = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', randomUUID(), '--name', 'x']);
  t.is(r.code, 1, describeResult(r));
  t.regex(r.stderr, /not found/);
  t.deepEqual(await listedCells(cloud), before);
});

eachDialectLimited(test, "update_cell: exit 3 when the new transport or database URL is another cell's", async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell1 = await useCell(t, cloud, 'cell1');
  const cell2 = await useCell(t, cloud, 'cell2');
  const before = await listedCells(cloud);

  const transport = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', cell2.uuid, '--transport-url', cell1.transportUrl]);
  t.is(transport.code, 3, describeResult(transport));
  const database = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', cell2.uuid, '--database_connection', cell1.url.raw, '--name', 'x']);
  t.is(database.code, 3, describeResult(database));
  t.deepEqual(await listedCells(cloud), before, 'nothing changed');
  // Its own URLs are no clash.
  const own = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', cell2.uuid, '--transport-url', cell2.transportUrl]);
  t.is(own.code, 0, describeResult(own));
});

eachDialectLimited(test, 'update_cell: exit 4 with both --disable and --enable', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell = await useCell(t, cloud, 'cell1');
  const before = await listedCells(cloud);

  const r = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', cell.uuid, '--disable', '--enable', '--name', 'x']);
  t.is(r.code, 4, describeResult(r));
  t.deepEqual(await listedCells(cloud), before);
});

eachDialectLimited(test, 'update_cell: exit 5 when disabling cell0', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell0(t, cloud);
  const before = await listedCells(cloud);

  const r = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', CELL0_UUID, '--disable']);
  t.is(r.code, 5, describeResult(r));
  t.regex(r.stderr, /Cell0 cannot be disabled\./);
  t.deepEqual(await listedCells(cloud), before);
  t.false(before[0]?.disabled);
});

// ---------------------------------------------------------------- delete_cell

eachDialectLimited(test, 'delete_cell: exit 0 deletes an empty cell', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const keep = await useCell(t, cloud, 'keep');
  const gone = await useCell(t, cloud, 'gone', { sync: true });

  const r = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', gone.uuid]);
  t.is(r.code, 0, describeResult(r));
  t.is(r.stdout, '', 'silent on success, as nova-manage');
  t.deepEqual((await listedCells(cloud)).map((c) => c.uuid), [keep.uuid]);
});

eachDialectLimited(test, 'delete_cell: exit 1 when the cell is not found', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell(t, cloud, 'cell1');

  const r = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', randomUUID(), '--force']);
  t.is(r.code, 1, describeResult(r));
  t.regex(r.stderr, /not found/);
  t.is((await listedCells(cloud)).length, 1);
});

eachDialectLimited(test, 'delete_cell: exit 2 when hosts are mapped to the cell and --force is not given', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell = await useCell(t, cloud, 'cell1', { sync: true });
  await mapHosts(cloud, cell, ['compute-1', 'compute-2']);

  const r = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', cell.uuid]);
  t.is(r.code, 2, describeResult(r));
  t.regex(r.stderr, /There are existing hosts mapped to cell with uuid/);
  t.deepEqual((await listedCells(cloud)).map((c) => c.uuid), [cell.uuid]);
  t.deepEqual(await hostMappings(cloud), { 'compute-1': cell.uuid, 'compute-2': cell.uuid });
});

eachDialectLimited(test, 'delete_cell: exit 3 when the cell has live instances, even with --force', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell = await useCell(t, cloud, 'cell1', { sync: true });
  const live = randomUUID();
  const deleted = randomUUID();
  await insertRows(cell.url, 'instances', [
    { id: 1, uuid: live, deleted: 0 },
    { id: 2, uuid: deleted, deleted: 2 },
  ]);
  await mapInstances(cloud, cell, [live, deleted]);

  for (const args of [[], ['--force']]) {
    const r = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', cell.uuid, ...args]);
    t.is(r.code, 3, `${args.join(' ')}: ${describeResult(r)}`);
    t.regex(r.stderr, /There are existing instances mapped to cell with uuid/);
  }
  t.deepEqual((await listedCells(cloud)).map((c) => c.uuid), [cell.uuid]);
  t.is(await instanceMappingCount(cloud, cell), 2);
});

eachDialectLimited(test, 'delete_cell: exit 4 when only mappings of deleted instances remain; --force then exits 0 and removes them', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const other = await useCell(t, cloud, 'other');
  const cell = await useCell(t, cloud, 'cell1', { sync: true });
  const [a, b, elsewhere] = [randomUUID(), randomUUID(), randomUUID()];
  await insertRows(cell.url, 'instances', [
    { id: 1, uuid: a, deleted: 1 },
    { id: 2, uuid: b, deleted: 2 },
  ]);
  await mapInstances(cloud, cell, [a, b]);
  await mapInstances(cloud, other, [elsewhere]);

  const refused = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', cell.uuid]);
  t.is(refused.code, 4, describeResult(refused));
  t.regex(refused.stderr, /--force/);
  t.is(await instanceMappingCount(cloud, cell), 2);

  const forced = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', cell.uuid, '--force']);
  t.is(forced.code, 0, describeResult(forced));
  t.deepEqual((await listedCells(cloud)).map((c) => c.uuid), [other.uuid]);
  const mappings = await query<{ instance_uuid: string }>(cloud.api, 'SELECT instance_uuid FROM instance_mappings');
  t.deepEqual(mappings.map((m) => m.instance_uuid), [elsewhere], "only the other cell's mapping is left");
});

eachDialectLimited(test, 'delete_cell --force: exit 0 with hosts mapped; its host mappings go, other cells keep theirs', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const other = await useCell(t, cloud, 'other');
  const cell = await useCell(t, cloud, 'cell1', { sync: true });
  await mapHosts(cloud, cell, ['compute-1', 'compute-2']);
  await mapHosts(cloud, other, ['compute-9']);

  const r = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', cell.uuid, '--force']);
  t.is(r.code, 0, describeResult(r));
  t.deepEqual((await listedCells(cloud)).map((c) => c.uuid), [other.uuid]);
  t.deepEqual(await hostMappings(cloud), { 'compute-9': other.uuid });
});

// ---------------------------------------------------------------- discover_hosts

/** cell0 and two synced cells: cell1 with compute nodes (one legacy, one deleted), cell2 with one node. */
async function cloudWithComputes(t: ExecutionContext, dialect: Dialect) {
  const cloud = await useCloud(t, dialect);
  const cell0 = await useCell0(t, cloud, { sync: true });
  const cell1 = await useCell(t, cloud, 'cell1', { sync: true });
  const cell2 = await useCell(t, cloud, 'cell2', { sync: true });
  // cell0 never has hosts; if a row turns up there anyway, discover_hosts must not map it.
  await insertRows(cell0.url, 'compute_nodes', [{ id: 1, service_id: null, host: 'cell0-host', hypervisor_hostname: 'n0', deleted: 0 }]);
  await insertRows(cell1.url, 'services', [
    { id: 1, host: 'compute-a', binary: 'nova-compute', topic: 'compute', deleted: 0 },
    { id: 2, host: 'compute-legacy', binary: 'nova-compute', topic: 'compute', deleted: 0 },
    { id: 3, host: 'compute-gone', binary: 'nova-compute', topic: 'compute', deleted: 0 },
  ]);
  await insertRows(cell1.url, 'compute_nodes', [
    { id: 1, service_id: null, host: 'compute-a', hypervisor_hostname: 'a1', deleted: 0 },
    { id: 2, service_id: null, host: 'compute-a', hypervisor_hostname: 'a2', deleted: 0 },
    // Not yet backfilled: only service_id says where it lives.
    { id: 3, service_id: 2, host: null, hypervisor_hostname: 'legacy1', deleted: 0 },
    { id: 4, service_id: null, host: 'compute-gone', hypervisor_hostname: 'g1', deleted: 4 },
  ]);
  await insertRows(cell2.url, 'compute_nodes', [{ id: 1, service_id: null, host: 'compute-b', hypervisor_hostname: 'b1', deleted: 0 }]);
  return { cloud, cell0, cell1, cell2 };
}

eachDialectLimited(test, 'discover_hosts: maps the hosts of compute nodes (a legacy node by its service), skips cell0; a second run maps nothing', async (t, dialect) => {
  const { cloud, cell1, cell2 } = await cloudWithComputes(t, dialect);

  const first = await cloud.cli(['cell_v2', 'discover_hosts', '--verbose']);
  t.is(first.code, 0, describeResult(first));
  const expected = { 'compute-a': cell1.uuid, 'compute-b': cell2.uuid, 'compute-legacy': cell1.uuid };
  t.deepEqual(await hostMappings(cloud), expected);
  t.regex(first.stdout, /^Creating host mapping for compute host 'compute-legacy'$/m);
  t.false(first.stdout.includes('cell0-host'));

  const second = await cloud.cli(['--json', 'cell_v2', 'discover_hosts']);
  t.is(second.code, 0, describeResult(second));
  const report = JSON.parse(second.stdout) as Array<{ cell: string; found: string[]; mapped: string[] }>;
  t.deepEqual(
    report.map((c) => [c.cell, c.found, c.mapped]),
    [
      ['cell1', ['compute-a', 'compute-legacy'], []],
      ['cell2', ['compute-b'], []],
    ],
  );
  t.deepEqual(await hostMappings(cloud), expected);
});

eachDialectLimited(test, 'discover_hosts --by-service: maps the hosts of live nova-compute services only', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell1 = await useCell(t, cloud, 'cell1', { sync: true });
  await insertRows(cell1.url, 'services', [
    { id: 1, host: 'compute-1', binary: 'nova-compute', topic: 'compute', deleted: 0 },
    { id: 2, host: 'compute-2', binary: 'nova-compute', topic: 'compute', deleted: 0 },
    { id: 3, host: 'conductor-1', binary: 'nova-conductor', topic: 'conductor', deleted: 0 },
    { id: 4, host: 'compute-old', binary: 'nova-compute', topic: 'compute', deleted: 4 },
  ]);

  // No compute nodes: the default search finds nothing.
  const byNodes = await cloud.cli(['cell_v2', 'discover_hosts']);
  t.is(byNodes.code, 0, describeResult(byNodes));
  t.deepEqual(await hostMappings(cloud), {});

  const byService = await cloud.cli(['cell_v2', 'discover_hosts', '--by-service']);
  t.is(byService.code, 0, describeResult(byService));
  t.deepEqual(await hostMappings(cloud), { 'compute-1': cell1.uuid, 'compute-2': cell1.uuid });
});

eachDialectLimited(test, 'discover_hosts --strict: exit 0 when a new host is mapped, exit 1 when nothing new is', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell1 = await useCell(t, cloud, 'cell1', { sync: true });
  await insertRows(cell1.url, 'compute_nodes', [{ id: 1, service_id: null, host: 'compute-1', hypervisor_hostname: 'n1', deleted: 0 }]);

  const first = await cloud.cli(['cell_v2', 'discover_hosts', '--strict']);
  t.is(first.code, 0, describeResult(first));
  const again = await cloud.cli(['cell_v2', 'discover_hosts', '--strict']);
  t.is(again.code, 1, describeResult(again));
  t.deepEqual(await hostMappings(cloud), { 'compute-1': cell1.uuid });
});

eachDialectLimited(test, 'discover_hosts --cell_uuid: only that cell; an unknown cell exits 1 and maps nothing', async (t, dialect) => {
  const { cloud, cell2 } = await cloudWithComputes(t, dialect);

  const unknown = await cloud.cli(['cell_v2', 'discover_hosts', '--cell_uuid', randomUUID()]);
  t.is(unknown.code, 1, describeResult(unknown));
  t.regex(unknown.stderr, /not found/);
  t.deepEqual(await hostMappings(cloud), {});

  const one = await cloud.cli(['cell_v2', 'discover_hosts', '--cell_uuid', cell2.uuid]);
  t.is(one.code, 0, describeResult(one));
  t.deepEqual(await hostMappings(cloud), { 'compute-b': cell2.uuid });
});

// ---------------------------------------------------------------- list_hosts

eachDialectLimited(test, 'list_hosts: a table of every host mapping with its cell; --cell_uuid limits it to one cell', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell1 = await useCell(t, cloud, 'cell1');
  const cell2 = await useCell(t, cloud, 'cell2');
  await mapHosts(cloud, cell2, ['compute-z', 'compute-c']);
  await mapHosts(cloud, cell1, ['compute-b', 'compute-a']);

  const all = await cloud.cli(['cell_v2', 'list_hosts']);
  t.is(all.code, 0, describeResult(all));
  t.regex(all.stdout, /Cell Name\s*\|\s*Cell UUID\s*\|\s*Hostname/);
  const rows = all.stdout
    .split('\n')
    .filter((l) => l.includes('compute-'))
    .map((l) => l.split('|').map((c) => c.trim()).filter(Boolean));
  t.deepEqual(rows, [
    ['cell1', cell1.uuid, 'compute-a'],
    ['cell1', cell1.uuid, 'compute-b'],
    ['cell2', cell2.uuid, 'compute-c'],
    ['cell2', cell2.uuid, 'compute-z'],
  ]);

  const one = await cloud.cli(['--json', 'cell_v2', 'list_hosts', '--cell_uuid', cell2.uuid]);
  t.is(one.code, 0, describeResult(one));
  t.deepEqual(JSON.parse(one.stdout), [
    { cell_name: 'cell2', cell_uuid: cell2.uuid, hostname: 'compute-c' },
    { cell_name: 'cell2', cell_uuid: cell2.uuid, hostname: 'compute-z' },
  ]);
});

eachDialectLimited(test, 'list_hosts --cell_uuid: exit 1 for an unknown cell', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell1 = await useCell(t, cloud, 'cell1');
  await mapHosts(cloud, cell1, ['compute-a']);

  const r = await cloud.cli(['cell_v2', 'list_hosts', '--cell_uuid', randomUUID()]);
  t.is(r.code, 1, describeResult(r));
  t.regex(r.stderr, /not found/);
  t.false(r.stdout.includes('compute-a'));
});

// ---------------------------------------------------------------- verify_instance

/** A cloud with one synced cell holding `instances` (uuid → deleted) and mappings for `mapped`. */
async function cloudWithInstance(
  t: ExecutionContext,
  dialect: Dialect,
  instance: { uuid: string; row: 'live' | 'deleted' | 'archived'; mapping: 'cell' | 'no-cell' | 'none' },
) {
  const cloud = await useCloud(t, dialect);
  const cell = await useCell(t, cloud, 'cell1', { sync: true });
  if (instance.row !== 'archived') await insertRows(cell.url, 'instances', [{ id: 7, uuid: instance.uuid, deleted: instance.row === 'deleted' ? 7 : 0 }]);
  if (instance.mapping !== 'none') await mapInstances(cloud, instance.mapping === 'cell' ? cell : null, [instance.uuid]);
  return { cloud, cell };
}

eachDialectLimited(test, 'verify_instance: exit 0 for a live instance mapped to its cell', async (t, dialect) => {
  const uuid = randomUUID();
  const { cloud, cell } = await cloudWithInstance(t, dialect, { uuid, row: 'live', mapping: 'cell' });

  const r = await cloud.cli(['cell_v2', 'verify_instance', '--uuid', uuid]);
  t.is(r.code, 0, describeResult(r));
  t.regex(r.stdout, new RegExp(`Instance ${uuid} is in cell: cell1 \\(${cell.uuid}\\)`));
});

eachDialectLimited(test, 'verify_instance: exit 1 when the instance has no mapping', async (t, dialect) => {
  const uuid = randomUUID();
  const { cloud } = await cloudWithInstance(t, dialect, { uuid, row: 'live', mapping: 'none' });

  const r = await cloud.cli(['cell_v2', 'verify_instance', '--uuid', uuid]);
  t.is(r.code, 1, describeResult(r));
  t.regex(r.stdout, /not mapped to a cell \(upgrade is incomplete\)/);
});

eachDialectLimited(test, 'verify_instance: exit 2 when the mapping names no cell', async (t, dialect) => {
  const uuid = randomUUID();
  const { cloud } = await cloudWithInstance(t, dialect, { uuid, row: 'live', mapping: 'no-cell' });

  const r = await cloud.cli(['cell_v2', 'verify_instance', '--uuid', uuid]);
  t.is(r.code, 2, describeResult(r));
  t.regex(r.stdout, new RegExp(`Instance ${uuid} is not mapped to a cell`));
});

eachDialectLimited(test, 'verify_instance: exit 3 when the instance is deleted but still mapped', async (t, dialect) => {
  const uuid = randomUUID();
  const { cloud } = await cloudWithInstance(t, dialect, { uuid, row: 'deleted', mapping: 'cell' });

  const r = await cloud.cli(['cell_v2', 'verify_instance', '--uuid', uuid]);
  t.is(r.code, 3, describeResult(r));
  t.regex(r.stdout, /has been deleted/);
});

eachDialectLimited(test, 'verify_instance: exit 4 when the instance is archived (row gone) but still mapped', async (t, dialect) => {
  const uuid = randomUUID();
  const { cloud } = await cloudWithInstance(t, dialect, { uuid, row: 'archived', mapping: 'cell' });

  const r = await cloud.cli(['cell_v2', 'verify_instance', '--uuid', uuid]);
  t.is(r.code, 4, describeResult(r));
  t.regex(r.stdout, /has been archived/);
});

eachDialectLimited(test, 'verify_instance --quiet: the same exit codes, nothing printed', async (t, dialect) => {
  const live = randomUUID();
  const { cloud } = await cloudWithInstance(t, dialect, { uuid: live, row: 'live', mapping: 'cell' });

  for (const [uuid, code] of [
    [live, 0],
    [randomUUID(), 1],
  ] as const) {
    const r = await cloud.cli(['cell_v2', 'verify_instance', '--uuid', uuid, '--quiet']);
    t.is(r.code, code, describeResult(r));
    t.is(r.stdout, '');
    t.is(r.stderr, '');
  }
});
