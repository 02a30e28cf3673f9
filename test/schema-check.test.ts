// `schema check` through the real CLI, on both dialects, from databases prepared to produce each
// exit code: 0 (both lines built on scratch databases match the declared models), 1 (pending
// migrations only), 2 (drift from a hand-made ALTER; an edited migration; a dirty ledger), 255 (a
// live database that cannot be reached), 127 (bad input). Live databases are never written.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { runCli } from './helpers/cli.js';
import { describeResult, useCell, useCell0, useCloud } from './helpers/cells.js';
import { adminUrl, eachDialect, useDatabase } from './helpers/databases.js';
import { type CheckJson, copyMigrations, execSql, junitCases, missingDatabase, parseJson, ROOT, snapshot, statusOf } from './helpers/schema.js';

interface Report {
  readonly mode: string;
  readonly exit_code: number;
  readonly checks: readonly CheckJson[];
}

const reportsDir = () => mkdtempSync(join(tmpdir(), 'cellsdb-junit-'));

eachDialect(test, 'scratch databases: both lines match the declared models: exit 0, and the JUnit file has one case per check', async (t, dialect) => {
  const server = adminUrl(dialect);
  if (!server) return t.fail('no server');
  const dir = reportsDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const junit = join(dir, 'reports', 'schema-check.xml');
  const result = await runCli(['schema', 'check', '--scratch', server.raw, '--json', '--junit', junit]);
  t.is(result.code, 0, describeResult(result));
  const report = parseJson<Report>(t, result);
  t.is(report.mode, 'scratch');
  t.is(report.exit_code, 0);
  const label = dialect === 'postgres' ? 'postgres' : 'mariadb';
  for (const line of ['API', 'cell']) {
    for (const name of ['migrations apply', 'ledger integrity', 'schema matches the models']) {
      t.is(statusOf(report.checks, `scratch ${label} ${line} database`, name), 'passed', `${line}: ${name}`);
    }
  }
  const { cases } = junitCases(t, junit);
  t.is(cases.length, report.checks.length);
  t.deepEqual(
    cases.map((c) => `${c.classname}: ${c.name}`),
    report.checks.map((c) => `${c.subject}: ${c.name}`),
  );
  t.true(cases.every((c) => c.failure === undefined && c.error === undefined));
});

eachDialect(test, 'live, read-only: pending migrations alone exit 1; a hand-made ALTER on top exits 2 with a readable diff', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell0 = await useCell0(t, cloud, { sync: true });
  const cell1 = await useCell(t, cloud, 'cell1');
  await cloud.setup(['db', 'sync', '3', '--cell', 'cell1']);
  const before = await Promise.all([cloud.api, cell0.url, cell1.url].map((u) => snapshot(u)));

  const dir = reportsDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const junit = join(dir, 'check.xml');
  const pending = await runCli(['schema', 'check', '--against-api', cloud.api.raw, '--json', '--junit', junit]);
  t.is(pending.code, 1, describeResult(pending));
  const report = parseJson<Report>(t, pending);
  t.is(report.mode, 'live');
  const cell1Pending = report.checks.find((c) => c.subject === "cell 'cell1'" && c.name === 'pending migrations');
  t.is(cell1Pending?.status, 'pending');
  t.deepEqual(cell1Pending?.details, ['0004_block_until_movers_done', '0005_drop_legacy_instance_groups']);
  // cell1 behind head is compared with a scratch replay of the line at 0003; the API database (on
  // MariaDB with its implicit foreign-key indexes) and cell0 with the declared models.
  for (const subject of ['API database', "cell 'cell0'", "cell 'cell1'"]) {
    t.is(statusOf(report.checks, subject, 'schema drift'), 'passed', `${subject}: ${JSON.stringify(report.checks.filter((c) => c.subject === subject))}`);
    t.is(statusOf(report.checks, subject, 'ledger integrity'), 'passed');
  }
  t.is(statusOf(report.checks, "cell 'cell0'", 'pending migrations'), 'passed');
  const { cases } = junitCases(t, junit);
  t.is(cases.length, report.checks.length);
  t.is(cases.find((c) => c.classname === "cell 'cell1'" && c.name === 'pending migrations')?.failure?.type, 'pending');
  const after = await Promise.all([cloud.api, cell0.url, cell1.url].map((u) => snapshot(u)));
  t.deepEqual(after, before, 'schema check wrote nothing to the live databases');

  await execSql(cell0.url, 'ALTER TABLE instances ADD COLUMN extra INTEGER', 'CREATE INDEX instances_node_idx ON instances (node)');
  const drifted = await runCli(['schema', 'check', '--against-api', cloud.api.raw, '--cell', 'cell0']);
  t.is(drifted.code, 2, describeResult(drifted));
  t.true(drifted.stdout.includes('+ instances.extra: column integer NULL (in the database, not expected)'), drifted.stdout);
  t.true(drifted.stdout.includes('+ instances.instances_node_idx: index (node) (in the database, not expected)'), drifted.stdout);
  t.false(drifted.stdout.includes("cell 'cell1'"), '--cell limits the cells checked');
});

