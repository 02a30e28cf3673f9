// nova-manage's own unit tests for the cell_v2 and db commands (nova/tests/unit/cmd/test_manage.py),
// their observable assertions (exit code, output, rows) ported as black-box tests of the real CLI
// on both dialects; each test names the Nova test it follows. Where cellsdb deliberately differs,
// the test says so and README's "Deliberate differences from nova-manage" gives the reason.
// Also: nova-manage's flag spellings both ways, its configuration fallbacks, --config-dir.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { runCli } from './helpers/cli.js';
import { execSql } from './helpers/schema.js';
import { useDatabase } from './helpers/databases.js';
import {
  type Cloud,
  describeResult,
  eachDialectLimited,
  hostMappings,
  insertRows,
  listedCells,
  mapHosts,
  mapInstances,
  query,
  useCell,
  useCell0,
  useCloud,
} from './helpers/cells.js';

const CELL0 = '00000000-0000-0000-0000-000000000000';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ERROR = 'cellsdb: error: ';

/** A folder for config files, removed when the test ends. */
function confDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cellsdb-nova-manage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Plants cell mappings with the uuids Nova's tests use (sentinels), straight into the API database. */
async function plantCells(cloud: Cloud, cells: ReadonlyArray<{ uuid: string; name: string | null; transport: string; db: string; disabled?: boolean }>): Promise<void> {
  const now = new Date();
  await insertRows(
    cloud.api,
    'cell_mappings',
    cells.map((c) => ({ uuid: c.uuid, name: c.name, transport_url: c.transport, database_connection: c.db, disabled: c.disabled ?? false, created_at: now, updated_at: now })),
  );
}

const cellRow = async (cloud: Cloud, uuid: string) => (await listedCells(cloud)).find((c) => c.uuid === uuid);

// ---------------------------------------------------------------- map_cell0

eachDialectLimited(test, 'test_map_cell0 / test_map_cell0_returns_0_if_cell0_already_exists: 0, silent; again 0, "Cell0 is already setup"', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const url = 'postgresql://nova@foobar/nova_cell0';
  const first = await cloud.cli(['cell_v2', 'map_cell0', '--database_connection', url]);
  t.is(first.code, 0, describeResult(first));
  t.is(first.stdout, '');
  t.like(await cellRow(cloud, CELL0), { name: 'cell0', transport_url: 'none:///', database_connection: url });
  const again = await cloud.cli(['cell_v2', 'map_cell0', '--database-connection', url]);
  t.is(again.code, 0, describeResult(again));
  t.is(again.stdout.trim(), 'Cell0 is already setup');
});

eachDialectLimited(test, 'test_map_cell0_default_database_special_characters: [database] connection with _cell0, the password spelled as given', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const dir = confDir(t);
  for (const connection of [
    'mysql+pymysql://nova:abcd0123:AB@controller/%s',
    'mysql+pymysql://nova:abcd0123?AB@controller/%s',
    'mysql+pymysql://nova:abcd0123@AB@controller/%s',
    'mysql+pymysql://nova:abcd0123/AB@controller/%s',
    'mysql+pymysql://test:abcd0123/AB@controller/%s?charset=utf8',
  ]) {
    const conf = join(dir, 'nova.conf');
    writeFileSync(conf, `[database]\nconnection = ${connection.replace('%s', 'nova')}\n`);
    const r = await cloud.cli(['--config-file', conf, 'cell_v2', 'map_cell0']);
    t.is(r.code, 0, `${connection}: ${describeResult(r)}`);
    t.like(await cellRow(cloud, CELL0), { name: 'cell0', transport_url: 'none:///', database_connection: connection.replace('%s', 'nova_cell0') }, connection);
    t.false(`${r.stdout}${r.stderr}`.includes('abcd0123'), 'the password is never printed');
    await execSql(cloud.api, `DELETE FROM cell_mappings WHERE uuid = '${CELL0}'`);
  }
});

// ---------------------------------------------------------------- create_cell

eachDialectLimited(test, 'test_create_cell_use_params: 0, --verbose prints the uuid; the cell as given', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const args = ['--name', 'fake-name', '--transport-url', 'http://fake-transport-url', '--database_connection', 'postgresql://fake-db-connection/nova'];
  const r = await cloud.cli(['cell_v2', 'create_cell', '--verbose', ...args]);
  t.is(r.code, 0, describeResult(r));
  const uuid = r.stdout.trim();
  t.regex(uuid, UUID_RE);
  t.deepEqual(await cellRow(cloud, uuid), { name: 'fake-name', uuid, transport_url: 'http://fake-transport-url', database_connection: 'postgresql://fake-db-connection/nova', disabled: false });
});

