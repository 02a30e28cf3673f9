// Every error names its cause and its database (issue 15): the migrations of both lines and the
// movers are walked with an error injected at each failure point (`CELLSDB_FAILPOINT=point:N=ERROR`
// throws an error with no message at all, the worst a driver gives), through the real CLI on both
// dialects. Each failure must print a non-empty reason naming the database it happened on (masked),
// and the next plain run must complete with exact content: an error loses nothing.
import test from 'ava';
import type { Cell } from './helpers/cells.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { eachDialect, useDatabase } from './helpers/databases.js';
import { assertFinished, expectation, odm, seed, show, useLegacyDeployment } from './helpers/movers.js';

const INJECTED = /Error \(code EFAILPOINT\) without a message/;
const errorLines = (r: CliResult): string[] => `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('error') || l.includes('FAILED') || l.includes('failed'));

const MIGRATIONS = {
  api: ['0001_initial_api_schema', '0002_instance_group_unique_keys'],
  // 0004 is a blocker: it reads, changes no schema, and has no step to fail at.
  cell: ['0001_initial_cell_schema', '0002_compute_nodes_host_expand', '0003_services_last_seen_up', '0005_drop_legacy_instance_groups'],
} as const;

eachDialect(test, 'a migration of either line failing at its first step names the line, the migration, the database and the reason; the next sync completes it', async (t, dialect) => {
  for (const line of ['api', 'cell'] as const) {
    const url = await useDatabase(t, dialect, `errpath_${line}`);
    const base = line === 'api' ? ['--api-db', url.raw, 'api_db', 'sync'] : ['--db', url.raw, 'db', 'sync', '--local-cell'];
    for (const name of MIGRATIONS[line]) {
      const version = String(Number(name.slice(0, 4)));
      const failed = await runCli([...base, version], { env: { CELLSDB_FAILPOINT: 'migrate:step:1=ERROR' } });
      t.is(failed.code, 1, `${line} ${name}: ${show(failed)}`);
      const line1 = failed.stderr.split('\n').find((l) => l.startsWith('cellsdb: error: ')) ?? '';
      t.regex(line1, new RegExp(`${line === 'api' ? 'API' : 'cell'} migration ${name} failed on (API|cell) database: .*EFAILPOINT.*\\(${dialect === 'postgres' ? 'postgresql' : 'mysql'}://[^)]*${url.database}\\)`), `${line} ${name}: ${line1}`);
      t.regex(line1, INJECTED);
      const done = await runCli([...base, version]);
      t.is(done.code, 0, `${line} ${name} rerun: ${show(done)}`);
    }
  }
});

eachDialect(test, 'the movers failing at each of their points: exit 2, the reason and the cell named; the rerun finishes with exact content', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  const points = ['instance-groups:locked', 'instance-groups:api-committed', 'instance-groups:soft-deleted', 'runner:batch-done', 'compute-nodes:updated'];
  for (const [i, point] of points.entries()) {
    // Fresh legacy rows for each point, so that every run reaches it.
    await seed(d.cells[0] as Cell, { groups: 8, policiesPerGroup: 2, membersPerGroup: 2, computeNodes: 8, hostPrefix: `e${i}` });
    const expected = await expectation(d);
    const r = await odm(d.cloud, ['--batch-size', '5'], { CELLSDB_FAILPOINT: `${point}:1=ERROR` });
    // Without --max-count the run goes on until a pass does nothing: an error then always wins.
    t.is(r.code, 2, `${point}: ${show(r)}`);
    const lines = errorLines(r).join('\n');
    t.regex(lines, INJECTED, `${point}: the reason is printed: ${show(r)}`);
    t.regex(lines, /on cell 'cell[01]': .*\((postgresql|mysql):\/\/[^)]*cellsdb_cell[01]_/, `${point}: the cell and its database are named: ${show(r)}`);
    const rerun = await odm(d.cloud);
    t.is(rerun.code, 0, `${point} rerun: ${show(rerun)}`);
    await assertFinished(t, d, expected, `after an error at ${point}`);
  }
});
