// Library-level tests of URL parsing, masking and configuration resolution: no database needed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { ConfigFileError, DEFAULTS, ENV, GLOBAL_OPTIONS, readConfigFiles, requireApiDb, requireCellDb, resolveConfig } from '../src/config/index.js';
import { ExitCode, InvalidInputError } from '../src/errors.js';
import { type DatabaseUrl, maskUrl, parseDatabaseUrl, withDatabase } from '../src/url/index.js';

interface Ctx {
  /** A fresh folder for this test's config files, removed when the test ends. */
  dir: string;
}

const test = anyTest as TestFn<Ctx>;

test.beforeEach((t) => {
  t.context.dir = mkdtempSync(join(tmpdir(), 'cellsdb-url-config-'));
});

test.afterEach.always((t) => {
  rmSync(t.context.dir, { recursive: true, force: true });
});

function writeConf(t: { context: Ctx }, text: string, name = 'nova.conf'): string {
  const path = join(t.context.dir, name);
  writeFileSync(path, text);
  return path;
}

type Expected = Pick<DatabaseUrl, 'dialect' | 'host' | 'port' | 'database' | 'username' | 'password' | 'socketPath'>;

function parts(url: DatabaseUrl): Expected {
  const { dialect, host, port, database, username, password, socketPath } = url;
  return { dialect, host, port, database, username, password, socketPath };
}

// ---------------------------------------------------------------------------------------------
// parseDatabaseUrl: every spelling nova.conf uses

const SPELLINGS: ReadonlyArray<[string, string, Expected]> = [
  [
    'mysql+pymysql (the nova.conf default)',
    'mysql+pymysql://nova:NOVA_DBPASS@controller/nova',
    { dialect: 'mysql', host: 'controller', port: 3306, database: 'nova', username: 'nova', password: 'NOVA_DBPASS', socketPath: undefined },
  ],
  [
    'postgresql+psycopg2 with a port',
    'postgresql+psycopg2://nova:pw@db.example.org:6432/nova_api',
    { dialect: 'postgres', host: 'db.example.org', port: 6432, database: 'nova_api', username: 'nova', password: 'pw', socketPath: undefined },
  ],
  [
    'postgresql',
    'postgresql://nova:pw@10.0.0.5/nova_cell0',
    { dialect: 'postgres', host: '10.0.0.5', port: 5432, database: 'nova_cell0', username: 'nova', password: 'pw', socketPath: undefined },
  ],
  [
    'postgres (libpq short scheme), no credentials',
    'postgres://pg-host/nova',
    { dialect: 'postgres', host: 'pg-host', port: 5432, database: 'nova', username: undefined, password: undefined, socketPath: undefined },
  ],
  [
    'mysql with a port and user only',
    'mysql://nova@db1:3307/nova',
    { dialect: 'mysql', host: 'db1', port: 3307, database: 'nova', username: 'nova', password: undefined, socketPath: undefined },
  ],
  [
    'mariadb',
    'mariadb://nova:pw@maria/nova',
    { dialect: 'mysql', host: 'maria', port: 3306, database: 'nova', username: 'nova', password: 'pw', socketPath: undefined },
  ],
  [
    'scheme in capitals',
    'MySQL+PyMySQL://nova:pw@db/nova',
    { dialect: 'mysql', host: 'db', port: 3306, database: 'nova', username: 'nova', password: 'pw', socketPath: undefined },
  ],
  [
    '%-encoded password (@, /, :, % and space)',
    'mysql+pymysql://nova:p%40ss%2Fw%3Ard%25%20x@db/nova',
    { dialect: 'mysql', host: 'db', port: 3306, database: 'nova', username: 'nova', password: 'p@ss/w:rd% x', socketPath: undefined },
  ],
  [
    '?charset=utf8 (as nova.conf usually has)',
    'mysql+pymysql://nova:pw@db:3306/nova?charset=utf8',
    { dialect: 'mysql', host: 'db', port: 3306, database: 'nova', username: 'nova', password: 'pw', socketPath: undefined },
  ],
  [
    'unix_socket with localhost',
    'mysql+pymysql://nova:pw@localhost/nova?unix_socket=/var/run/mysqld/mysqld.sock&charset=utf8',
    { dialect: 'mysql', host: 'localhost', port: 3306, database: 'nova', username: 'nova', password: 'pw', socketPath: '/var/run/mysqld/mysqld.sock' },
  ],
  [
    'unix_socket with no host (SQLAlchemy spelling)',
    'mysql+pymysql://nova:pw@/nova?unix_socket=/var/run/mysqld/mysqld.sock',
    {
      dialect: 'mysql',
      host: '/var/run/mysqld/mysqld.sock',
      port: 3306,
      database: 'nova',
      username: 'nova',
      password: 'pw',
      socketPath: '/var/run/mysqld/mysqld.sock',
    },
  ],
  [
    'PostgreSQL socket directory in ?host=',
    'postgresql://nova:pw@/nova?host=/var/run/postgresql',
    { dialect: 'postgres', host: '/var/run/postgresql', port: 5432, database: 'nova', username: 'nova', password: 'pw', socketPath: '/var/run/postgresql' },
  ],
  [
    // SQLAlchemy reads a '%' that starts no %XX as itself (urllib's unquote), and a '#' as part of
    // the password: both were refused before issue 16.
    "'%' not followed by two hex digits, and '#', unencoded in the password",
    'mysql+pymysql://nova:s3cr3t%zz#1@db/nova',
    { dialect: 'mysql', host: 'db', port: 3306, database: 'nova', username: 'nova', password: 's3cr3t%zz#1', socketPath: undefined },
  ],
  [
    'IPv6 host in brackets',
    'mariadb://nova:pw@[::1]:3307/nova',
    { dialect: 'mysql', host: '::1', port: 3307, database: 'nova', username: 'nova', password: 'pw', socketPath: undefined },
  ],
];

