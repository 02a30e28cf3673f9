import { query, tableNames, waitForStderr } from './helpers/sql.js';
import { lineLockName } from '../src/migrate/lock.js';
// The line lock as an operator meets it: a bounded wait (`--lock-timeout`) that names who holds the
// lock, and a waiting runner that goes ahead as soon as the holder lets go.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SessionConnection } from '../src/db/dialect.js';
import { dialectFor } from '../src/db/dialects.js';
import { LINES, listMigrationFiles } from '../src/migrate/lines.js';
import type { DatabaseUrl } from '../src/url/index.js';
import { type CliResult, runCli, spawnCli } from './helpers/cli.js';
import { eachDialect, useDatabase } from './helpers/databases.js';

const FIXTURE_LINE = fileURLToPath(new URL('./fixtures/slow-api/', import.meta.url));
const HOLDER_APP = 'cellsdb-test-lock-holder';

/**
 * The API line's lock name, as the migrator builds it. Spelled out here on purpose: it is what two
 * cellsdb versions must agree on to exclude each other, so a change to it should fail a test.
 */
const apiLockName = (url: DatabaseUrl): string => lineLockName(url.database, 'api');

async function openSession(url: DatabaseUrl, applicationName = 'cellsdb tests'): Promise<SessionConnection> {
  return dialectFor(url.dialect).openSession(url, { connectTimeoutMs: 60_000, applicationName });
}



async function ledgerNames(url: DatabaseUrl): Promise<string[]> {
  const rows = await query<{ name: string }>(url, `SELECT name FROM cellsdb_migrations_api WHERE state = 'applied' ORDER BY name`);
  return rows.map((r) => r.name);
}

/** Ends every other server session on the test database (a killed runner's sleeping query). */
async function endOtherSessions(url: DatabaseUrl): Promise<void> {
  if (url.dialect === 'postgres') {
    await query(url, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    return;
  }
  const session = await openSession(url);
  try {
    const rows = await session.query<{ id: number | string }>(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()',
    );
    for (const { id } of rows) await session.query(`KILL ${Number(id)}`).catch(() => undefined);
  } finally {
    await session.close();
  }
}

/** How the server identifies a session, in the words the lock-holder message should use. */
async function identify(session: SessionConnection, url: DatabaseUrl): Promise<string[]> {
  if (url.dialect === 'postgres') {
    const [row] = await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return [`'${HOLDER_APP}'`, `server pid ${row?.pid}`];
  }
  const [row] = await session.query<{ id: number | string; host: string }>(
    'SELECT ID AS id, HOST AS host FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()',
  );
  return [`connection ${row?.id}`, `from ${row?.host}`];
}

/** A session holding the API line's lock, as another runner would. */
async function holdApiLock(t: { teardown(fn: () => Promise<void>): void }, url: DatabaseUrl): Promise<{ session: SessionConnection; release(): Promise<void>; names: string[] }> {
  const adapter = dialectFor(url.dialect);
  const session = await openSession(url, HOLDER_APP);
  t.teardown(() => session.close().catch(() => undefined));
  if (!(await adapter.tryLock(session, apiLockName(url)))) throw new Error('could not take the API line lock in a fresh database');
  return { session, names: await identify(session, url), release: () => adapter.unlock(session, apiLockName(url)) };
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

eachDialect(test, 'while another session holds the lock, --lock-timeout 1 gives up with exit 1 naming the holder', async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'lock_timeout');
  const holder = await holdApiLock(t, url);

  const started = Date.now();
  const result = await runCli(['--api-db', url.raw, '--lock-timeout', '1', 'api_db', 'sync']);
  const elapsed = Date.now() - started;

  t.is(result.code, 1, result.stderr);
  const error = result.stderr.split('\n').find((line) => line.startsWith('cellsdb: error: ')) ?? '';
  t.regex(error, /^cellsdb: error: the API migration lock on API database \(.*\) is held by .*; gave up after 1 s \(--lock-timeout\)$/);
  for (const name of holder.names) t.true(error.includes(name), `the error names the holder by ${name}: ${error}`);
  t.true(elapsed >= 1000, `it waited for the lock before giving up (${elapsed} ms)`);
  // Well short of the 60 s default: the flag was obeyed (process start-up on a busy machine included).
  t.true(elapsed < 45_000, `the wait was bounded (${elapsed} ms)`);
  // It gave up before touching anything, and the holder kept its lock.
  t.deepEqual(await tableNames(url), []);
  t.true(await dialectFor(dialect).holdsLock(holder.session, apiLockName(url)));
});

