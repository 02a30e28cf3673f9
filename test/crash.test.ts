import { query, tableNames, waitForStderr } from './helpers/sql.js';
// A runner killed (SIGKILL: no `finally`, no cleanup) in the middle of a migration. PostgreSQL runs
// each migration and its ledger row in one transaction, so nothing of it may remain. MariaDB commits
// DDL as it goes, so the started-marker must stop the next sync until an operator has looked, and
// --mark-pending / --mark-applied must be the way past it.
import test, { type ExecutionContext } from 'ava';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dialectFor } from '../src/db/dialects.js';
import type { DatabaseUrl, Dialect } from '../src/url/index.js';
import { type CliResult, runCli, spawnCli } from './helpers/cli.js';
import { adminUrl, dialectName, useDatabase } from './helpers/databases.js';

const FIXTURE_LINE = fileURLToPath(new URL('./fixtures/slow-api/', import.meta.url));
/**
 * How long 0002 sleeps: long enough to be seen and killed in on a busy machine. Short on PostgreSQL,
 * because there the killed client's backend sleeps it out inside its open transaction.
 */
const SLEEP_SECONDS: Readonly<Record<Dialect, number>> = { postgres: 5, mysql: 20 };
const SLOW = '0002_slow_migration';

/** Registers a test for one dialect only (the two dialects are meant to behave differently here). */
function onDialect(dialect: Dialect, title: string, fn: (t: ExecutionContext, url: () => Promise<DatabaseUrl>) => Promise<void>): void {
  const name = `${dialectName(dialect)}: ${title}`;
  if (adminUrl(dialect)) test(name, (t) => fn(t, () => useDatabase(t, dialect, 'crash')));
  else test.skip(`${name} (no server for ${dialectName(dialect)})`, () => undefined);
}



/** Every ledger row as `name:state`, with a count, so that a duplicate would show. */
async function ledger(url: DatabaseUrl): Promise<string[]> {
  const rows = await query<{ name: string; state: string; n: number | string }>(
    url,
    'SELECT name, state, COUNT(*) AS n FROM cellsdb_migrations_api GROUP BY name, state ORDER BY name, state',
  );
  return rows.map((r) => `${r.name}:${r.state}×${Number(r.n)}`);
}

const sync = (url: DatabaseUrl, args: readonly string[] = [], sleepSeconds = 0): Promise<CliResult> =>
  runCli(['--api-db', url.raw, '--api-migrations-dir', FIXTURE_LINE, ...args, 'api_db', 'sync'], {
    env: { CELLSDB_TEST_SLEEP_SECONDS: String(sleepSeconds) },
  });