eachDialectLimited(test, 'test_create_cell_use_params_with_template: a templated transport URL is stored as a template', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const r = await cloud.cli(['cell_v2', 'create_cell', '--verbose', '--name', 'fake-name', '--transport-url', '{scheme}://other-{hostname}:{port}', '--database_connection', 'postgresql://db/nova']);
  t.is(r.code, 0, describeResult(r));
  t.is((await cellRow(cloud, r.stdout.trim()))?.transport_url, '{scheme}://other-{hostname}:{port}');
});

eachDialectLimited(test, 'test_create_cell_use_config_values: URLs from [DEFAULT] transport_url and [database] connection, each announced (devstack: two config files)', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const dir = confDir(t);
  const nova = join(dir, 'nova.conf');
  const cell1 = join(dir, 'nova_cell1.conf');
  writeFileSync(nova, `[DEFAULT]\ntransport_url = rabbit://stackrabbit:pa#ss;word@10.0.0.1:5672/\n[api_database]\nconnection = ${cloud.api.raw}\n[database]\nconnection = postgresql://root:dbpw@10.0.0.1/nova\n`);
  writeFileSync(cell1, `[DEFAULT]\ntransport_url = rabbit://stackrabbit:pa#ss;word@10.0.0.1:5672/nova_cell1\n[database]\nconnection = mysql+pymysql://root:Sup3r#S3cret@10.0.0.1/nova_cell1?charset=utf8\n`);
  const r = await runCli(['--config-file', nova, '--config-file', cell1, 'cell_v2', 'create_cell', '--name', 'cell1', '--verbose']);
  t.is(r.code, 0, describeResult(r));
  t.deepEqual(r.stderr.trim().split('\n'), [
    '--transport-url not provided in the command line, using the value [DEFAULT]/transport_url from the configuration file',
    '--database_connection not provided in the command line, using the value [database]/connection from the configuration file',
  ]);
  t.like(await cellRow(cloud, r.stdout.trim()), {
    name: 'cell1',
    transport_url: 'rabbit://stackrabbit:pa#ss;word@10.0.0.1:5672/nova_cell1',
    database_connection: 'mysql+pymysql://root:Sup3r#S3cret@10.0.0.1/nova_cell1?charset=utf8',
  });
  for (const secret of ['pa#ss', 'Sup3r', 'dbpw']) t.false(`${r.stdout}${r.stderr}`.includes(secret), secret);
});

eachDialectLimited(test, 'test_create_cell_failed_if_non_unique: the second create exits 2, "exists"', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const args = ['cell_v2', 'create_cell', '--verbose', '--name', 'fake-name', '--transport-url', 'http://fake-transport-url', '--database_connection', 'postgresql://fake-db/nova'];
  const first = await cloud.cli(args);
  const second = await cloud.cli(args);
  t.is(first.code, 0, describeResult(first));
  t.is(second.code, 2, describeResult(second));
  t.is(second.stderr.trim(), `${ERROR}The specified transport_url and/or database_connection combination already exists for another cell with uuid ${first.stdout.trim()}.`);
});

eachDialectLimited(test, 'test_create_cell_failed_if_no_transport_url / _no_database_connection: exit 1 naming the option', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const noTransport = await cloud.cli(['cell_v2', 'create_cell']);
  t.is(noTransport.code, 1, describeResult(noTransport));
  t.is(noTransport.stderr.trim(), `${ERROR}Must specify --transport-url if [DEFAULT]/transport_url is not set in the configuration file.`);
  const noDatabase = await cloud.cli(['cell_v2', 'create_cell', '--transport-url', 'http://fake-url']);
  t.is(noDatabase.code, 1, describeResult(noDatabase));
  t.is(noDatabase.stderr.trim(), `${ERROR}Must specify --database_connection if [database]/connection is not set in the configuration file.`);
  t.deepEqual(await listedCells(cloud), []);
});

eachDialectLimited(test, 'test_create_cell_pre_disabled: --disabled creates it disabled', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const r = await cloud.cli(['cell_v2', 'create_cell', '--verbose', '--disabled', '--name', 'fake-name1', '--transport-url', 'http://t1', '--database_connection', 'postgresql://db1/nova']);
  t.is(r.code, 0, describeResult(r));
  t.like(await cellRow(cloud, r.stdout.trim()), { name: 'fake-name1', disabled: true });
});