for (const [title, raw, expected] of SPELLINGS) {
  test(`parseDatabaseUrl: ${title}`, (t) => {
    const url = parseDatabaseUrl(raw);
    t.deepEqual(parts(url), expected);
    t.is(url.raw, raw);
    t.true(Object.isFrozen(url));
    if (expected.password !== undefined) {
      t.is(url.masked, raw.replace(/:[^:@/]+@/, ':****@'), 'the masked form is the URL with the password replaced');
      t.false(url.masked.includes(expected.password));
    } else {
      t.is(url.masked, raw);
    }
  });
}

test('parseDatabaseUrl: surrounding white space (from an INI value) is dropped', (t) => {
  const url = parseDatabaseUrl('  postgresql://nova:pw@db/nova \n');
  t.is(url.host, 'db');
  t.is(url.database, 'nova');
  t.is(url.raw, 'postgresql://nova:pw@db/nova');
});

const INVALID: ReadonlyArray<[string, string, RegExp]> = [
  ['no scheme', 'nova:s3cr3t-pw@db/nova', /malformed database URL/],
  ['scheme without //', 'mysql+pymysql//nova:s3cr3t-pw@db/nova', /malformed database URL/],
  ['unknown scheme', 'oracle://nova:s3cr3t-pw@db/nova', /unsupported database URL scheme 'oracle'/],
  ['sqlite (not a server)', 'sqlite:///nova.sqlite', /unsupported database URL scheme 'sqlite'/],
  ['no database', 'mysql://nova:s3cr3t-pw@db/', /names no database/],
  ['no path at all', 'postgresql://nova:s3cr3t-pw@db', /names no database/],
  ['database with a slash', 'postgresql://nova:s3cr3t-pw@db/a/b', /invalid database name/],
  ['port out of range', 'mysql://nova:s3cr3t-pw@db:99999/nova', /malformed database URL|invalid port/],
  ['port not a number', 'mysql://nova:s3cr3t-pw@db:abc/nova', /malformed database URL|invalid port/],
  ['empty string', '', /malformed database URL/],
];

for (const [title, raw, message] of INVALID) {
  test(`parseDatabaseUrl refuses ${title}: InvalidInputError (127), password not in the message`, (t) => {
    const error = t.throws(() => parseDatabaseUrl(raw), { instanceOf: InvalidInputError, message });
    t.is(error?.exitCode, ExitCode.invalidInput);
    t.false(error?.message.includes('s3cr3t'), `message leaks the password: ${error?.message}`);
  });
}

