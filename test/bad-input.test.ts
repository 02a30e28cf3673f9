// Bad input through the real CLI, as an operator meets it: the exit code (127 invalid input, 1 a
// database that cannot be used), one line on stderr, no stack trace unless --debug, never the
// password, and a database left exactly as it was.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { TableInfo } from '../src/db/dialect.js';
import { dialectFor } from '../src/db/dialects.js';
import { ConnectionRegistry } from '../src/db/registry.js';
import { Ledger, type LedgerRow } from '../src/migrate/ledger.js';
import { LINES, listMigrationFiles } from '../src/migrate/lines.js';
import type { DatabaseUrl, Dialect } from '../src/url/index.js';
import { type CliResult, runCli } from './helpers/cli.js';
import { adminUrl, eachDialect, useDatabase } from './helpers/databases.js';

/** The newest cell migration: messages name it as the head. */
const CELL_HEAD = listMigrationFiles(LINES.cell).at(-1)?.name ?? '';

/** The password every test puts in its URLs: it must never be printed. */
const SECRET = 's3cr3t-pw';

const SCHEME: Readonly<Record<Dialect, string>> = { postgres: 'postgresql+psycopg2', mysql: 'mysql+pymysql' };

/** A URL in nova.conf spelling with SECRET as the password, to any database on the dialect's test server. */
function urlWithSecret(dialect: Dialect, user: string, database: string, port?: number): string {
  const admin = adminUrl(dialect) as DatabaseUrl;
  return `${SCHEME[dialect]}://${user}:${SECRET}@${admin.host}:${port ?? admin.port}/${database}`;
}

/**
 * A login on the dialect's test server whose password is SECRET, so that the password really travels
 * through the CLI's connection and error paths (whatever the server's authentication method). Create
 * it before the test's databases: teardowns run in reverse order, so it is dropped after them.
 */
async function useSecretLogin(t: ExecutionContext, dialect: Dialect): Promise<string> {
  const admin = adminUrl(dialect) as DatabaseUrl;
  const adapter = dialectFor(dialect);
  const user = `cellsdb_u_${randomBytes(4).toString('hex')}`;
  const session = await adapter.openSession(admin, { connectTimeoutMs: 60_000, applicationName: 'cellsdb tests' });
  try {
    if (dialect === 'postgres') {
      await session.query(`CREATE ROLE ${user} LOGIN SUPERUSER PASSWORD '${SECRET}'`);
    } else {
      await session.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${SECRET}'`);
      await session.query(`GRANT ALL PRIVILEGES ON *.* TO '${user}'@'%'`);
    }
  } finally {
    await session.close();
  }
  t.teardown(async () => {
    const s = await adapter.openSession(admin, { connectTimeoutMs: 60_000, applicationName: 'cellsdb tests' });
    try {
      await s.query(dialect === 'postgres' ? `DROP ROLE IF EXISTS ${user}` : `DROP USER IF EXISTS '${user}'@'%'`);
    } finally {
      await s.close();
    }
  });
  return user;
}

/** A fresh database and a login with SECRET as its password: the URL to give the CLI, and the parsed one for the test. */
async function useSecretDatabase(t: ExecutionContext, dialect: Dialect): Promise<{ url: DatabaseUrl; cliUrl: string }> {
  const user = await useSecretLogin(t, dialect);
  const url = await useDatabase(t, dialect, 'bad');
  return { url, cliUrl: urlWithSecret(dialect, user, url.database) };
}

interface Snapshot {
  readonly tables: readonly TableInfo[];
  readonly ledgers: Readonly<Record<string, readonly LedgerRow[]>>;
}

/** Every table, column, index and key of the database, and both ledgers' rows (timestamps included). */
async function snapshot(url: DatabaseUrl): Promise<Snapshot> {
  const registry = new ConnectionRegistry({ max: 1, connectTimeoutMs: 60_000 });
  try {
    const handle = await registry.connect(url);
    const tables = await handle.dialect.describeSchema(handle.sequelize);
    const ledgers: Record<string, readonly LedgerRow[]> = {};
    for (const line of Object.values(LINES)) ledgers[line.id] = await new Ledger(handle.sequelize, line.ledgerTable).rows();
    return { tables, ledgers };
  } finally {
    await registry.close();
  }
}

