// `upgrade check` through the real CLI, on both dialects, from clouds prepared to produce each
// result: 0 (ready), 1 (warnings: no compute hosts yet), 2 (an unmapped host, a dirty ledger, an
// unfinished mover, no cell0, an unreachable cell), 255 (the API database cannot be read), 127 (bad
// input). Nothing is written by the check.
import test, { type ExecutionContext } from 'ava';
import { runCli } from './helpers/cli.js';
import { type Cloud, describeResult, insertRows, mapHosts, useCell, useCell0, useCloud } from './helpers/cells.js';
import { adminUrl, eachDialect } from './helpers/databases.js';
import { execSql, missingDatabase, parseJson, snapshot } from './helpers/schema.js';

/** oslo.upgradecheck's JSON (`nova-status upgrade check --json`), with our exit_code beside it. */
interface UpgradeJson {
  readonly name: string;
  readonly exit_code: number;
  readonly checks: ReadonlyArray<{ readonly check: string; readonly result: 0 | 1 | 2; readonly details: string | null }>;
}

const RESULT_NAME = ['Success', 'Warning', 'Failure'] as const;

async function upgradeCheck(t: ExecutionContext, cloud: Cloud, args: readonly string[] = []) {
  const result = await cloud.cli(['--json', 'upgrade', 'check', ...args]);
  const report = parseJson<UpgradeJson>(t, result);
  t.is(report.exit_code, result.code ?? -1, 'the JSON names the exit code');
  t.is(report.name, 'Upgrade Check Results', "oslo.upgradecheck's name");
  const results = Object.fromEntries(report.checks.map((c) => [c.check, RESULT_NAME[c.result]]));
  const details = (check: string) => report.checks.find((c) => c.check === check)?.details ?? '';
  return { result, results, details };
}

const node = (host: string) => ({ host, hypervisor_hostname: `${host}.example`, vcpus: 8, deleted: 0, created_at: new Date() });

eachDialect(test, 'a ready cloud exits 0; no compute hosts is a warning (1); an unmapped host and a dirty ledger are failures (2)', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell0 = await useCell0(t, cloud, { sync: true });
  const cell1 = await useCell(t, cloud, 'cell1', { sync: true });

  const empty = await upgradeCheck(t, cloud);
  t.is(empty.result.code, 1, describeResult(empty.result));
  t.is(empty.results['Compute hosts mapped'], 'Warning');
  t.regex(empty.details('Compute hosts mapped'), /No compute hosts were found/);

  await insertRows(cell1.url, 'compute_nodes', [node('cmp-1')]);
  await mapHosts(cloud, cell1, ['cmp-1']);
  const before = await Promise.all([cloud.api, cell0.url, cell1.url].map((u) => snapshot(u)));
  const ready = await upgradeCheck(t, cloud);
  t.is(ready.result.code, 0, describeResult(ready.result));
  t.deepEqual(Object.values(ready.results), Array(8).fill('Success'));
  t.deepEqual(Object.keys(ready.results), [
    'Cell0 mapped',
    'Cells mapped',
    'Cell databases reachable',
    'Compute hosts mapped',
    'API database schema',
    'Cell database schemas',
    'Migration ledgers',
    'Online data migrations',
  ]);
  const table = await cloud.cli(['upgrade', 'check']);
  t.is(table.code, 0);
  t.regex(table.stdout, /^\| Upgrade Check Results +\|$/m);
  t.regex(table.stdout, /^\| Check: Online data migrations +\|\n\| Result: Success +\|$/m);
  t.deepEqual(await Promise.all([cloud.api, cell0.url, cell1.url].map((u) => snapshot(u))), before, 'the check wrote nothing');

  await insertRows(cell1.url, 'compute_nodes', [node('cmp-2')]);
  const unmapped = await upgradeCheck(t, cloud);
  t.is(unmapped.result.code, 2, describeResult(unmapped.result));
  t.is(unmapped.results['Compute hosts mapped'], 'Failure');
  t.regex(unmapped.details('Compute hosts mapped'), /compute host 'cmp-2' in cell 'cell1' has no host mapping/);
  t.regex(unmapped.details('Compute hosts mapped'), /cell_v2 discover_hosts/);
  const discovered = await cloud.cli(['cell_v2', 'discover_hosts']);
  t.is(discovered.code, 0, describeResult(discovered));
  t.is((await upgradeCheck(t, cloud)).result.code, 0, 'discover_hosts fixes it');

  // A migration that started and never finished, as a crash leaves it on MariaDB.
  await execSql(cell1.url, "UPDATE cellsdb_migrations_cell SET state = 'started' WHERE name = '0005_drop_legacy_instance_groups'");
  const dirty = await upgradeCheck(t, cloud);
  t.is(dirty.result.code, 2, describeResult(dirty.result));
  t.is(dirty.results['Migration ledgers'], 'Failure');
  t.regex(dirty.details('Migration ledgers'), /cell 'cell1': cell migration 0005_drop_legacy_instance_groups started on .* never finished/);
});