test('withDatabase keeps server, credentials and query, and swaps only the database', (t) => {
  const api = parseDatabaseUrl('mysql+pymysql://nova:p%40ss@db:3307/nova_api?charset=utf8');
  const cell0 = withDatabase(api, 'nova_cell0');
  t.deepEqual(parts(cell0), { ...parts(api), database: 'nova_cell0' });
  t.is(cell0.raw, 'mysql+pymysql://nova:p%40ss@db:3307/nova_cell0?charset=utf8');
  t.is(cell0.masked, 'mysql+pymysql://nova:****@db:3307/nova_cell0?charset=utf8');
});

test('withDatabase works on a socket URL without a host', (t) => {
  const api = parseDatabaseUrl('mysql+pymysql://nova:pw@/nova_api?unix_socket=/run/mysqld/mysqld.sock');
  const cell0 = withDatabase(api, 'nova_cell0');
  t.is(cell0.database, 'nova_cell0');
  t.is(cell0.socketPath, '/run/mysqld/mysqld.sock');
  t.is(cell0.password, 'pw');
  t.is(cell0.raw, 'mysql+pymysql://nova:pw@/nova_cell0?unix_socket=/run/mysqld/mysqld.sock');
});

// ---------------------------------------------------------------------------------------------
// maskUrl

const MASKS: ReadonlyArray<[string, string, string]> = [
  ['user:pass', 'mysql+pymysql://nova:NOVA_DBPASS@controller/nova', 'mysql+pymysql://nova:****@controller/nova'],
  ['user only stays untouched', 'postgresql://nova@db:5432/nova', 'postgresql://nova@db:5432/nova'],
  ['no user-info stays untouched', 'postgresql://db/nova?sslmode=require', 'postgresql://db/nova?sslmode=require'],
  ['URL-encoded password', 'mysql://nova:p%40ss%2Fword@db/nova', 'mysql://nova:****@db/nova'],
  ['empty user, password given', 'mysql://:pw@db/nova', 'mysql://:****@db/nova'],
  ['password with a colon', 'mysql://nova:a:b:c@db/nova', 'mysql://nova:****@db/nova'],
  [
    'secrets in the query string, other parameters kept',
    'postgresql://nova@db/nova?sslmode=require&password=hunter2&api_key=k3y&token=t0k&charset=utf8',
    'postgresql://nova@db/nova?sslmode=require&password=****&api_key=****&token=****&charset=utf8',
  ],
  ['multi-host transport URL: both hosts kept, both passwords masked', 'rabbit://u:p@h1,u2:p2@h2/', 'rabbit://u:****@h1,u2:****@h2/'],
  [
    'multi-host with ports and a vhost',
    'rabbit://nova:pw1@mq1:5672,nova:pw2@mq2:5672,nova:pw3@mq3:5672/nova',
    'rabbit://nova:****@mq1:5672,nova:****@mq2:5672,nova:****@mq3:5672/nova',
  ],
  ['unencoded @ in the password', 'mysql+pymysql://nova:p@ss@db/nova', 'mysql+pymysql://nova:****@db/nova'],
  ['unencoded / in the password', 'mysql+pymysql://nova:pa/ss@db/nova', 'mysql+pymysql://nova:****@db/nova'],
  ['unencoded ? in the password', 'mysql+pymysql://nova:pa?ss@db/nova', 'mysql+pymysql://nova:****@db/nova'],
  ['unencoded # in the password', 'mysql+pymysql://nova:pa#ss@db/nova', 'mysql+pymysql://nova:****@db/nova'],
  ['unencoded @ and / together', 'mysql://nova:a@b/c@db/nova', 'mysql://nova:****@db/nova'],
  // Issue 14: what cannot be read as a URL is masked conservatively, never returned as it is.
  ['not a URL is masked after its first colon', 'just some text: no scheme', 'just some text:****'],
];

for (const [title, input, expected] of MASKS) {
  test(`maskUrl: ${title}`, (t) => {
    t.is(maskUrl(input), expected);
  });
}