eachDialect(test, 'a runner stuck in a slow migration is named by its pid (PostgreSQL) or connection (MariaDB) to one that times out', async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'lock_runner');
  // Sleeps far longer than the test lasts: the first runner must still hold the lock however slowly
  // the second one starts. It is killed, and its server sessions ended, at the end of the test.
  const first = spawnCli(['--api-db', url.raw, '--api-migrations-dir', FIXTURE_LINE, 'api_db', 'sync'], {
    env: { CELLSDB_TEST_SLEEP_SECONDS: '120' },
  });
  t.teardown(async () => {
    first.kill('SIGKILL');
    await endOtherSessions(url);
  });
  await waitForStderr(first, /applying 0002_slow_migration/, 60_000);

  let expected: string;
  if (dialect === 'postgres') {
    // The first runner's lock session announces itself as "cellsdb api pid N on HOST".
    expected = `'cellsdb api pid ${first.pid} on `;
  } else {
    const [row] = await query<{ id: number | string | null }>(url, `SELECT IS_USED_LOCK('${apiLockName(url)}') AS id`);
    t.not(row?.id ?? null, null, 'the first runner holds the lock');
    expected = `connection ${row?.id} `;
  }
  const second = await runCli(['--api-db', url.raw, '--api-migrations-dir', FIXTURE_LINE, '--lock-timeout', '1', 'api_db', 'sync']);
  t.is(second.code, 1, second.stderr);
  const error = second.stderr.split('\n').find((line) => line.startsWith('cellsdb: error: ')) ?? '';
  t.true(error.includes(`is held by ${expected}`), `expected ${JSON.stringify(expected)} in: ${error}`);
  t.regex(error, /gave up after 1 s \(--lock-timeout\)$/);
  t.is(first.exitCode, null, 'the first runner is still at work, undisturbed');
});

eachDialect(test, 'a waiting runner says so, and proceeds as soon as the holder releases the lock', async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'lock_wait');
  const holder = await holdApiLock(t, url);

  const started = Date.now();
  const child = spawnCli(['--api-db', url.raw, '--lock-timeout', '30', 'api_db', 'sync']);
  t.teardown(() => void child.kill('SIGKILL'));
  await waitForStderr(child, /waiting up to 30 s \(--lock-timeout\)/, 60_000);
  await sleep(Math.max(0, 1500 - (Date.now() - started)));

  t.is(child.exitCode, null, 'still waiting while the lock is held');
  t.false((await tableNames(url)).includes('cellsdb_migrations_api'), 'nothing applied while the lock is held');
  await holder.release();
  const released = Date.now();
  const result: CliResult = await child.result;
  const afterRelease = Date.now() - released;

  t.is(result.code, 0, result.stderr);
  t.regex(result.stderr, /API database: migration lock held by .*; waiting up to 30 s \(--lock-timeout\)/);
  for (const name of holder.names) t.true(result.stderr.includes(name), `the waiting notice names the holder by ${name}: ${result.stderr}`);
  // The poll backs off to at most 1 s, so it goes ahead well before the 30 s timeout.
  t.true(afterRelease < 20_000, `finished ${afterRelease} ms after the release`);
  t.deepEqual(
    await ledgerNames(url),
    listMigrationFiles(LINES.api).map((f) => f.name),
  );
});

const LOST_LOCK_LINE = fileURLToPath(new URL('./fixtures/lost-lock/', import.meta.url));

eachDialect(test, 'a runner whose lock session drops during a migration stops before the next one, naming the lock', async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'lock_lost');
  // 0001 ends the runner's own lock session and returns once the server shows the lock free.
  const result = await runCli(['--api-db', url.raw, '--api-migrations-dir', LOST_LOCK_LINE, 'api_db', 'sync']);

  t.is(result.code, 1, result.stderr);
  const error = result.stderr.split('\n').find((line) => line.startsWith('cellsdb: error: ')) ?? '';
  t.regex(error, /^cellsdb: error: lost the API migration lock on API database \(.*\) before 0002_never_reached: the lock connection dropped; nothing more was run$/);
  // The migration that ran is recorded (with its row, on PostgreSQL in its transaction); the next never ran.
  t.deepEqual(await ledgerNames(url), ['0001_lose_the_line_lock']);
  t.false((await tableNames(url)).includes('never_reached'));
});