eachDialectLimited(test, 'deliberate: create_cell refuses a database another cell uses under another spelling (exit 2; Nova compares the text)', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell1 = await useCell(t, cloud, 'cell1');
  const port = cell1.url.port ?? (dialect === 'postgres' ? 5432 : 3306);
  const respelled = cell1.url.raw.replace(`@${cell1.url.host}${cell1.url.port ? `:${cell1.url.port}` : ''}/`, `@${cell1.url.host}:${port}/`) + '?connect_timeout=5';
  t.not(respelled, cell1.url.raw);
  const r = await cloud.cli(['cell_v2', 'create_cell', '--name', 'twin', '--transport-url', 'rabbit://x@mq/', '--database_connection', respelled]);
  t.is(r.code, 2, describeResult(r));
  t.regex(r.stderr, new RegExp(`already exists for another cell with uuid ${cell1.uuid}`));
});

// ---------------------------------------------------------------- list_cells

eachDialectLimited(test, "test_list_cells_verbose_false: PrettyTable's ASCII table, URLs masked, False", async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const map0 = '0b8d0e4c-4fbb-4ff3-9d6e-a7e7c3bd45a1';
  const map1 = '1b8d0e4c-4fbb-4ff3-9d6e-a7e7c3bd45a2';
  await plantCells(cloud, [
    { uuid: map0, name: 'cell0', transport: 'none://user1:pass1@host1/', db: 'fake://user1:pass1@host1/db0' },
    { uuid: map1, name: 'cell1', transport: 'none://user1@host1/vhost1', db: 'fake://user1@host1/db0' },
  ]);
  const r = await cloud.cli(['cell_v2', 'list_cells']);
  t.is(r.code, 0, describeResult(r));
  t.is(
    r.stdout.trim(),
    `+-------+--------------------------------------+---------------------------+-----------------------------+----------+
|  Name |                 UUID                 |       Transport URL       |     Database Connection     | Disabled |
+-------+--------------------------------------+---------------------------+-----------------------------+----------+
| cell0 | ${map0} |  none://user1:****@host1/ | fake://user1:****@host1/db0 |  False   |
| cell1 | ${map1} | none://user1@host1/vhost1 |    fake://user1@host1/db0   |  False   |
+-------+--------------------------------------+---------------------------+-----------------------------+----------+`,
  );
});

eachDialectLimited(test, 'test_list_cells_multiple_sorted_verbose_true: sorted by name (no name first), URLs whole, True', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const [map0, map1, map2, none] = ['0a000000-0000-4000-8000-000000000000', '1a000000-0000-4000-8000-000000000001', '2a000000-0000-4000-8000-000000000002', '3a000000-0000-4000-8000-000000000003'];
  await plantCells(cloud, [
    { uuid: map0, name: 'cell0', transport: 'none:///', db: 'fake:///db0' },
    { uuid: map1, name: 'london', transport: 'fake:///mqlon', db: 'fake:///dblon', disabled: true },
    { uuid: map2, name: 'dallas', transport: 'fake:///mqdal', db: 'fake:///dbdal' },
    { uuid: none, name: null, transport: 'fake:///mqnone', db: 'fake:///dbnone' },
  ]);
  const r = await cloud.cli(['cell_v2', 'list_cells', '--verbose']);
  t.is(r.code, 0, describeResult(r));
  t.is(
    r.stdout.trim(),
    `+--------+--------------------------------------+----------------+---------------------+----------+
|  Name  |                 UUID                 | Transport URL  | Database Connection | Disabled |
+--------+--------------------------------------+----------------+---------------------+----------+
|        | ${none} | fake:///mqnone |    fake:///dbnone   |  False   |
| cell0  | ${map0} |    none:///    |     fake:///db0     |  False   |
| dallas | ${map2} | fake:///mqdal  |    fake:///dbdal    |  False   |
| london | ${map1} | fake:///mqlon  |    fake:///dblon    |   True   |
+--------+--------------------------------------+----------------+---------------------+----------+`,
  );
  const box = await cloud.cli(['--table-style', 'box', 'cell_v2', 'list_cells']);
  t.regex(box.stdout, /^┌─+┬/);
  t.regex(box.stdout, /│ london │ .* │   True   │/);
});

// ---------------------------------------------------------------- delete_cell

eachDialectLimited(test, 'test_delete_cell_not_found: 1, "Cell with uuid … was not found."', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const uuid = randomUUID();
  const r = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', uuid]);
  t.is(r.code, 1, describeResult(r));
  t.is(r.stderr.trim(), `${ERROR}Cell with uuid ${uuid} was not found.`);
});