eachDialect(test, 'an unfinished mover fails the check (2), also at a named VERSION before the blocker; the movers fix it', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell0(t, cloud, { sync: true });
  const cell1 = await useCell(t, cloud, 'cell1');
  await cloud.setup(['db', 'sync', '3', '--cell', 'cell1']);
  await insertRows(cell1.url, 'compute_nodes', [node('cmp-1')]);
  await mapHosts(cloud, cell1, ['cmp-1']);
  await insertRows(cell1.url, 'instance_groups', [{ uuid: '7f3c1a52-0000-4000-8000-000000000001', user_id: 'u', project_id: 'p', name: 'g', deleted: 0 }]);

  const atThree = await upgradeCheck(t, cloud, ['--cell-version', '3']);
  t.is(atThree.result.code, 2, describeResult(atThree.result));
  t.is(atThree.results['Cell database schemas'], 'Success');
  t.is(atThree.results['Online data migrations'], 'Failure');
  t.regex(atThree.details('Online data migrations'), /cell 'cell1': migrate_instance_groups_to_api_db has 1 row left/);
  t.regex(atThree.details('Online data migrations'), /online_data_migrations/);

  const atHead = await upgradeCheck(t, cloud);
  t.is(atHead.result.code, 2);
  t.is(atHead.results['Cell database schemas'], 'Failure');
  t.regex(atHead.details('Cell database schemas'), /cell 'cell1' is at 0003_services_last_seen_up and must be at 0005_drop_legacy_instance_groups/);

  const moved = await cloud.cli(['db', 'online_data_migrations']);
  t.is(moved.code, 0, describeResult(moved));
  const done = await upgradeCheck(t, cloud, ['--cell-version', '0003_services_last_seen_up']);
  t.is(done.result.code, 0, describeResult(done.result));
});

eachDialect(test, 'no cell0 and an unreachable cell fail (2); an unreadable API database is an error (255); bad input 127', async (t, dialect) => {
  const server = adminUrl(dialect);
  if (!server) return t.fail('no server');
  const cloud = await useCloud(t, dialect);
  await cloud.setup(['cell_v2', 'create_cell', '--name', 'lost', '--transport-url', 'rabbit://nova:mq-pw@mq/', '--database_connection', missingDatabase(server)]);
  const broken = await upgradeCheck(t, cloud);
  t.is(broken.result.code, 2, describeResult(broken.result));
  t.is(broken.results['Cell0 mapped'], 'Failure');
  t.regex(broken.details('Cell0 mapped'), /map_cell0/);
  t.is(broken.results['Cell databases reachable'], 'Failure');
  t.regex(broken.details('Cell databases reachable'), /cell 'lost' \(.*cellsdb_no_such_database_x\)/);
  t.false(broken.result.stdout.includes('mq-pw'));

  const noApi = await runCli(['--api-db', missingDatabase(server), 'upgrade', 'check']);
  t.is(noApi.code, 255, describeResult(noApi));
  t.is(noApi.stderr.trimEnd().split('\n').length, 1, noApi.stderr);
  t.regex(noApi.stderr, /^cellsdb: error: .*does not exist/);

  for (const args of [['upgrade', 'check', '--cell-version', '99'], ['upgrade', 'check', '--api-version', 'nope']]) {
    const bad = await cloud.cli(args);
    t.is(bad.code, 127, describeResult(bad));
    t.is(bad.stderr.trimEnd().split('\n').length, 1, bad.stderr);
  }
  const noConfig = await runCli(['upgrade', 'check']);
  t.is(noConfig.code, 127, describeResult(noConfig));
});
