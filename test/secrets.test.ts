// Passwords in cell mappings never leave the CLI: every command, with and without --json, on
// success and on failure (including a cell that cannot be reached, and --debug stack traces), prints
// URLs masked. Only `cell_v2 list_cells --verbose` shows them, because the operator asked.
//
// The database passwords are real (logins created for the test), so that they travel through the
// drivers' connection and error paths; one is URL-encoded in the URL. Transport URLs carry passwords
// too, one of them multi-host, one URL-encoded.
import { randomBytes, randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { dialectFor } from '../src/db/dialects.js';
import { type DatabaseUrl, type Dialect, parseDatabaseUrl } from '../src/url/index.js';
import { type CliResult, runCli } from './helpers/cli.js';
import { adminUrl, useDatabase } from './helpers/databases.js';
import { type Cloud, describeResult, eachDialectLimited, insertRows, mapHosts, mapInstances, useCloud } from './helpers/cells.js';

// Every secret holds 'Pw', which nothing else the CLI prints contains: a leak of any part of one is
// caught even where the explicit list below would miss a fragment.
const DB_PASSWORD = 'db-Pw-4711';
const DB_PASSWORD_SPECIAL = 'enc@Pw/42:x%y';
const DB_PASSWORD_SPECIAL_ENCODED = encodeURIComponent(DB_PASSWORD_SPECIAL);
const MULTI_HOST_TRANSPORT = 'rabbit://nova:mq-Pw-1111@mq1:5672,nova2:mq-Pw-2222@mq2:5672/';
const ENCODED_TRANSPORT = 'rabbit://nova:mq%40Pw%2F3333@mq3:5672/';
const NEW_MULTI_HOST_TRANSPORT = 'rabbit://nova:mq-Pw-new1@mq1:5672,nova2:mq-Pw-new2@mq2:5672/';
const BROKEN_DB_PASSWORD = 'broken-Pw-5555';
const BROKEN_TRANSPORT = 'rabbit://nova:mq-Pw-6666@mq6:5672/';

const SECRETS = [
  DB_PASSWORD,
  DB_PASSWORD_SPECIAL,
  DB_PASSWORD_SPECIAL_ENCODED,
  'Pw/42',
  'Pw%2F42',
  'mq-Pw-1111',
  'mq-Pw-2222',
  'mq%40Pw%2F3333',
  'mq@Pw/3333',
  'Pw/3333',
  'mq-Pw-new1',
  'mq-Pw-new2',
  BROKEN_DB_PASSWORD,
  'mq-Pw-6666',
  'mq-Pw-7777',
  'api-Pw-8888',
  'wrong-Pw-9999',
  'Pw',
];

const SCHEME: Readonly<Record<Dialect, string>> = { postgres: 'postgresql+psycopg2', mysql: 'mysql+pymysql' };

/** A login on the dialect's test server with `password`; dropped after the test's databases. */
async function useLogin(t: ExecutionContext, dialect: Dialect, password: string): Promise<string> {
  const admin = adminUrl(dialect) as DatabaseUrl;
  const adapter = dialectFor(dialect);
  const user = `cellsdb_u_${randomBytes(4).toString('hex')}`;
  const quoted = password.replace(/'/g, "''");
  const session = await adapter.openSession(admin, { connectTimeoutMs: 60_000, applicationName: 'cellsdb tests' });
  try {
    if (dialect === 'postgres') {
      await session.query(`CREATE ROLE ${user} LOGIN SUPERUSER PASSWORD '${quoted}'`);
    } else {
      await session.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${quoted}'`);
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

/** A new database, reached through `user` with `encodedPassword` in the URL (nova.conf spelling). */
async function useDatabaseAs(t: ExecutionContext, dialect: Dialect, prefix: string, user: string, encodedPassword: string): Promise<DatabaseUrl> {
  const admin = adminUrl(dialect) as DatabaseUrl;
  const db = await useDatabase(t, dialect, prefix);
  return parseDatabaseUrl(`${SCHEME[dialect]}://${user}:${encodedPassword}@${admin.host}:${admin.port}/${db.database}`);
}

/** Asserts that no secret (nor a fragment of one) is in the output. */
function assertNoSecrets(t: ExecutionContext, label: string, r: CliResult): void {
  const out = `${r.stdout}\n${r.stderr}`;
  const leaked = SECRETS.filter((s) => out.includes(s));
  t.deepEqual(leaked, [], `${label} printed a password:\n${describeResult(r)}`);
}

type Cli = (args: readonly string[]) => Promise<CliResult>;

/** The real CLI with `--api-db` set to `api`. */
const cliFor =
  (api: DatabaseUrl | string): Cli =>
  (args) =>
    runCli(['--api-db', typeof api === 'string' ? api : api.raw, ...args]);

/** Runs `args` through the real CLI once, asserting the exit code and that it printed no password. */
async function once(t: ExecutionContext, cli: Cli, args: readonly string[], code: number): Promise<CliResult> {
  const r = await cli(args);
  t.is(r.code, code, `${args.join(' ')}: ${describeResult(r)}`);
  assertNoSecrets(t, args.join(' '), r);
  return r;
}

/**
 * Runs `args` through the real CLI twice, without and with --json, asserting the exit code (when
 * given) and that neither run printed a password.
 */
async function bothWays(t: ExecutionContext, cli: Cli, args: readonly string[], code?: number): Promise<CliResult[]> {
  const results: CliResult[] = [];
  for (const json of [[], ['--json']]) {
    const r = await cli([...json, ...args]);
    const label = [...json, ...args].join(' ');
    if (code !== undefined) t.is(r.code, code, `${label}: ${describeResult(r)}`);
    assertNoSecrets(t, label, r);
    results.push(r);
  }
  return results;
}

/** A cloud whose API database and cell databases are reached with passwords. */
async function secretCloud(t: ExecutionContext, dialect: Dialect) {
  const plainUser = await useLogin(t, dialect, DB_PASSWORD);
  const specialUser = await useLogin(t, dialect, DB_PASSWORD_SPECIAL);
  const api = await useDatabaseAs(t, dialect, 'api', plainUser, DB_PASSWORD);
  const cell0 = await useDatabaseAs(t, dialect, 'cell0', plainUser, DB_PASSWORD);
  const cell1 = await useDatabaseAs(t, dialect, 'cell1', plainUser, DB_PASSWORD);
  const cell2 = await useDatabaseAs(t, dialect, 'cell2', specialUser, DB_PASSWORD_SPECIAL_ENCODED);
  return { api, cell0, cell1, cell2 };
}

eachDialectLimited(test, 'no command prints a password, with or without --json; only list_cells --verbose shows them', async (t, dialect) => {
  const { api, cell0, cell1, cell2 } = await secretCloud(t, dialect);
  // api_db sync is under test here too: the API database starts empty.
  const cli = cliFor(api);

  // The API line.
  const [apiSync, apiSyncJson] = await bothWays(t, cli, ['api_db', 'sync'], 0);
  t.true((apiSync?.stdout ?? '').includes(api.masked), 'the API database is named, masked');
  t.true((apiSyncJson?.stdout ?? '').includes(api.masked));
  await bothWays(t, cli, ['api_db', 'version'], 0);
  await bothWays(t, cli, ['api_db', 'status'], 0);

  // Mappings.
  await bothWays(t, cli, ['cell_v2', 'map_cell0', '--database_connection', cell0.raw], 0);
  const created1 = await once(t, cli, ['cell_v2', 'create_cell', '--name', 'cell1', '--transport-url', MULTI_HOST_TRANSPORT, '--database_connection', cell1.raw, '--verbose'], 0);
  const created2 = await once(t, cli, ['--json', 'cell_v2', 'create_cell', '--name', 'cell2', '--transport-url', ENCODED_TRANSPORT, '--database_connection', cell2.raw], 0);
  const cell1Uuid = created1.stdout.trim();
  const cell2Uuid = (JSON.parse(created2.stdout) as { uuid: string }).uuid;
  const [listed] = await bothWays(t, cli, ['cell_v2', 'list_cells'], 0);
  t.true((listed?.stdout ?? '').includes('rabbit://nova:****@mq1:5672,nova2:****@mq2:5672/'), listed?.stdout);

  // The cell line: a sync that applies something each way, then one with nothing to do.
  const firstSync = await once(t, cli, ['db', 'sync', '0001_initial_cell_schema'], 0);
  t.regex(firstSync.stderr, /applying 0001/);
  const restSync = await once(t, cli, ['--json', 'db', 'sync'], 0);
  t.regex(restSync.stderr, /applying 0002/);
  await bothWays(t, cli, ['db', 'sync'], 0);
  await bothWays(t, cli, ['db', 'version'], 0);
  await bothWays(t, cli, ['db', 'status'], 0);
  await bothWays(t, cli, ['--db', cell2.raw, 'db', 'version', '--local-cell'], 0);

  // Hosts and instances.
  await insertRows(cell1, 'compute_nodes', [{ id: 1, service_id: null, host: 'compute-1', hypervisor_hostname: 'n1', deleted: 0 }]);
  await insertRows(cell2, 'compute_nodes', [{ id: 1, service_id: null, host: 'compute-2', hypervisor_hostname: 'n2', deleted: 0 }]);
  const [discovered] = await bothWays(t, cli, ['cell_v2', 'discover_hosts', '--verbose'], 0);
  t.regex(discovered?.stdout ?? '', /compute-2/, 'discover_hosts did map the hosts of the cell reached with the encoded password');
  await bothWays(t, cli, ['cell_v2', 'list_hosts'], 0);
  const instance = randomUUID();
  await insertRows(cell2, 'instances', [{ id: 1, uuid: instance, deleted: 0 }]);
  await mapInstances({ api }, { name: 'cell2', uuid: cell2Uuid, url: cell2, transportUrl: ENCODED_TRANSPORT }, [instance]);
  await bothWays(t, cli, ['cell_v2', 'verify_instance', '--uuid', instance], 0);

  // An update, with a new password in the new transport URL.
  await bothWays(t, cli, ['cell_v2', 'update_cell', '--cell_uuid', cell1Uuid, '--transport-url', NEW_MULTI_HOST_TRANSPORT], 0);

  // The one place passwords are shown: as stored, in the table and in JSON.
  const stored = [NEW_MULTI_HOST_TRANSPORT, ENCODED_TRANSPORT, cell0.raw, cell1.raw, cell2.raw];
  t.true(cell2.raw.includes(DB_PASSWORD_SPECIAL_ENCODED) && cell1.raw.includes(DB_PASSWORD));
  for (const json of [[], ['--json']]) {
    const r = await cli([...json, 'cell_v2', 'list_cells', '--verbose']);
    t.is(r.code, 0, describeResult(r));
    for (const url of stored) t.true(r.stdout.includes(url), `${json.join('')} list_cells --verbose shows ${url}:\n${r.stdout}`);
  }
});

/** A cloud reached with passwords: cell0, cell1 and cell2 mapped and synced. */
async function syncedSecretCloud(t: ExecutionContext, dialect: Dialect) {
  const { api, cell0, cell1, cell2 } = await secretCloud(t, dialect);
  const cloud = await useCloud(t, dialect, api);
  await cloud.setup(['cell_v2', 'map_cell0', '--database_connection', cell0.raw]);
  const uuid1 = (await cloud.setup(['cell_v2', 'create_cell', '--name', 'cell1', '--transport-url', MULTI_HOST_TRANSPORT, '--database_connection', cell1.raw, '--verbose'])).stdout.trim();
  const uuid2 = (await cloud.setup(['cell_v2', 'create_cell', '--name', 'cell2', '--transport-url', ENCODED_TRANSPORT, '--database_connection', cell2.raw, '--verbose'])).stdout.trim();
  await cloud.setup(['db', 'sync']);
  return {
    api,
    cloud,
    cli: cliFor(api),
    cell1: { name: 'cell1', uuid: uuid1, url: cell1, transportUrl: MULTI_HOST_TRANSPORT },
    cell2: { name: 'cell2', uuid: uuid2, url: cell2, transportUrl: ENCODED_TRANSPORT },
  };
}

eachDialectLimited(test, 'no refusal prints a password, with or without --json', async (t, dialect) => {
  const { cloud, cli, cell1: c1, cell2: c2 } = await syncedSecretCloud(t, dialect);
  const [uuid1, uuid2] = [c1.uuid, c2.uuid];

  // Refusals by cell_v2.
  await bothWays(t, cli, ['cell_v2', 'create_cell', '--name', 'x', '--transport-url', MULTI_HOST_TRANSPORT, '--database_connection', `${SCHEME[dialect]}://u:${DB_PASSWORD}@h/x`], 2);
  await bothWays(t, cli, ['cell_v2', 'create_cell', '--name', 'x', '--transport-url', 'rabbit://u:mq-Pw-7777@h/', '--database_connection', `mysql+pymysql//nova:${DB_PASSWORD}@h/nova`], 127);
  await bothWays(t, cli, ['cell_v2', 'create_cell', '--name', 'x', '--transport-url', 'rabbit//nova:mq-Pw-7777@h/', '--database_connection', `${SCHEME[dialect]}://u:${DB_PASSWORD}@h/x`], 127);
  await bothWays(t, cli, ['cell_v2', 'update_cell', '--cell_uuid', uuid2, '--transport-url', MULTI_HOST_TRANSPORT], 3);
  await mapHosts(cloud, c1, ['compute-1']);
  await bothWays(t, cli, ['cell_v2', 'delete_cell', '--cell_uuid', uuid1], 2);
  const instance = randomUUID();
  await insertRows(c2.url, 'instances', [{ id: 1, uuid: instance, deleted: 0 }]);
  await mapInstances(cloud, c2, [instance]);
  await bothWays(t, cli, ['cell_v2', 'delete_cell', '--cell_uuid', uuid2, '--force'], 3);
  await bothWays(t, cli, ['cell_v2', 'discover_hosts', '--strict', '--cell_uuid', uuid2], 1);
});

eachDialectLimited(test, 'no failure prints a password, with or without --json (nor --debug): an unreachable cell, unusable API databases', async (t, dialect) => {
  const { api, cloud, cli, cell1 } = await syncedSecretCloud(t, dialect);

  // A cell that cannot be reached, with passwords in both of its URLs.
  const brokenDb = `${SCHEME[dialect]}://nova:${BROKEN_DB_PASSWORD}@127.0.0.1:1/nova`;
  const brokenUuid = (await cloud.setup(['cell_v2', 'create_cell', '--name', 'broken', '--transport-url', BROKEN_TRANSPORT, '--database_connection', brokenDb, '--verbose'])).stdout.trim();
  const [syncFailure] = await bothWays(t, cli, ['db', 'sync'], 1);
  t.true((syncFailure?.stderr ?? '').includes('nova:****@127.0.0.1:1'), syncFailure?.stderr);
  await bothWays(t, cli, ['--debug', 'db', 'version'], 1);
  await bothWays(t, cli, ['db', 'status'], 1);
  await bothWays(t, cli, ['cell_v2', 'discover_hosts', '--verbose'], 1);
  const lost = randomUUID();
  await mapInstances(cloud, { name: 'broken', uuid: brokenUuid, url: parseDatabaseUrl(brokenDb), transportUrl: BROKEN_TRANSPORT }, [lost]);
  await bothWays(t, cli, ['--debug', 'cell_v2', 'verify_instance', '--uuid', lost], 1);
  await bothWays(t, cli, ['--db', brokenDb, '--debug', 'db', 'sync', '--local-cell'], 1);

  // An API database that cannot be reached, one that does not exist, and a wrong password (which a
  // server trusting local connections may accept: then only the absence of the password is checked).
  const admin = adminUrl(dialect) as DatabaseUrl;
  const user = cell1.url.username as string;
  const unreachableApi = `${SCHEME[dialect]}://nova:api-Pw-8888@127.0.0.1:1/nova_api`;
  const missingApi = `${SCHEME[dialect]}://${user}:${DB_PASSWORD}@${admin.host}:${admin.port}/cellsdb_no_such_${randomBytes(4).toString('hex')}`;
  const wrongPassword = `${SCHEME[dialect]}://${user}:wrong-Pw-9999@${admin.host}:${admin.port}/${api.database}`;
  await bothWays(t, cliFor(unreachableApi), ['api_db', 'version'], 1);
  await bothWays(t, cliFor(missingApi), ['--debug', 'cell_v2', 'list_cells'], 1);
  await bothWays(t, cliFor(wrongPassword), ['--debug', 'api_db', 'status']);
});