eachDialectLimited(test, 'test_delete_cell_host_mappings_exist: 2', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const uuid = randomUUID();
  await plantCells(cloud, [{ uuid, name: null, transport: 'fake:///mq', db: 'postgresql://nowhere.invalid/db' }]);
  await mapHosts(cloud, { name: '', uuid, url: cloud.api, transportUrl: '' }, ['fake-host']);
  const r = await cloud.cli(['cell_v2', 'delete_cell', '--cell-uuid', uuid]);
  t.is(r.code, 2, describeResult(r));
  t.regex(r.stderr, /There are existing hosts mapped to cell/);
});

eachDialectLimited(test, 'test_delete_cell_instance_mappings_exist_with_instances (3) / _without_instances (4)', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell = await useCell(t, cloud, 'cell1', { sync: true });
  const live = randomUUID();
  await insertRows(cell.url, 'instances', [{ id: 1, uuid: live, deleted: 0 }]);
  await mapInstances(cloud, cell, [live]);
  const withInstances = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', cell.uuid]);
  t.is(withInstances.code, 3, describeResult(withInstances));
  t.regex(withInstances.stderr, /There are existing instances mapped to cell/);

  await execSql(cell.url, 'UPDATE instances SET deleted = id');
  const without = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', cell.uuid]);
  t.is(without.code, 4, describeResult(without));
  t.regex(without.stderr, /There are instance mappings to cell with uuid/);
  t.regex(without.stderr, /but all instances have been deleted in the cell\./);
  t.regex(without.stderr, /So execute 'nova-manage db archive_deleted_rows' to delete the instance mappings/);
});

eachDialectLimited(test, 'test_delete_cell_success_without_host_mappings: 0, nothing printed, also when its database is gone (a dead cell)', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const alive = await useCell(t, cloud, 'alive', { sync: true });
  const dead = randomUUID();
  await plantCells(cloud, [{ uuid: dead, name: 'dead', transport: 'fake:///mq', db: `${cloud.api.raw}_no_such_database` }]);
  for (const uuid of [alive.uuid, dead]) {
    const r = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', uuid]);
    t.is(r.code, 0, describeResult(r));
    t.is(r.stdout, '');
  }
  t.deepEqual(await listedCells(cloud), []);
});

eachDialectLimited(test, 'test_delete_cell_success_with_host_mappings: --force, 0, nothing printed, its host mappings gone', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell = await useCell(t, cloud, 'cell1', { sync: true });
  await mapHosts(cloud, cell, ['fake-host']);
  const r = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', cell.uuid, '--force']);
  t.is(r.code, 0, describeResult(r));
  t.is(r.stdout, '');
  t.deepEqual(await hostMappings(cloud), {});
});

eachDialectLimited(test, 'test_delete_cell_force_with_inst_mappings_of_deleted_instances: 3 while the instance lives, then 0', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell = await useCell(t, cloud, 'cell1', { sync: true });
  await mapHosts(cloud, cell, ['fake-host']);
  const instance = randomUUID();
  await insertRows(cell.url, 'instances', [{ id: 1, uuid: instance, deleted: 0 }]);
  await mapInstances(cloud, cell, [instance]);
  const refused = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', cell.uuid, '--force']);
  t.is(refused.code, 3, describeResult(refused));
  t.regex(refused.stderr, /There are existing instances mapped to cell/);
  await execSql(cell.url, 'DELETE FROM instances');
  const forced = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', cell.uuid, '--force']);
  t.is(forced.code, 0, describeResult(forced));
  t.deepEqual(await listedCells(cloud), []);
  t.deepEqual(await query(cloud.api, 'SELECT id FROM instance_mappings'), []);
});

eachDialectLimited(test, 'deliberate: delete_cell refuses a reachable cell holding live instances that no instance mapping names (3; Nova deletes it)', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell = await useCell(t, cloud, 'cell1', { sync: true });
  await insertRows(cell.url, 'instances', [{ id: 1, uuid: randomUUID(), deleted: 0 }]);
  for (const args of [[], ['--force']]) {
    const r = await cloud.cli(['cell_v2', 'delete_cell', '--cell_uuid', cell.uuid, ...args]);
    t.is(r.code, 3, describeResult(r));
    t.regex(r.stderr, /1 live instances in cell with uuid .* but no instance mappings/);
  }
  t.is((await listedCells(cloud)).length, 1);
});

// ---------------------------------------------------------------- update_cell

