// The foreign-database guard (issue 15): a database that holds tables but no cellsdb ledger was not
// built by cellsdb. Every writer refuses it before writing anything (not even the ledger table), and
// the readers say plainly that it has no ledger instead of "complete" or "run sync".
import test, { type ExecutionContext } from 'ava';
import type { DatabaseUrl, Dialect } from '../src/url/index.js';
import { runCli } from './helpers/cli.js';
import { eachDialect, useDatabase } from './helpers/databases.js';
import { execSql } from './helpers/schema.js';
import { tableNames } from './helpers/sql.js';

/** A database holding two tables of someone else's (one with a row), and no ledger. */
async function foreignDatabase(t: ExecutionContext, dialect: Dialect): Promise<DatabaseUrl> {
  const url = await useDatabase(t, dialect, 'foreign');
  await execSql(url, 'CREATE TABLE cell_mappings (id INTEGER PRIMARY KEY, uuid VARCHAR(36) NOT NULL)', 'CREATE TABLE other_software (id INTEGER PRIMARY KEY)', "INSERT INTO cell_mappings (id, uuid) VALUES (1, 'x')");
  return url;
}

const errorLine = (stderr: string): string => stderr.split('\n').find((l) => l.startsWith('cellsdb: error: ')) ?? '';

eachDialect(test, 'api_db sync refuses a database with foreign tables: exit 1, names it, the count and baseline; writes nothing', async (t, dialect) => {
  const url = await foreignDatabase(t, dialect);
  const r = await runCli(['--api-db', url.raw, 'api_db', 'sync']);
  t.is(r.code, 1, r.stderr);
  const line = errorLine(r.stderr);
  t.true(line.includes(url.masked), line);
  t.regex(line, /holds 2 tables \(cell_mappings, other_software\) but no cellsdb API ledger \(cellsdb_migrations_api\)/);
  t.regex(line, /'cellsdb api_db baseline VERSION'/);
  t.regex(line, /Nothing was written/);
  t.notRegex(r.stderr, /applying/);
  t.deepEqual(await tableNames(url), ['cell_mappings', 'other_software'], 'not even the ledger table was created');
});

eachDialect(test, 'db sync --local-cell and --mark-applied refuse the same way, and write nothing', async (t, dialect) => {
  const url = await foreignDatabase(t, dialect);
  const sync = await runCli(['--db', url.raw, 'db', 'sync', '--local-cell']);
  t.is(sync.code, 1, sync.stderr);
  t.regex(errorLine(sync.stderr), /holds 2 tables .* but no cellsdb cell ledger \(cellsdb_migrations_cell\).*'cellsdb db baseline VERSION --local-cell'/);
  const mark = await runCli(['--db', url.raw, 'db', 'sync', '--local-cell', '--mark-applied', '0001']);
  t.is(mark.code, 1, mark.stderr);
  t.regex(errorLine(mark.stderr), /does not adopt a database/);
  t.deepEqual(await tableNames(url), ['cell_mappings', 'other_software']);
});

eachDialect(test, 'an empty database is not foreign: sync builds it', async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'empty');
  const r = await runCli(['--api-db', url.raw, 'api_db', 'sync']);
  t.is(r.code, 0, r.stderr);
});

eachDialect(test, 'schema check and upgrade check say the database has no cellsdb ledger (not "run sync")', async (t, dialect) => {
  const url = await foreignDatabase(t, dialect);
  const check = await runCli(['--json', 'schema', 'check', '--against-db', url.raw]);
  t.is(check.code, 2, check.stderr);
  t.regex(check.stdout, /no cellsdb cell ledger/);
  t.notRegex(check.stdout, /run 'cellsdb db sync'/);
  // Nova's own API database has a full cell_mappings table: here, only someone else's table.
  const other = await useDatabase(t, dialect, 'foreign');
  await execSql(other, 'CREATE TABLE other_software (id INTEGER PRIMARY KEY)');
  const upgrade = await runCli(['--json', '--api-db', other.raw, 'upgrade', 'check']);
  t.not(upgrade.code, 0, upgrade.stdout);
  t.regex(upgrade.stdout + upgrade.stderr, /no cellsdb API ledger: cellsdb did not build it/);
  t.deepEqual(await tableNames(url), ['cell_mappings', 'other_software']);
});

eachDialect(test, 'online_data_migrations refuses a mapped cell without a cellsdb ledger (exit 2), instead of "complete"', async (t, dialect) => {
  const api = await useDatabase(t, dialect, 'api');
  const synced = await runCli(['--api-db', api.raw, 'api_db', 'sync']);
  t.is(synced.code, 0, synced.stderr);
  const cell = await foreignDatabase(t, dialect);
  const created = await runCli(['--api-db', api.raw, 'cell_v2', 'create_cell', '--name', 'nova1', '--transport-url', 'rabbit://mq/', '--database_connection', cell.raw]);
  t.is(created.code, 0, created.stderr);
  const r = await runCli(['--api-db', api.raw, 'db', 'online_data_migrations']);
  t.is(r.code, 2, r.stdout + r.stderr);
  t.regex(errorLine(r.stderr), /cell 'nova1' \(.*\) holds 2 tables .* no cellsdb cell ledger .*The online data migrations were not run.*'cellsdb db baseline VERSION --cell nova1'/);
  t.notRegex(r.stdout, /complete/i);
  t.deepEqual(await tableNames(cell), ['cell_mappings', 'other_software']);
});