eachDialect(test, 'live: an edited migration and a dirty ledger are integrity failures: exit 2, drift not compared', async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'edited');
  const dir = copyMigrations(t, join(ROOT, 'dist', 'migrations-cell'));
  const synced = await runCli(['db', 'sync', '--local-cell', '--db', url.raw, '--cell-migrations-dir', dir]);
  t.is(synced.code, 0, describeResult(synced));
  const check = () => runCli(['schema', 'check', '--against-db', url.raw, '--cell-migrations-dir', dir, '--json']);

  const clean = await check();
  t.is(clean.code, 0, describeResult(clean));

  appendFileSync(join(dir, '0003_services_last_seen_up.js'), '\nexport const edited = true;\n');
  const edited = await check();
  t.is(edited.code, 2, describeResult(edited));
  const report = parseJson<Report>(t, edited);
  const integrity = report.checks.find((c) => c.name === 'ledger integrity');
  t.is(integrity?.status, 'failed');
  t.true(integrity?.details.some((d) => d.startsWith('changed: ') && d.includes('0003_services_last_seen_up')), JSON.stringify(integrity));
  t.is(statusOf(report.checks, 'cell database', 'schema drift'), 'skipped');

  // A migration that started and never finished, as a crash leaves it on MariaDB.
  const pristine = copyMigrations(t, join(ROOT, 'dist', 'migrations-cell'));
  await execSql(url, "UPDATE cellsdb_migrations_cell SET state = 'started', applied_at = NULL WHERE name = '0005_drop_legacy_instance_groups'");
  const dirty = await runCli(['schema', 'check', '--against-db', url.raw, '--cell-migrations-dir', pristine]);
  t.is(dirty.code, 2, describeResult(dirty));
  t.regex(dirty.stdout, /dirty: cell migration 0005_drop_legacy_instance_groups started on cell database/);
  t.regex(dirty.stdout, /never finished/);
});

eachDialect(test, 'a live database that cannot be reached exits 255; bad input exits 127 with one line', async (t, dialect) => {
  const server = adminUrl(dialect);
  if (!server) return t.fail('no server');
  const unreachable = await runCli(['schema', 'check', '--against-db', missingDatabase(server), '--json']);
  t.is(unreachable.code, 255, describeResult(unreachable));
  const report = parseJson<Report>(t, unreachable);
  t.is(statusOf(report.checks, 'cell database', 'reachable'), 'error');
  t.is(statusOf(report.checks, 'cell database', 'schema drift'), 'skipped');

  // A login that does not exist, with a password: refused, reported, never printed (nor in the JUnit file).
  const dir = reportsDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const withPassword = server.raw.replace(/^([a-z+]+:\/\/)[^@/]*@/, '$1cellsdb_nobody:Pw-Secret-4711@');
  const refused = await runCli(['schema', 'check', '--against-db', withPassword, '--junit', join(dir, 'r.xml')]);
  t.is(refused.code, 255, describeResult(refused));
  t.false(`${refused.stdout}${refused.stderr}${readFileSync(join(dir, 'r.xml'), 'utf8')}`.includes('Pw-Secret-4711'));
  t.true(refused.stdout.includes('cellsdb_nobody:****@'), refused.stdout);

  for (const args of [
    ['schema', 'check', '--against-db', 'not a url'],
    ['schema', 'check', '--scratch', server.raw, '--junit', tmpdir()],
    ['schema', 'check', '--cell', 'cell1', '--against-db', server.raw],
    ['schema', 'check'],
  ]) {
    const bad = await runCli(args);
    t.is(bad.code, 127, `${args.join(' ')}: ${describeResult(bad)}`);
    t.is(bad.stderr.trimEnd().split('\n').length, 1, bad.stderr);
    t.regex(bad.stderr, /^cellsdb: error: /);
    t.false(bad.stderr.includes('    at '), 'no stack trace');
  }
});