eachDialectLimited(test, 'test_update_cell_not_found: 1, also with --disable --enable (not found is checked first, as Nova)', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const uuid = randomUUID();
  for (const extra of [['--name', 'foo', '--transport-url', 'fake://new', '--database_connection', 'postgresql://new/db'], ['--disable', '--enable']]) {
    const r = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', uuid, ...extra]);
    t.is(r.code, 1, describeResult(r));
    t.is(r.stderr.trim(), `${ERROR}Cell with uuid ${uuid} was not found.`);
  }
});

eachDialectLimited(test, 'test_update_cell_failed_if_non_unique_transport_db_urls: 3, 3, 3, then 0; a clash is checked before a flag conflict', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const [cell1, cell2] = [randomUUID(), randomUUID()];
  await plantCells(cloud, [
    { uuid: cell1, name: 'cell1', transport: 'fake://mq1', db: 'postgresql://h/db1' },
    { uuid: cell2, name: 'cell2', transport: 'fake://mq2', db: 'postgresql://h/db2' },
  ]);
  const update = (transport: string, db: string, ...extra: string[]) =>
    cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', cell2, '--name', 'foo', '--transport-url', transport, '--database_connection', db, ...extra]);
  for (const [transport, db] of [
    ['fake://mq1', 'postgresql://h/db1'],
    ['fake://mq1', 'postgresql://h/db3'],
    ['fake://mq3', 'postgresql://h/db1'],
  ] as const) {
    const r = await update(transport, db);
    t.is(r.code, 3, `${transport} ${db}: ${describeResult(r)}`);
    t.regex(r.stderr, /exists/);
  }
  const both = await update('fake://mq1', 'postgresql://h/db3', '--disable', '--enable');
  t.is(both.code, 3, describeResult(both));
  const ok = await update('fake://mq3', 'postgresql://h/db3');
  t.is(ok.code, 0, describeResult(ok));
  t.is(ok.stdout, '');
});

eachDialectLimited(test, 'test_update_cell_failed: an UPDATE the database refuses exits 2, "Unable to update CellMapping"', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell = await useCell(t, cloud, 'cell1');
  const before = await listedCells(cloud);
  // A name longer than the column: both servers (MariaDB in strict mode) refuse the UPDATE.
  const r = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', cell.uuid, '--name', 'n'.repeat(300), '--transport-url', 'fake://new']);
  t.is(r.code, 2, describeResult(r));
  t.regex(r.stderr, /^cellsdb: error: Unable to update CellMapping: /);
  t.deepEqual(await listedCells(cloud), before, 'nothing changed');
});

eachDialectLimited(test, 'test_update_cell_success: 0, the fields set, nothing printed', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const uuid = randomUUID();
  await plantCells(cloud, [{ uuid, name: 'cell1', transport: 'fake://mq', db: 'postgresql://h/db' }]);
  const r = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', uuid, '--name', 'foo', '--transport_url', 'fake://new', '--database-connection', 'postgresql://h/new']);
  t.is(r.code, 0, describeResult(r));
  t.is(r.stdout, '');
  t.like(await cellRow(cloud, uuid), { name: 'foo', transport_url: 'fake://new', database_connection: 'postgresql://h/new' });
});

eachDialectLimited(test, 'test_update_cell_disable_and_enable: 4', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const uuid = randomUUID();
  await plantCells(cloud, [{ uuid, name: 'cell1', transport: 'fake://mq', db: 'postgresql://h/db' }]);
  const r = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', uuid, '--disable', '--enable']);
  t.is(r.code, 4, describeResult(r));
  t.is(r.stderr.trim(), `${ERROR}Cell cannot be disabled and enabled at the same time.`);
});

eachDialectLimited(test, 'test_update_cell_disable_cell0: 5 for --disable and for --enable', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell0(t, cloud);
  for (const flag of ['--disable', '--enable']) {
    const r = await cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', CELL0, flag]);
    t.is(r.code, 5, `${flag}: ${describeResult(r)}`);
    t.is(r.stderr.trim(), `${ERROR}Cell0 cannot be disabled.`);
  }
  t.false((await cellRow(cloud, CELL0))?.disabled);
});