const EMPTY: Snapshot = { tables: [], ledgers: { api: [], cell: [] } };

async function databaseExists(dialect: Dialect, name: string): Promise<boolean> {
  const admin = adminUrl(dialect) as DatabaseUrl;
  const adapter = dialectFor(dialect);
  const session = await adapter.openSession(admin, { connectTimeoutMs: 60_000, applicationName: 'cellsdb tests' });
  try {
    const rows =
      dialect === 'postgres'
        ? await session.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
        : await session.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
    return rows.length > 0;
  } finally {
    await session.close();
  }
}

const STACK_LINE = /^\s{4}at /m;

/**
 * The shape of every refusal: the exit code, exactly one line on stderr that is the error and matches
 * `message`, nothing that looks like a stack frame, and never the password.
 */
function assertRefused(t: ExecutionContext, result: CliResult, code: number, message: RegExp): string {
  const detail = `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  t.is(result.code, code, detail);
  const lines = result.stderr.split('\n');
  t.is(lines.at(-1), '', 'stderr ends with a newline');
  t.is(lines.length, 2, `exactly one line on stderr:\n${result.stderr}`);
  const line = lines[0] ?? '';
  t.true(line.startsWith('cellsdb: error: '), line);
  t.regex(line, message);
  t.notRegex(result.stderr, STACK_LINE, 'no stack trace without --debug');
  t.notRegex(result.stdout, STACK_LINE);
  assertNoSecret(t, result);
  return line;
}

function assertNoSecret(t: ExecutionContext, result: CliResult): void {
  t.false(result.stdout.includes(SECRET), `password on stdout: ${result.stdout}`);
  t.false(result.stderr.includes(SECRET), `password on stderr: ${result.stderr}`);
}

// ---------------------------------------------------------------------------------------------
// Invalid input (127): refused before anything connects

// Issue 14: a value that failed to parse is never echoed, not even masked: only its scheme is named.
test('malformed URL (scheme without ://): 127, the value is not echoed', async (t) => {
  const result = await runCli(['api_db', 'sync', '--api-db', `mysql+pymysql//nova:${SECRET}@db.example/nova`]);
  const line = assertRefused(t, result, 127, /malformed database URL '\*\*\*\*'/);
  t.false(line.includes('db.example'), line);
});

test('malformed URL (no scheme at all): 127, no password', async (t) => {
  const result = await runCli(['api_db', 'version', '--api-db', `nova:${SECRET}@db.example/nova`]);
  assertRefused(t, result, 127, /malformed database URL/);
});

// Issue 16: SQLAlchemy reads an unencoded '#' as part of the password (this test asserted 127
// before): the URL is valid, and the server it names cannot be reached.
test('unencoded # in the password is part of it: the URL is accepted, the unreachable server named, no part of the password', async (t) => {
  const result = await runCli(['db', 'sync', '--local-cell', '--db', `mysql://nova:${SECRET}#x@127.0.0.1:1/nova`, '--connect-timeout', '5']);
  const line = assertRefused(t, result, 1, /cannot reach the database server/);
  t.true(line.includes('mysql://nova:****@127.0.0.1:1/nova'), line);
  t.false(line.includes('#x'), line);
});

test('unknown URL scheme: 127, names the scheme and the ones that work', async (t) => {
  const result = await runCli(['api_db', 'sync', '--api-db', `oracle://nova:${SECRET}@db.example/nova`]);
  const line = assertRefused(t, result, 127, /unsupported database URL scheme 'oracle'/);
  t.regex(line, /postgresql:\/\//);
  t.regex(line, /in oracle:\/\/\*\*\*\*:/);
  t.false(line.includes('db.example'), line);
});

test('--embedded with --db: 127, conflicting flags, and no embedded server is started', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'cellsdb-bad-embedded-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const embeddedDir = join(home, 'embedded');
  const result = await runCli(['db', 'sync', '--embedded', '--db', `postgresql://nova:${SECRET}@127.0.0.1:1/nova`], {
    env: { CELLSDB_EMBEDDED_DIR: embeddedDir, CELLSDB_EMBEDDED_PORT: '1' },
  });
  assertRefused(t, result, 127, /embedded.*db.*mutually exclusive|mutually exclusive.*embedded/);
  t.false(existsSync(embeddedDir), 'the embedded server was not initialised');
});