test('maskUrl: a multi-host URL with unencoded @ and / in a password leaks neither password', (t) => {
  const masked = maskUrl('rabbit://u:p/x@h1,u2:p@2@h2/vhost');
  t.false(masked.includes('p/x'));
  t.false(masked.includes('p@2'));
  t.true(masked.startsWith('rabbit://u:****@h1,'));
  t.true(masked.endsWith('@h2/vhost'));
});

test('maskUrl is idempotent', (t) => {
  const once = maskUrl('rabbit://u:p@h1,u2:p2@h2/?password=x');
  t.is(maskUrl(once), once);
});

// ---------------------------------------------------------------------------------------------
// resolveConfig: precedence flag > environment > config file

const FILE_API = 'mysql+pymysql://nova:filepw@file-api-host/nova_api?charset=utf8';
const FILE_DB = 'mysql+pymysql://nova:filepw@file-cell-host/nova';
const NOVA_CONF = `[DEFAULT]
debug = true

[api_database]
connection = ${FILE_API}

[database]
# the cell database
connection = ${FILE_DB}
max_pool_size = 10
`;

test('config: a nova.conf-style file gives both URLs, recorded as from the config file', (t) => {
  const configFile = writeConf(t, NOVA_CONF);
  const config = resolveConfig({ flags: { 'config-file': configFile }, env: {} });
  t.is(config.apiDb?.host, 'file-api-host');
  t.is(config.apiDb?.database, 'nova_api');
  t.is(config.apiDb?.password, 'filepw');
  t.is(config.db?.host, 'file-cell-host');
  t.is(config.db?.database, 'nova');
  t.deepEqual(config.sources, { apiDb: 'config file', db: 'config file' });
});

test('config: the environment beats the config file, setting by setting', (t) => {
  const configFile = writeConf(t, NOVA_CONF);
  const config = resolveConfig({ flags: { 'config-file': configFile }, env: { [ENV.apiDb]: 'postgresql://env@env-api/nova_api' } });
  t.is(config.apiDb?.host, 'env-api');
  t.is(config.apiDb?.dialect, 'postgres');
  t.is(config.db?.host, 'file-cell-host', 'the cell URL still comes from the file');
  t.deepEqual(config.sources, { apiDb: 'environment', db: 'config file' });
});

test('config: a flag beats the environment and the config file', (t) => {
  const configFile = writeConf(t, NOVA_CONF);
  const config = resolveConfig({
    flags: { 'config-file': configFile, 'api-db': 'mariadb://flag@flag-api/nova_api', db: 'postgresql://flag@flag-cell/nova' },
    env: { [ENV.apiDb]: 'postgresql://env@env-api/nova_api', [ENV.db]: 'postgresql://env@env-cell/nova' },
  });
  t.is(config.apiDb?.host, 'flag-api');
  t.is(config.db?.host, 'flag-cell');
  t.deepEqual(config.sources, { apiDb: 'flag', db: 'flag' });
});

test('config: the environment alone, and an empty flag does not hide it', (t) => {
  const config = resolveConfig({
    flags: { 'api-db': '  ' },
    env: { [ENV.apiDb]: 'postgresql://env@env-api/nova_api', [ENV.db]: 'mysql://env@env-cell/nova' },
  });
  t.is(config.apiDb?.host, 'env-api');
  t.is(config.db?.host, 'env-cell');
  t.deepEqual(config.sources, { apiDb: 'environment', db: 'environment' });
});

test('config: nothing configured leaves both URLs unset and no sources', (t) => {
  const config = resolveConfig({ env: {} });
  t.is(config.apiDb, undefined);
  t.is(config.db, undefined);
  t.deepEqual(config.sources, {});
});

test('config: a file with only [database] sets only the cell URL', (t) => {
  const configFile = writeConf(t, `[database]\nconnection = ${FILE_DB}\n`);
  const config = resolveConfig({ flags: { 'config-file': configFile }, env: {} });
  t.is(config.apiDb, undefined);
  t.is(config.db?.host, 'file-cell-host');
  t.deepEqual(config.sources, { db: 'config file' });
});

test('config: the resolved configuration is frozen', (t) => {
  const config = resolveConfig({ env: {} });
  t.true(Object.isFrozen(config));
  t.true(Object.isFrozen(config.sources));
});