eachDialectLimited(test, 'test_update_cell_disable_success / _enable_success / _already_disabled / _already_enabled', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const uuid = randomUUID();
  await plantCells(cloud, [{ uuid, name: 'cell1', transport: 'fake://mq', db: 'postgresql://h/db' }]);
  const run = (flag: string) => cloud.cli(['cell_v2', 'update_cell', '--cell_uuid', uuid, flag]);
  const enabled = await run('--enable');
  t.is(enabled.code, 0, describeResult(enabled));
  t.regex(enabled.stderr, /is already enabled/);
  const disable = await run('--disable');
  t.is(disable.code, 0, describeResult(disable));
  t.is(`${disable.stdout}${disable.stderr}`, '');
  t.true((await cellRow(cloud, uuid))?.disabled);
  const again = await run('--disable');
  t.is(again.code, 0, describeResult(again));
  t.is(again.stderr.trim(), `Cell ${uuid} is already disabled`);
  const enable = await run('--enable');
  t.is(enable.code, 0, describeResult(enable));
  t.false((await cellRow(cloud, uuid))?.disabled);
});

// ---------------------------------------------------------------- list_hosts

eachDialectLimited(test, 'test_list_hosts / test_list_hosts_in_cell / test_list_hosts_cell_not_found: sorted by host, PrettyTable', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const map0 = '0c000000-0000-4000-8000-000000000000';
  const map1 = '1c000000-0000-4000-8000-000000000001';
  await plantCells(cloud, [
    { uuid: map0, name: 'london', transport: 'fake:///mq0', db: 'postgresql://h/db0' },
    { uuid: map1, name: 'dallas', transport: 'fake:///mq1', db: 'postgresql://h/db1' },
  ]);
  await mapHosts(cloud, { name: 'london', uuid: map0, url: cloud.api, transportUrl: '' }, ['fake-host-1']);
  await mapHosts(cloud, { name: 'dallas', uuid: map1, url: cloud.api, transportUrl: '' }, ['fake-host-2']);
  const all = await cloud.cli(['cell_v2', 'list_hosts']);
  t.is(all.code, 0, describeResult(all));
  t.is(
    all.stdout.trim(),
    `+-----------+--------------------------------------+-------------+
| Cell Name |              Cell UUID               |   Hostname  |
+-----------+--------------------------------------+-------------+
|   london  | ${map0} | fake-host-1 |
|   dallas  | ${map1} | fake-host-2 |
+-----------+--------------------------------------+-------------+`,
  );
  const one = await cloud.cli(['cell_v2', 'list_hosts', '--cell-uuid', map0]);
  t.is(one.code, 0, describeResult(one));
  t.is(
    one.stdout.trim(),
    `+-----------+--------------------------------------+-------------+
| Cell Name |              Cell UUID               |   Hostname  |
+-----------+--------------------------------------+-------------+
|   london  | ${map0} | fake-host-1 |
+-----------+--------------------------------------+-------------+`,
  );
  const missing = randomUUID();
  const notFound = await cloud.cli(['cell_v2', 'list_hosts', '--cell_uuid', missing]);
  t.is(notFound.code, 1, describeResult(notFound));
  t.is(notFound.stderr.trim(), `${ERROR}Cell with uuid ${missing} was not found.`);
});

// ---------------------------------------------------------------- discover_hosts

const node = (host: string) => ({ host, hypervisor_hostname: `${host}.example`, vcpus: 1, deleted: 0, created_at: new Date() });

eachDialectLimited(test, "test_discover_hosts_multiple_cells / _strict: --verbose says what nova-manage says; --strict 0 then 1; --by-service", async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell0(t, cloud);
  const cell1 = await useCell(t, cloud, 'cell1', { sync: true });
  const cell2 = await useCell(t, cloud, 'cell2', { sync: true });
  await insertRows(cell1.url, 'compute_nodes', [node('host0')]);
  await insertRows(cell2.url, 'compute_nodes', [node('host1'), node('host2')]);
  await mapHosts(cloud, cell2, ['host2']);

  const r = await cloud.cli(['cell_v2', 'discover_hosts', '--verbose', '--strict']);
  t.is(r.code, 0, describeResult(r));
  t.deepEqual(r.stdout.trim().split('\n'), [
    'Found 3 cell mappings.',
    'Skipping cell0 since it does not contain hosts.',
    `Getting computes from cell 'cell1': ${cell1.uuid}`,
    "Checking host mapping for compute host 'host0'",
    "Creating host mapping for compute host 'host0'",
    `Found 1 unmapped computes in cell: ${cell1.uuid}`,
    `Getting computes from cell 'cell2': ${cell2.uuid}`,
    "Checking host mapping for compute host 'host1'",
    "Creating host mapping for compute host 'host1'",
    `Found 1 unmapped computes in cell: ${cell2.uuid}`,
  ]);
  t.deepEqual(await hostMappings(cloud), { host0: cell1.uuid, host1: cell2.uuid, host2: cell2.uuid });

  const again = await cloud.cli(['cell_v2', 'discover_hosts', '--strict']);
  t.is(again.code, 1, describeResult(again));
  t.is(again.stdout, '');
  const quiet = await cloud.cli(['cell_v2', 'discover_hosts']);
  t.is(quiet.code, 0, describeResult(quiet));

  await insertRows(cell1.url, 'services', [{ host: 'svc-host', binary: 'nova-compute', topic: 'compute', report_count: 0, disabled: false, forced_down: false, version: 0, deleted: 0, created_at: new Date() }]);
  const byService = await cloud.cli(['cell_v2', 'discover_hosts', '--by_service', '--strict', '--verbose', '--cell_uuid', cell1.uuid]);
  t.is(byService.code, 0, describeResult(byService));
  t.true(byService.stdout.includes('Creating host mapping for service svc-host'), byService.stdout);
});

