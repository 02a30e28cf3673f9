import { query, tableNames, waitForStderr } from './helpers/sql.js';
import { lineLockName } from '../src/migrate/lock.js';
// Several runners syncing the same database at once (a deployment tool starting `api_db sync` on
// every controller): the line lock must let exactly one apply each migration, and the others must
// wait for it and then find nothing left to do, all exiting 0.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dialectFor } from '../src/db/dialects.js';
import { LINES, listMigrationFiles } from '../src/migrate/lines.js';
import type { DatabaseUrl, Dialect } from '../src/url/index.js';
import { type CliResult, spawnCli } from './helpers/cli.js';
import { eachDialect, useDatabase } from './helpers/databases.js';

const FIXTURE_LINE = fileURLToPath(new URL('./fixtures/slow-api/', import.meta.url));
const API_TABLES = [
  'cell_mappings',
  'host_mappings',
  'instance_group_member',
  'instance_group_policy',
  'instance_groups',
  'instance_mappings',
];
const RUNNERS = 3;


/** How many ledger rows each migration has, and in which states. */
async function ledgerCounts(url: DatabaseUrl): Promise<Array<{ name: string; rows: number; states: string }>> {
  const rows = await query<{ name: string; n: number | string; states: string }>(
    url,
    url.dialect === 'postgres'
      ? `SELECT name, COUNT(*) AS n, string_agg(state, ',') AS states FROM cellsdb_migrations_api GROUP BY name ORDER BY name`
      : `SELECT name, COUNT(*) AS n, GROUP_CONCAT(state) AS states FROM cellsdb_migrations_api GROUP BY name ORDER BY name`,
  );
  return rows.map((r) => ({ name: r.name, rows: Number(r.n), states: r.states }));
}


/** Starts `count` syncs of the API line at the same moment and waits for all of them. */
async function race(url: DatabaseUrl, count: number): Promise<CliResult[]> {
  const children = Array.from({ length: count }, () => spawnCli(['--api-db', url.raw, '--json', '--lock-timeout', '60', 'api_db', 'sync']));
  return Promise.all(children.map((c) => c.result));
}

const apiLockName = (url: DatabaseUrl): string => lineLockName(url.database, 'api');


function appliedBy(result: CliResult): string[] {
  return (JSON.parse(result.stdout) as { applied: string[] }).applied;
}

eachDialect(test, `${RUNNERS} runners sync the real API line at once: all exit 0, each migration recorded once, schema at head`, async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'race_api');
  const files = listMigrationFiles(LINES.api).map((f) => f.name);

  // Started together, as a deployment tool would; how far they overlap depends on start-up times,
  // which is why the next test holds a gate.
  const results = await race(url, RUNNERS);

  for (const [i, r] of results.entries()) t.is(r.code, 0, `runner ${i} exit code; stderr: ${r.stderr}`);
  // Between them the runners applied every migration exactly once: none twice, none skipped.
  const applied = results.flatMap(appliedBy).sort();
  t.deepEqual(applied, files);
  t.deepEqual(
    await ledgerCounts(url),
    files.map((name) => ({ name, rows: 1, states: 'applied' })),
  );
  const tables = await tableNames(url);
  for (const table of API_TABLES) t.true(tables.includes(table), `table ${table} exists after the race`);
});

eachDialect(test, `${RUNNERS} runners released together onto slow migrations: all exit 0, each migration recorded once`, async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'race_slow');
  // A gate: the test holds the line lock until every runner is waiting on it, so that the runners
  // really overlap however slowly this machine starts them; then all of them go for it at once.
  const gate = await dialectFor(dialect).openSession(url, { connectTimeoutMs: 60_000, applicationName: 'cellsdb test gate' });
  t.teardown(() => gate.close().catch(() => undefined));
  t.true(await dialectFor(dialect).tryLock(gate, apiLockName(url)));

  // One second of sleep inside 0002 keeps the winner holding the lock while the others poll for it.
  const children = Array.from({ length: RUNNERS }, () =>
    spawnCli(['--api-db', url.raw, '--json', '--lock-timeout', '180', '--api-migrations-dir', FIXTURE_LINE, 'api_db', 'sync'], {
      env: { CELLSDB_TEST_SLEEP_SECONDS: '1' },
    }),
  );
  for (const child of children) t.teardown(() => void child.kill('SIGKILL'));
  // Generous: on a busy machine (the whole suite at once) three CLI start-ups can take long.
  await Promise.all(children.map((child) => waitForStderr(child, /waiting up to 180 s \(--lock-timeout\)/, 90_000)));
  await dialectFor(dialect).unlock(gate, apiLockName(url));
  const results = await Promise.all(children.map((c) => c.result));

  for (const [i, r] of results.entries()) t.is(r.code, 0, `runner ${i} exit code; stderr: ${r.stderr}`);
  t.deepEqual(results.flatMap(appliedBy).sort(), ['0001_create_probe_table', '0002_slow_migration']);
  t.deepEqual(await ledgerCounts(url), [
    { name: '0001_create_probe_table', rows: 1, states: 'applied' },
    { name: '0002_slow_migration', rows: 1, states: 'applied' },
  ]);
  const tables = await tableNames(url);
  t.true(tables.includes('probe_one'));
  t.true(tables.includes('probe_slow'));
});