test('config: a bad URL in the file is invalid input, with the password masked', (t) => {
  const configFile = writeConf(t, '[api_database]\nconnection = oracle://nova:s3cr3t-pw@db/nova\n');
  const error = t.throws(() => resolveConfig({ flags: { 'config-file': configFile }, env: {} }), { instanceOf: InvalidInputError, message: /unsupported database URL scheme/ });
  t.false(error?.message.includes('s3cr3t-pw'));
});

test('config: a bad URL in the environment is invalid input', (t) => {
  t.throws(() => resolveConfig({ env: { [ENV.db]: 'not a url' } }), { instanceOf: InvalidInputError, message: /malformed database URL/ });
});

test('config: a missing config file is invalid input naming the file and ENOENT', (t) => {
  const configFile = join(t.context.dir, 'missing.conf');
  const error = t.throws(() => resolveConfig({ flags: { 'config-file': configFile }, env: {} }), { instanceOf: InvalidInputError });
  t.is(error?.exitCode, ExitCode.invalidInput);
  t.true(error?.message.includes(configFile));
  t.regex(error?.message ?? '', /ENOENT/);
});

test('config: a config file that is a directory is invalid input (EISDIR)', (t) => {
  const error = t.throws(() => resolveConfig({ flags: { 'config-file': t.context.dir }, env: {} }), { instanceOf: InvalidInputError });
  t.regex(error?.message ?? '', /EISDIR/);
});

test('config: requireApiDb / requireCellDb name every way to configure the database', (t) => {
  const config = resolveConfig({ env: {} });
  const api = t.throws(() => requireApiDb(config), { instanceOf: InvalidInputError });
  for (const way of ['--api-db', ENV.apiDb, '--config-file', '[api_database] connection', '--embedded']) {
    t.true(api?.message.includes(way), `API message names ${way}: ${api?.message}`);
  }
  const cell = t.throws(() => requireCellDb(config), { instanceOf: InvalidInputError });
  for (const way of ['--db', ENV.db, '--config-file', '[database] connection', '--embedded']) {
    t.true(cell?.message.includes(way), `cell message names ${way}: ${cell?.message}`);
  }
  const configured = resolveConfig({ env: { [ENV.apiDb]: 'postgresql://a@h/api', [ENV.db]: 'postgresql://a@h/cell' } });
  t.is(requireApiDb(configured).database, 'api');
  t.is(requireCellDb(configured).database, 'cell');
});

// ---------------------------------------------------------------------------------------------
// resolveConfig: timeouts

test('config: timeout defaults', (t) => {
  const config = resolveConfig({ env: {} });
  t.is(config.migrationLockWaitMs, 60_000);
  t.is(config.ddlLockTimeoutMs, 10_000);
  t.is(config.statementTimeoutMs, 600_000);
  t.is(config.connectTimeoutMs, 10_000);
});

test('config: timeouts are given in seconds and kept in milliseconds', (t) => {
  const config = resolveConfig({
    env: {},
    flags: { 'lock-timeout': 1.5, 'ddl-lock-timeout': 2, 'statement-timeout': 30, 'connect-timeout': 0.25 },
  });
  t.is(config.migrationLockWaitMs, 1500);
  t.is(config.ddlLockTimeoutMs, 2000);
  t.is(config.statementTimeoutMs, 30_000);
  t.is(config.connectTimeoutMs, 250);
});

test('config: zero is allowed where it means "no wait" or "no limit", refused elsewhere', (t) => {
  const config = resolveConfig({ env: {}, flags: { 'lock-timeout': 0, 'statement-timeout': 0 } });
  t.is(config.migrationLockWaitMs, 0);
  t.is(config.statementTimeoutMs, 0);
  t.throws(() => resolveConfig({ env: {}, flags: { 'ddl-lock-timeout': 0 } }), { instanceOf: InvalidInputError, message: /--ddl-lock-timeout must be a positive/ });
  t.throws(() => resolveConfig({ env: {}, flags: { 'connect-timeout': 0 } }), { instanceOf: InvalidInputError, message: /--connect-timeout must be a positive/ });
});

const BAD_TIMEOUTS: ReadonlyArray<[string, number]> = [
  ['negative', -1],
  ['NaN (a non-numeric flag)', Number.NaN],
  ['infinite', Number.POSITIVE_INFINITY],
];