test('--embedded with --config-file: 127, conflicting flags', async (t) => {
  const embeddedDir = join(tmpdir(), `cellsdb-never-${randomBytes(4).toString('hex')}`);
  t.teardown(() => rmSync(embeddedDir, { recursive: true, force: true }));
  const result = await runCli(['api_db', 'version', '--embedded', '--config-file', '/etc/nova/nova.conf'], {
    env: { CELLSDB_EMBEDDED_DIR: embeddedDir, CELLSDB_EMBEDDED_PORT: '1' },
  });
  assertRefused(t, result, 127, /mutually exclusive/);
  t.false(existsSync(embeddedDir), 'the embedded server was not initialised');
});

test('missing config file: 127, names the file', async (t) => {
  const path = join(tmpdir(), `cellsdb-missing-${randomBytes(4).toString('hex')}`, 'nova.conf');
  const result = await runCli(['api_db', 'sync', '--config-file', path]);
  const line = assertRefused(t, result, 127, /cannot read config file/);
  t.true(line.includes(path), line);
  t.regex(line, /ENOENT/);
});

test('config file that is a directory: 127, says so', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cellsdb-conf-dir-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const result = await runCli(['db', 'sync', '--config-file', dir]);
  const line = assertRefused(t, result, 127, /cannot read config file/);
  t.true(line.includes(dir), line);
  t.regex(line, /EISDIR/);
});

test('unknown option: 127, names it', async (t) => {
  const result = await runCli(['api_db', 'sync', '--api-db', `postgresql://nova:${SECRET}@127.0.0.1:1/nova`, '--frobnicate']);
  assertRefused(t, result, 127, /Unknown argument: frobnicate/);
});

test('unknown command: 127', async (t) => {
  const result = await runCli(['api_db', 'upgrade']);
  assertRefused(t, result, 127, /unknown or missing command: run cellsdb --help/);
});

test('no API database configured: 127, names --api-db, the environment variable, --config-file and --embedded', async (t) => {
  const result = await runCli(['api_db', 'sync']);
  const line = assertRefused(t, result, 127, /no API database configured/);
  for (const way of ['--api-db', 'CELLSDB_API_DATABASE_URL', '--config-file', '[api_database] connection', '--embedded']) {
    t.true(line.includes(way), `names ${way}: ${line}`);
  }
});