// ---------------------------------------------------------------- db sync / version

eachDialectLimited(test, 'test_sync / db sync without a cell0 mapping: "WARNING: cell0 mapping not found - not syncing cell0." and the local database synced', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const local = await useDatabase(t, dialect, 'local');
  for (const flag of ['--local_cell', '--local-cell']) {
    const r = await cloud.cli(['--db', local.raw, 'db', 'version', flag]);
    t.is(r.code, 0, `${flag}: ${describeResult(r)}`);
  }
  const sync = await cloud.cli(['--db', local.raw, 'db', 'sync']);
  t.is(sync.code, 0, describeResult(sync));
  t.regex(sync.stderr, /^WARNING: cell0 mapping not found - not syncing cell0\.$/m);
  const version = await cloud.cli(['--db', local.raw, 'db', 'version']);
  t.is(version.code, 0, describeResult(version));
  t.regex(version.stderr, /cell0 mapping not found/);
  t.regex(version.stdout, /0005_drop_legacy_instance_groups/);
  const noLocal = await cloud.cli(['db', 'sync']);
  t.is(noLocal.code, 127, describeResult(noLocal));
});

// ---------------------------------------------------------------- spellings, config

eachDialectLimited(test, "every nova-manage flag in both spellings: --cell_uuid/--cell-uuid, --transport-url/--transport_url, --database_connection/--database-connection, --by-service/--by_service, --local_cell/--local-cell, --max-count/--max_count, --config-file/--config_file", async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const db1 = await useDatabase(t, dialect, 'db1');
  const db2 = await useDatabase(t, dialect, 'db2');
  const a = await cloud.cli(['cell_v2', 'create_cell', '--verbose', '--name', 'a', '--transport_url', 'rabbit://a@mq/', '--database-connection', db1.raw]);
  t.is(a.code, 0, describeResult(a));
  const b = await cloud.cli(['cell_v2', 'create_cell', '--verbose', '--name', 'b', '--transport-url', 'rabbit://b@mq/', '--database_connection', db2.raw]);
  t.is(b.code, 0, describeResult(b));
  const uuidA = a.stdout.trim();
  const synced = await cloud.cli(['--db', db1.raw, 'db', 'sync', '--local_cell']);
  t.is(synced.code, 0, describeResult(synced));
  for (const flag of ['--cell_uuid', '--cell-uuid']) {
    const r = await cloud.cli(['cell_v2', 'list_hosts', flag, uuidA]);
    t.is(r.code, 0, `${flag}: ${describeResult(r)}`);
    const u = await cloud.cli(['cell_v2', 'update_cell', flag, uuidA, '--name', `a${flag}`]);
    t.is(u.code, 0, `${flag}: ${describeResult(u)}`);
  }
  for (const flag of ['--by-service', '--by_service']) {
    const r = await cloud.cli(['cell_v2', 'discover_hosts', flag, '--cell_uuid', uuidA]);
    t.is(r.code, 0, `${flag}: ${describeResult(r)}`);
  }
  for (const flag of ['--max-count', '--max_count']) {
    const r = await cloud.cli(['db', 'online_data_migrations', '--cell', uuidA, flag, '5']);
    t.is(r.code, 0, `${flag}: ${describeResult(r)}`);
  }
  const conf = join(confDir(t), 'nova.conf');
  writeFileSync(conf, `[api_database]\nconnection = ${cloud.api.raw}\n`);
  const viaFile = await runCli(['--config_file', conf, 'cell_v2', 'list_cells']);
  t.is(viaFile.code, 0, describeResult(viaFile));
  t.regex(viaFile.stdout, /a--cell-uuid/);
});