for (const [title, value] of BAD_TIMEOUTS) {
  for (const flag of ['lock-timeout', 'ddl-lock-timeout', 'statement-timeout', 'connect-timeout'] as const) {
    test(`config: ${title} --${flag} is invalid input naming the flag`, (t) => {
      const error = t.throws(() => resolveConfig({ env: {}, flags: { [flag]: value } }), { instanceOf: InvalidInputError });
      t.true(error?.message.startsWith(`--${flag} must be`), error?.message);
      t.is(error?.exitCode, ExitCode.invalidInput);
    });
  }
}

test('config: a bad timeout is refused even when every URL is fine (validated before connecting)', (t) => {
  const configFile = writeConf(t, NOVA_CONF);
  t.throws(() => resolveConfig({ flags: { 'config-file': configFile, 'lock-timeout': -5 }, env: {} }), { instanceOf: InvalidInputError, message: /--lock-timeout/ });
});

// ---------------------------------------------------------------------------------------------
// resolveConfig: every global option from the environment, precedence, validation

test('config: every global option has CELLSDB_ + its flag in upper snake case among its variables', (t) => {
  for (const option of GLOBAL_OPTIONS) t.true(option.env.includes(`CELLSDB_${option.flag.toUpperCase().replace(/-/g, '_')}`), option.flag);
  t.deepEqual(GLOBAL_OPTIONS.find((o) => o.flag === 'connect-timeout')?.env, ['CELLSDB_CONNECT_TIMEOUT']);
});

test('config: the defaults, applied in one place', (t) => {
  const config = resolveConfig();
  t.is(config.concurrency, DEFAULTS.concurrency);
  t.deepEqual(config.serviceGroup, { driver: 'database', redisUrl: undefined, serviceDownTime: 60, reportInterval: 10 });
  t.deepEqual(config.migrationDirs, { api: undefined, cell: undefined });
  t.is(config.embedded, false);
  t.is(config.json, false);
  t.is(config.debug, false);
  t.deepEqual(config.configFiles, []);
  t.is(config.embeddedServer.port, 54329);
  t.is(config.embeddedServer.dataDir, join(config.home, 'embedded'));
  t.is(config.failpoint, undefined);
  t.true(Object.isFrozen(config.serviceGroup) && Object.isFrozen(config.embeddedServer) && Object.isFrozen(config.migrationDirs));
});

test('config: every global option can be set from the environment', (t) => {
  const configFile = writeConf(t, NOVA_CONF);
  const config = resolveConfig({
    env: {
      CELLSDB_API_DB: 'postgresql://env@env-api/nova_api',
      CELLSDB_DB: 'mysql://env@env-cell/nova',
      CELLSDB_CONFIG_FILE: configFile,
      CELLSDB_JSON: 'true',
      CELLSDB_DEBUG: '1',
      CELLSDB_LOCK_TIMEOUT: '7',
      CELLSDB_DDL_LOCK_TIMEOUT: '8',
      CELLSDB_STATEMENT_TIMEOUT: '9',
      CELLSDB_CONNECT_TIMEOUT: '2.5',
      CELLSDB_CONCURRENCY: '12',
      CELLSDB_SERVICEGROUP_DRIVER: 'redis',
      CELLSDB_REDIS_URL: 'redis://r:6379',
      CELLSDB_SERVICE_DOWN_TIME: '90',
      CELLSDB_REPORT_INTERVAL: '15',
      CELLSDB_API_MIGRATIONS_DIR: '/tmp/api',
      CELLSDB_CELL_MIGRATIONS_DIR: '/tmp/cell',
      CELLSDB_HOME: '/var/lib/cellsdb',
      CELLSDB_EMBEDDED_PORT: '5999',
      CELLSDB_FAILPOINT: 'runner:batch-done:3',
    },
  });
  t.is(config.apiDb?.host, 'env-api');
  t.is(config.db?.host, 'env-cell');
  t.deepEqual(config.sources, { apiDb: 'environment', db: 'environment' });
  t.deepEqual(config.configFiles, [configFile]);
  t.true(config.json);
  t.true(config.debug);
  t.is(config.migrationLockWaitMs, 7000);
  t.is(config.ddlLockTimeoutMs, 8000);
  t.is(config.statementTimeoutMs, 9000);
  t.is(config.connectTimeoutMs, 2500);
  t.is(config.concurrency, 12);
  t.deepEqual(config.serviceGroup, { driver: 'redis', redisUrl: 'redis://r:6379', serviceDownTime: 90, reportInterval: 15 });
  t.deepEqual(config.migrationDirs, { api: '/tmp/api', cell: '/tmp/cell' });
  t.is(config.home, '/var/lib/cellsdb');
  t.deepEqual(config.embeddedServer, { dataDir: '/var/lib/cellsdb/embedded', port: 5999 });
  t.is(config.failpoint, 'runner:batch-done:3');
});