async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sessions of other clients on the test database (our own query's session excluded). */
async function otherSessions(url: DatabaseUrl, onlySleeping: boolean): Promise<number> {
  const [row] = await query<{ n: number | string }>(
    url,
    url.dialect === 'postgres'
      ? `SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()` +
          (onlySleeping ? ` AND state = 'active' AND query LIKE '%pg_sleep%'` : '')
      : `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()` +
          (onlySleeping ? ` AND INFO LIKE 'SELECT SLEEP%'` : ''),
  );
  return Number(row?.n ?? 0);
}

/** Ends every other server session on the test database (a killed runner's sleeping query). */
async function endOtherSessions(url: DatabaseUrl): Promise<void> {
  const session = await dialectFor(url.dialect).openSession(url, { connectTimeoutMs: 60_000, applicationName: 'cellsdb tests' });
  try {
    if (url.dialect === 'postgres') {
      await session.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      return;
    }
    const rows = await session.query<{ id: number | string }>(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()',
    );
    for (const { id } of rows) await session.query(`KILL ${Number(id)}`).catch(() => undefined);
  } finally {
    await session.close();
  }
}

/**
 * Starts a sync of the fixture line and SIGKILLs it while the server is running 0002's sleep, that
 * is after its CREATE TABLE and before its ledger row is written as applied.
 */
async function killInsideSlowMigration(t: ExecutionContext, url: DatabaseUrl): Promise<void> {
  const child = spawnCli(['--api-db', url.raw, '--api-migrations-dir', FIXTURE_LINE, 'api_db', 'sync'], {
    env: { CELLSDB_TEST_SLEEP_SECONDS: String(SLEEP_SECONDS[url.dialect]) },
  });
  t.teardown(async () => {
    child.kill('SIGKILL');
    await endOtherSessions(url);
  });
  await waitForStderr(child, new RegExp(`applying ${SLOW}`), 60_000);
  await waitUntil(`${SLOW} to be sleeping on the server`, async () => (await otherSessions(url, true)) > 0, 10_000);
  child.kill('SIGKILL');
  const killed = await child.result;
  t.is(killed.signal, 'SIGKILL', `the runner was killed, not finished: ${killed.stderr}`);
  t.regex(killed.stderr, /applied 0001_create_probe_table/);
  t.notRegex(killed.stderr, new RegExp(`applied ${SLOW}`));
}

onDialect('postgres', 'killed inside a slow migration, nothing of it remains; the next sync applies it', async (t, database) => {
  const url = await database();
  await killInsideSlowMigration(t, url);

  // The killed client's backend sleeps on until it notices the dropped socket, then rolls back.
  // Wait for that, so that what we see below is what the crash left, not a transaction in flight.
  await waitUntil('the killed runner’s sessions to end', async () => (await otherSessions(url, false)) === 0, SLEEP_SECONDS.postgres * 1000 + 15_000);
  const tables = await tableNames(url);
  t.false(tables.includes('probe_slow'), 'the table the killed migration created was rolled back');
  t.true(tables.includes('probe_one'), 'the migration before it stays applied');
  t.deepEqual(await ledger(url), ['0001_create_probe_table:applied×1']);

  const next = await sync(url, ['--json']);
  t.is(next.code, 0, next.stderr);
  t.deepEqual((JSON.parse(next.stdout) as { applied: string[] }).applied, [SLOW]);
  t.deepEqual(await ledger(url), ['0001_create_probe_table:applied×1', `${SLOW}:applied×1`]);
  t.is((await tableNames(url)).filter((n) => n === 'probe_slow').length, 1);
});

onDialect('postgres', 'a sync started right after the kill waits out the dying session and completes', async (t, database) => {
  const url = await database();
  await killInsideSlowMigration(t, url);

  // The killed runner's transaction may still be open (its backend is in pg_sleep), holding its
  // uncommitted probe_slow: this sync has to wait for the rollback and then create the table itself.
  const next = await sync(url, ['--lock-timeout', '60']);
  t.is(next.code, 0, next.stderr);
  t.regex(next.stderr, new RegExp(`applied ${SLOW}`));
  t.deepEqual(await ledger(url), ['0001_create_probe_table:applied×1', `${SLOW}:applied×1`]);
  t.is((await tableNames(url)).filter((n) => n === 'probe_slow').length, 1);
});

/** On MariaDB the crash leaves the DDL done so far and a started-marker: the next sync must refuse. */
async function crashAndExpectDirty(t: ExecutionContext, url: DatabaseUrl): Promise<void> {
  await killInsideSlowMigration(t, url);
  t.deepEqual(await ledger(url), ['0001_create_probe_table:applied×1', `${SLOW}:started×1`]);
  t.true((await tableNames(url)).includes('probe_slow'), 'MariaDB committed the CREATE TABLE before the kill');

  const refused = await sync(url);
  t.is(refused.code, 1, refused.stderr);
  const error = refused.stderr.split('\n').find((line) => line.startsWith('cellsdb: error: ')) ?? '';
  t.regex(error, new RegExp(`API migration ${SLOW} started on API database .* and never finished`));
  t.regex(error, /Compare the schema with the migration/);
  t.true(error.includes(`--mark-applied ${SLOW}`), error);
  t.true(error.includes(`--mark-pending ${SLOW}`), error);
  t.regex(error, /nothing was run$/);
  t.notRegex(refused.stderr, /applying/);
  t.deepEqual(await ledger(url), ['0001_create_probe_table:applied×1', `${SLOW}:started×1`], 'the refused sync changed nothing');
}

onDialect('mysql', 'killed inside a slow migration, the next sync reports it dirty; undo + --mark-pending lets a sync run it', async (t, database) => {
  const url = await database();
  await crashAndExpectDirty(t, url);

  // The operator undoes the partial change, then hands the migration back to sync.
  await query(url, 'DROP TABLE probe_slow');
  const marked = await sync(url, ['--mark-pending', SLOW]);
  t.is(marked.code, 0, marked.stderr);
  t.regex(marked.stdout, new RegExp(`${SLOW} marked pending`));
  t.deepEqual(await ledger(url), ['0001_create_probe_table:applied×1']);

  const next = await sync(url, ['--json']);
  t.is(next.code, 0, next.stderr);
  t.deepEqual((JSON.parse(next.stdout) as { applied: string[] }).applied, [SLOW]);
  t.deepEqual(await ledger(url), ['0001_create_probe_table:applied×1', `${SLOW}:applied×1`]);
  t.true((await tableNames(url)).includes('probe_slow'));
});

onDialect('mysql', 'killed inside a slow migration, --mark-applied records it and the next sync has nothing to do', async (t, database) => {
  const url = await database();
  await crashAndExpectDirty(t, url);

  // The operator found the migration's DDL complete (probe_slow is there) and records it as applied.
  const marked = await sync(url, ['--mark-applied', SLOW]);
  t.is(marked.code, 0, marked.stderr);
  t.regex(marked.stdout, new RegExp(`${SLOW} marked applied`));
  t.deepEqual(await ledger(url), ['0001_create_probe_table:applied×1', `${SLOW}:applied×1`]);

  const next = await sync(url, ['--json']);
  t.is(next.code, 0, next.stderr);
  t.deepEqual((JSON.parse(next.stdout) as { applied: string[] }).applied, []);
  t.notRegex(next.stderr, /applying/);
});