test('no cell database configured: 127, names --db, the environment variable, --config-file and --embedded', async (t) => {
  // With --local-cell an API URL does not stand in for the cell database.
  const result = await runCli(['db', 'version', '--local-cell'], { env: { CELLSDB_API_DATABASE_URL: `postgresql://nova:${SECRET}@127.0.0.1:1/nova_api` } });
  const line = assertRefused(t, result, 127, /no cell database configured/);
  for (const way of ['--db', 'CELLSDB_DATABASE_URL', '--config-file', '[database] connection', '--embedded']) {
    t.true(line.includes(way), `names ${way}: ${line}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Invalid input (127) with a real database at hand: it must be left as it was

eachDialect(test, '--mark-applied with --mark-pending: 127, conflicting flags, database unchanged', async (t, dialect) => {
  const { url, cliUrl } = await useSecretDatabase(t, dialect);
  const result = await runCli(['db', 'sync', '--local-cell', '--db', cliUrl, '--mark-applied', '0001', '--mark-pending', '0001']);
  assertRefused(t, result, 127, /mark-applied.*mark-pending.*mutually exclusive/);
  t.deepEqual(await snapshot(url), EMPTY);
});

eachDialect(test, '--mark-pending with VERSION: 127, database unchanged', async (t, dialect) => {
  const { url, cliUrl } = await useSecretDatabase(t, dialect);
  const result = await runCli(['db', 'sync', '0002', '--local-cell', '--db', cliUrl, '--mark-pending', '0001']);
  assertRefused(t, result, 127, /--mark-pending cannot be combined with VERSION/);
  t.deepEqual(await snapshot(url), EMPTY);
});

eachDialect(test, 'non-numeric --lock-timeout: 127, names the flag, database unchanged', async (t, dialect) => {
  const { url, cliUrl } = await useSecretDatabase(t, dialect);
  const result = await runCli(['api_db', 'sync', '--api-db', cliUrl, '--lock-timeout', 'soon']);
  assertRefused(t, result, 127, /--lock-timeout must be a non-negative number of seconds/);
  t.deepEqual(await snapshot(url), EMPTY);
});

eachDialect(test, 'negative --lock-timeout: 127, names the flag and the value, database unchanged', async (t, dialect) => {
  const { url, cliUrl } = await useSecretDatabase(t, dialect);
  const result = await runCli(['api_db', 'sync', '--api-db', cliUrl, '--lock-timeout', '-5']);
  const line = assertRefused(t, result, 127, /--lock-timeout must be a non-negative number of seconds/);
  t.true(line.includes("'-5'"), line);
  t.deepEqual(await snapshot(url), EMPTY);
});

eachDialect(test, 'unknown VERSION: 127, names it and the known versions, database unchanged', async (t, dialect) => {
  const { url, cliUrl } = await useSecretDatabase(t, dialect);
  const result = await runCli(['db', 'sync', '0099', '--local-cell', '--db', cliUrl]);
  const line = assertRefused(t, result, 127, /unknown cell version '0099'/);
  t.true(line.includes(`known versions are 0001_initial_cell_schema … ${CELL_HEAD}`), line);
  t.deepEqual(await snapshot(url), EMPTY);
});

eachDialect(test, 'VERSION behind the current one: 127, no downgrade, schema and ledger unchanged', async (t, dialect) => {
  const { url, cliUrl } = await useSecretDatabase(t, dialect);
  const synced = await runCli(['db', 'sync', '--local-cell', '--db', cliUrl]);
  t.is(synced.code, 0, synced.stderr);
  assertNoSecret(t, synced);
  const before = await snapshot(url);
  t.is(before.ledgers.cell?.length, listMigrationFiles(LINES.cell).length);
  t.true(before.tables.length > 1);

  const result = await runCli(['db', 'sync', '1', '--local-cell', '--db', cliUrl]);
  const line = assertRefused(t, result, 127, /cannot go back to cell version 0001_\w+/);
  t.true(line.includes(`is at ${CELL_HEAD}`), line);
  t.regex(line, /does not downgrade/);
  t.deepEqual(await snapshot(url), before);
});

// ---------------------------------------------------------------------------------------------
// Databases that cannot be used (exit 1)

eachDialect(test, 'unreachable port: 1, says it cannot reach the server, masked URL', async (t, dialect) => {
  const result = await runCli(['api_db', 'sync', '--api-db', urlWithSecret(dialect, 'nova', 'nova_api', 1), '--connect-timeout', '5']);
  const line = assertRefused(t, result, 1, /cannot reach the database server/);
  t.regex(line, /nova:\*\*\*\*@[^ ]+:1\/nova_api/);
});

// PostgreSQL here uses trust authentication, so a wrong password is accepted: MariaDB only.
(adminUrl('mysql') ? test : test.skip)('mariadb: wrong password for root: 1, authentication failed, database unchanged', async (t) => {
  const url = await useDatabase(t, 'mysql', 'bad');
  const result = await runCli(['api_db', 'sync', '--api-db', urlWithSecret('mysql', 'root', url.database)]);
  const line = assertRefused(t, result, 1, /authentication failed: check the user name and password/);
  t.true(line.includes(`root:****@`), line);
  t.deepEqual(await snapshot(url), EMPTY);
});

eachDialect(test, 'unknown database: 1, says it does not exist, and does not create it', async (t, dialect) => {
  const user = await useSecretLogin(t, dialect);
  const name = `cellsdb_missing_${randomBytes(4).toString('hex')}`;
  const result = await runCli(['db', 'sync', '--local-cell', '--db', urlWithSecret(dialect, user, name)]);
  const line = assertRefused(t, result, 1, /the database does not exist/);
  t.true(line.includes(name), line);
  t.false(await databaseExists(dialect, name), 'the database was not created');
});

/** Holds the API line's migration lock for `url` as the migrator names it, on our own session. */
async function holdApiLock(t: ExecutionContext, dialect: Dialect, url: DatabaseUrl): Promise<{ holderId: string; stillHeld: () => Promise<boolean> }> {
  const adapter = dialectFor(dialect);
  const session = await adapter.openSession(url, { connectTimeoutMs: 60_000, applicationName: 'cellsdb-test-lock-holder' });
  const lock = `cellsdb:${url.database}:api`;
  t.teardown(async () => {
    await adapter.unlock(session, lock).catch(() => undefined);
    await session.close();
  });
  t.true(await adapter.tryLock(session, lock), 'the test holds the lock');
  const [row] = await session.query<{ id: number | string }>(
    dialect === 'postgres' ? 'SELECT pg_backend_pid() AS id' : 'SELECT CONNECTION_ID() AS id',
  );
  return { holderId: String(row?.id), stillHeld: () => adapter.holdsLock(session, lock) };
}

eachDialect(test, 'lock wait exceeded: 1, names --lock-timeout and who holds the lock, nothing created', async (t, dialect) => {
  const { url, cliUrl } = await useSecretDatabase(t, dialect);
  const { holderId, stillHeld } = await holdApiLock(t, dialect, url);

  const started = Date.now();
  const result = await runCli(['api_db', 'sync', '--api-db', cliUrl, '--lock-timeout', '1']);
  t.true(Date.now() - started >= 1000, 'it waited the second it was given');
  t.is(result.code, 1, result.stderr);
  // While it waits it says so (a notice, as STYLE asks), then fails with one error line.
  const lines = result.stderr.trimEnd().split('\n');
  t.is(lines.length, 2, result.stderr);
  t.regex(lines[0] ?? '', /^API database: migration lock held by .+; waiting up to 1 s \(--lock-timeout\)$/);
  const error = lines[1] ?? '';
  t.regex(error, /^cellsdb: error: the API migration lock on API database \(.+\) is held by .+; gave up after 1 s \(--lock-timeout\)$/);
  if (dialect === 'postgres') t.true(error.includes(`'cellsdb-test-lock-holder' (server pid ${holderId}`), error);
  else t.true(error.includes(`connection ${holderId} of user 'root'`), error);
  t.notRegex(result.stderr, STACK_LINE);
  assertNoSecret(t, result);

  t.true(await stillHeld(), 'the lock is still ours');
  t.deepEqual(await snapshot(url), EMPTY);
});

eachDialect(test, 'lock held and --lock-timeout 0: 1 at once, exactly one line, nothing created', async (t, dialect) => {
  const { url, cliUrl } = await useSecretDatabase(t, dialect);
  const { holderId } = await holdApiLock(t, dialect, url);
  const result = await runCli(['api_db', 'sync', '--api-db', cliUrl, '--lock-timeout', '0']);
  const line = assertRefused(t, result, 1, /migration lock on API database .* is held by .*; gave up after 0 s \(--lock-timeout\)/);
  t.true(line.includes(holderId), line);
  t.deepEqual(await snapshot(url), EMPTY);
});

// ---------------------------------------------------------------------------------------------
// --debug

test('--debug prints the stack after the one-line error, still without the password', async (t) => {
  const result = await runCli(['api_db', 'sync', '--debug', '--api-db', `oracle://nova:${SECRET}@db.example/nova`]);
  t.is(result.code, 127);
  const lines = result.stderr.split('\n');
  t.regex(lines[0] ?? '', /^cellsdb: error: unsupported database URL scheme 'oracle'/);
  t.regex(result.stderr, STACK_LINE, 'a stack trace with --debug');
  t.regex(lines[1] ?? '', /^InvalidInputError: /);
  assertNoSecret(t, result);
});

eachDialect(test, '--debug on a driver error prints the cause chain, masked', async (t, dialect) => {
  const result = await runCli(['db', 'sync', '--local-cell', '--debug', '--db', urlWithSecret(dialect, 'nova', 'nova', 1), '--connect-timeout', '5']);
  t.is(result.code, 1);
  t.regex(result.stderr.split('\n')[0] ?? '', /^cellsdb: error: cannot reach the database server/);
  t.regex(result.stderr, STACK_LINE);
  t.regex(result.stderr, /caused by: /, 'the driver error is shown as the cause');
  assertNoSecret(t, result);
});