test('config: CELLSDB_EMBEDDED_DIR overrides the home folder for the embedded server', (t) => {
  const config = resolveConfig({ env: { CELLSDB_HOME: '/srv/home', CELLSDB_EMBEDDED_DIR: '/srv/pg' } });
  t.is(config.embeddedServer.dataDir, '/srv/pg');
});

test('config: a flag beats the environment for every kind of option', (t) => {
  const config = resolveConfig({
    flags: { 'connect-timeout': 4, concurrency: 2, json: false, 'servicegroup-driver': 'database', 'cell-migrations-dir': '/flag' },
    env: { CELLSDB_CONNECT_TIMEOUT: '1', CELLSDB_CONCURRENCY: '9', CELLSDB_JSON: 'yes', CELLSDB_SERVICEGROUP_DRIVER: 'redis', CELLSDB_CELL_MIGRATIONS_DIR: '/env' },
  });
  t.is(config.connectTimeoutMs, 4000);
  t.is(config.concurrency, 2);
  t.false(config.json);
  t.is(config.serviceGroup.driver, 'database');
  t.is(config.migrationDirs.cell, '/flag');
});

test('config: the documented and the mechanical variable name both work, and must agree', (t) => {
  t.is(resolveConfig({ env: { CELLSDB_API_DATABASE_URL: 'postgresql://a@h/api' } }).apiDb?.database, 'api');
  t.is(resolveConfig({ env: { CELLSDB_API_DB: 'postgresql://a@h/api' } }).apiDb?.database, 'api');
  t.is(resolveConfig({ env: { CELLSDB_DATABASE_URL: 'postgresql://a@h/c', CELLSDB_DB: ' postgresql://a@h/c ' } }).db?.database, 'c');
  const error = t.throws(() => resolveConfig({ env: { CELLSDB_DATABASE_URL: 'postgresql://a:pw1@h/c', CELLSDB_DB: 'postgresql://a@h/other' } }), { instanceOf: InvalidInputError });
  t.regex(error?.message ?? '', /CELLSDB_DATABASE_URL and CELLSDB_DB are both set, to different values/);
  t.false(error?.message.includes('pw1'));
});

const BAD_ENVIRONMENT: ReadonlyArray<[string, string, RegExp]> = [
  ['CELLSDB_CONNECT_TIMEOUT', 'soon', /^CELLSDB_CONNECT_TIMEOUT must be a positive number of seconds, got 'soon'$/],
  ['CELLSDB_LOCK_TIMEOUT', '-1', /^CELLSDB_LOCK_TIMEOUT must be a non-negative number of seconds/],
  ['CELLSDB_CONCURRENCY', '1.5', /^CELLSDB_CONCURRENCY must be a positive whole number, got '1\.5'$/],
  ['CELLSDB_JSON', 'maybe', /^CELLSDB_JSON must be true or false, got 'maybe'$/],
  ['CELLSDB_SERVICEGROUP_DRIVER', 'zookeeper', /^unknown CELLSDB_SERVICEGROUP_DRIVER 'zookeeper': use database or redis$/],
  ['CELLSDB_SERVICE_DOWN_TIME', '0', /^CELLSDB_SERVICE_DOWN_TIME must be a positive number of seconds/],
  ['CELLSDB_EMBEDDED_PORT', '70000', /^CELLSDB_EMBEDDED_PORT must be a port number/],
  ['CELLSDB_API_DATABASE_URL', 'not a url', /^malformed database URL .* \(CELLSDB_API_DATABASE_URL\)$/],
];