test('--config-dir: its *.conf files in sorted order after --config-file; a malformed one is 127 FILE:LINE with no value echoed', async (t) => {
  const dir = confDir(t);
  const confd = join(dir, 'nova.conf.d');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(confd);
  writeFileSync(join(dir, 'nova.conf'), '[api_database]\nconnection = postgresql://nova:first@unreachable-a.invalid/nova_api\n');
  writeFileSync(join(confd, '10-api.conf'), '[api_database]\nconnection = postgresql://nova:second@unreachable-b.invalid/nova_api\n');
  writeFileSync(join(confd, '20-api.conf'), '[api_database]\nconnection = postgresql://nova:third@unreachable-c.invalid/nova_api\n');
  writeFileSync(join(confd, 'ignored.txt'), '[api_database]\nconnection = postgresql://nova:x@ignored.invalid/nova_api\n');
  const r = await runCli(['--config-file', join(dir, 'nova.conf'), '--config-dir', confd, '--connect-timeout', '3', 'cell_v2', 'list_cells']);
  t.not(r.code, 0);
  t.regex(r.stderr, /unreachable-c\.invalid/, 'the last file of the directory wins');
  t.false(r.stderr.includes('third'), 'the password is not printed');

  // oslo.config reads the options in command-line order: a --config-file after the directory wins.
  const fileLast = await runCli(['--config-dir', confd, '--config-file', join(dir, 'nova.conf'), '--connect-timeout', '3', 'cell_v2', 'list_cells']);
  t.not(fileLast.code, 0);
  t.regex(fileLast.stderr, /unreachable-a\.invalid/, 'the file given after the directory wins');
  writeFileSync(join(dir, 'other.conf'), '[DEFAULT]\ndebug = false\n');
  const between = await runCli(['--config_file', join(dir, 'nova.conf'), `--config-dir=${confd}`, '--config-file', join(dir, 'other.conf'), '--connect-timeout', '3', 'cell_v2', 'list_cells']);
  t.not(between.code, 0);
  t.regex(between.stderr, /unreachable-c\.invalid/, 'a file after the directory that does not set the option leaves the directory’s value');

  writeFileSync(join(confd, '30-broken.conf'), '[database\nconnection = mysql://nova:Sup3rS3cret@db/nova\n');
  const broken = await runCli(['--config-file', join(dir, 'nova.conf'), '--config_dir', confd, 'cell_v2', 'list_cells']);
  t.is(broken.code, 127, describeResult(broken));
  t.is(broken.stderr.trim(), `${ERROR}${join(confd, '30-broken.conf')}:1: section header does not end with ']' (nothing may follow it, not even a comment)`);
  t.false(`${broken.stdout}${broken.stderr}`.includes('Sup3rS3cret'));
});

// ---------------------------------------------------------------- nova-status (test_status.py)

interface OsloReport {
  readonly name: string;
  readonly checks: ReadonlyArray<{ readonly check: string; readonly result: number; readonly details: string | null }>;
}

eachDialectLimited(test, 'test_status test_check_no_cell_mappings / _no_cell0_mapping / _no_host_mappings_with_computes: Failure (2) with their words, in oslo.upgradecheck JSON', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const check = async () => {
    const r = await cloud.cli(['upgrade', 'check', '--format', 'json']);
    const report = JSON.parse(r.stdout) as OsloReport;
    t.is(report.name, 'Upgrade Check Results');
    return { code: r.code, by: (name: string) => report.checks.find((c) => c.check === name) };
  };
  const none = await check();
  t.is(none.code, 2);
  t.is(none.by('Cells mapped')?.result, 2);
  t.regex(none.by('Cells mapped')?.details ?? '', /There needs to be at least two cell mappings/);
  t.is(none.by('Cell0 mapped')?.result, 2);
  t.regex(none.by('Cell0 mapped')?.details ?? '', /No cell0 mapping found/);

  await useCell0(t, cloud, { sync: true });
  const cell1 = await useCell(t, cloud, 'cell1', { sync: true });
  await insertRows(cell1.url, 'compute_nodes', [node('cmp-1')]);
  const unmapped = await check();
  t.is(unmapped.code, 2);
  t.is(unmapped.by('Cell0 mapped')?.result, 0);
  t.is(unmapped.by('Compute hosts mapped')?.result, 2);
  t.regex(unmapped.by('Compute hosts mapped')?.details ?? '', /compute host 'cmp-1' in cell 'cell1' has no host mapping/);

  // test_check_success: everything mapped → Success.
  await mapHosts(cloud, cell1, ['cmp-1']);
  const ok = await check();
  t.is(ok.by('Compute hosts mapped')?.result, 0);
});