for (const [name, value, message] of BAD_ENVIRONMENT) {
  test(`config: a bad ${name} is invalid input naming the variable`, (t) => {
    const error = t.throws(() => resolveConfig({ env: { [name]: value } }), { instanceOf: InvalidInputError });
    t.regex(error?.message ?? '', message);
    t.is(error?.exitCode, ExitCode.invalidInput);
  });
}

test('config: a bad URL names its flag or its config file key', (t) => {
  t.regex(t.throws(() => resolveConfig({ flags: { db: 'nope' } }))?.message ?? '', /^malformed database URL .* \(--db\)$/);
  const configFile = writeConf(t, '[database]\nconnection = nope\n');
  t.regex(t.throws(() => resolveConfig({ flags: { 'config-file': configFile } }))?.message ?? '', /^malformed database URL .* \(\[database\] connection\)$/);
});

test('config: --embedded excludes URL flags also when the environment asks for it', (t) => {
  const error = t.throws(() => resolveConfig({ flags: { db: 'postgresql://a@h/c' }, env: { CELLSDB_EMBEDDED: '1' } }), { instanceOf: InvalidInputError });
  t.regex(error?.message ?? '', /CELLSDB_EMBEDDED and --db are mutually exclusive/);
  t.true(resolveConfig({ flags: { embedded: true }, env: { [ENV.db]: 'postgresql://a@h/c' } }).embedded);
});

test('config: repeated config files, the later one winning key by key', (t) => {
  const first = writeConf(t, NOVA_CONF, 'first.conf');
  const second = writeConf(t, '[database]\nconnection = postgresql://second@second-cell/nova\n', 'second.conf');
  const config = resolveConfig({ flags: { 'config-file': [first, second] } });
  t.is(config.db?.host, 'second-cell');
  t.is(config.apiDb?.host, 'file-api-host');
  t.deepEqual(config.configFiles, [first, second]);
});

test('config files: read through one small interface, by section and key', (t) => {
  const values = readConfigFiles([writeConf(t, `${NOVA_CONF}\n[oslo.messaging]\nurl = rabbit://x\n`)]);
  t.is(values.get('api_database', 'connection'), FILE_API);
  t.is(values.get('DEFAULT', 'debug'), 'true');
  t.is(values.get('oslo.messaging', 'url'), 'rabbit://x');
  t.is(values.get('database', 'missing'), undefined);
  t.is(values.get('nowhere', 'connection'), undefined);
});

// The files are read by the oslo.config-compatible reader (src/config/oslo-ini.ts, its own tests in
// test/oslo-ini.test.ts); these pin what resolveConfig makes of it.
test('config: the file is read as oslo.config reads nova.conf (section case, ":" separator, $name substitution)', (t) => {
  const configFile = writeConf(t, '[DEFAULT]\ndb_host = subst-host\n\n[API_Database]\nconnection: mysql+pymysql://nova:pw@$db_host/nova_api\n');
  const config = resolveConfig({ flags: { 'config-file': configFile }, env: {} });
  t.is(config.apiDb?.host, 'subst-host');
  t.deepEqual(config.sources, { apiDb: 'config file' });
});

test('config: an empty value in the file leaves the setting unset', (t) => {
  const configFile = writeConf(t, '[api_database]\nconnection =\n\n[database]\nconnection = \n');
  const config = resolveConfig({ flags: { 'config-file': configFile }, env: {} });
  t.is(config.apiDb, undefined);
  t.is(config.db, undefined);
  t.deepEqual(config.sources, {});
});

test('config: a malformed file is invalid input naming the file and the line, never the value', (t) => {
  const configFile = writeConf(t, '[database]\nconnection = mysql://nova:s3cr3t-pw@db/nova\n  s3cr3t-continued\nno separator s3cr3t\n');
  const error = t.throws(() => resolveConfig({ flags: { 'config-file': configFile }, env: {} }), { instanceOf: ConfigFileError });
  t.is(error?.exitCode, ExitCode.invalidInput);
  t.true(error?.message.startsWith(`${configFile}:4: `), error?.message);
  t.false(error?.message.includes('s3cr3t'), error?.message);
});
