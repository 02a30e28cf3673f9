// Adopting databases cellsdb did not build (issue 15), on both dialects, through the real CLI: an
// API and a cell database built by plain DDL the way an older deployment has them (fixtures in
// test/fixtures/adopt/: other constraint and index names, extra tables and columns, real-looking
// data) are baselined, synced to the blocker, moved, synced to head, and checked clean.
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DatabaseUrl, Dialect } from '../src/url/index.js';
import { runCli } from './helpers/cli.js';
import { eachDialect, useDatabase } from './helpers/databases.js';
import { execSql, snapshot } from './helpers/schema.js';
import { query } from './helpers/sql.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/adopt/', import.meta.url));

/** The statements of a fixture file (comment lines dropped; one statement per `;` at a line end). */
function fixture(dialect: Dialect, which: 'api' | 'cell'): string[] {
  const text = readFileSync(`${FIXTURES}${dialect}-${which}.sql`, 'utf8')
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('--'))
    .join('\n');
  return text.split(/;\s*\n/).map((s) => s.trim()).filter((s) => s !== '');
}

async function oldDatabase(t: ExecutionContext, dialect: Dialect, which: 'api' | 'cell', statements = fixture(dialect, which)): Promise<DatabaseUrl> {
  const url = await useDatabase(t, dialect, `old_${which}`);
  await execSql(url, ...statements);
  return url;
}

const ledger = (url: DatabaseUrl, table: string) => query<{ name: string; checksum: string; state: string }>(url, `SELECT name, checksum, state FROM ${table} ORDER BY name`);
const errorLine = (stderr: string): string => stderr.split('\n').find((l) => l.startsWith('cellsdb: error: ')) ?? '';

eachDialect(test, 'baseline on a matching database: ledger exact with checksums, extras and other names listed; twice is idempotent; --dry-run records nothing', async (t, dialect) => {
  const api = await oldDatabase(t, dialect, 'api');
  const dry = await runCli(['--api-db', api.raw, 'api_db', 'baseline', '1', '--dry-run']);
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /would record 1 migration as applied, up to 0001_initial_api_schema/);
  t.regex(dry.stdout, /allowed: \+ build_requests: table/);
  t.regex(dry.stdout, /allowed: - instance_mappings\.project_id_idx: index .*: the database has it as instance_mappings_project_id_idx/);
  t.false((await snapshot(api)).tables.some((x) => x.name === 'cellsdb_migrations_api'), '--dry-run wrote nothing');

  const done = await runCli(['--json', '--api-db', api.raw, 'api_db', 'baseline', '0001']);
  t.is(done.code, 0, done.stderr);
  const rows = await ledger(api, 'cellsdb_migrations_api');
  const files = (await runCli(['--json', '--api-db', api.raw, 'api_db', 'status'])).stdout;
  t.deepEqual(rows.map((r) => [r.name, r.state]), [['0001_initial_api_schema', 'baselined']]);
  t.regex(rows[0]?.checksum ?? '', /^[0-9a-f]{64}$/);
  t.regex(files, /"current": ?"0001_initial_api_schema"/);

  const again = await runCli(['--api-db', api.raw, 'api_db', 'baseline', '1']);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /already baselined at 0001_initial_api_schema/);
  t.deepEqual(await ledger(api, 'cellsdb_migrations_api'), rows);

  // Adopted at 0001 (Nova's schema): schema check sees one pending migration, and api_db sync adds it.
  const behind = await runCli(['--json', 'schema', 'check', '--against-api', api.raw]);
  t.is(behind.code, 1, behind.stdout + behind.stderr);
  t.regex(behind.stdout, /1 API migration pending \(at 0001_initial_api_schema, head 0002_instance_group_unique_keys\)/);
  t.is((await runCli(['--api-db', api.raw, 'api_db', 'sync'])).code, 0);
  const check = await runCli(['--json', 'schema', 'check', '--against-api', api.raw]);
  t.is(check.code, 0, check.stdout + check.stderr);
});

eachDialect(test, 'baseline on a mismatching database: exit 2 with the diff; nothing written', async (t, dialect) => {
  // Without the index on instance_group_member.instance_uuid the database is not at 0001.
  const statements = fixture(dialect, 'api')
    .filter((s) => !s.startsWith('CREATE INDEX instance_group_member_instance_idx'))
    .map((s) => s.replace(/,\s*KEY instance_group_member_instance_idx \(instance_uuid\)/, ''));
  const api = await oldDatabase(t, dialect, 'api', statements);
  const before = await snapshot(api);
  const r = await runCli(['--api-db', api.raw, 'api_db', 'baseline', '1']);
  t.is(r.code, 2, r.stderr);
  const line = errorLine(r.stderr);
  t.regex(line, /does not match the API line at 0001_initial_api_schema: 1 difference/);
  t.regex(line, /instance_group_member\.instance_group_member_instance_idx: index \(instance_uuid\).* \(expected, missing from the database\)/);
  t.regex(line, /Nothing was recorded/);
  t.deepEqual(await snapshot(api), before);
  const bad = await runCli(['--api-db', api.raw, 'api_db', 'baseline', '99']);
  t.is(bad.code, 127, bad.stderr);
});

eachDialect(test, 'an old deployment adopted: baseline both, db sync stops at the blocker, movers, db sync to head, schema check clean, content kept', async (t, dialect) => {
  const api = await oldDatabase(t, dialect, 'api');
  const cell = await oldDatabase(t, dialect, 'cell');
  const cli = (args: string[]) => runCli(['--api-db', api.raw, ...args]);
  const step = async (what: string, args: string[], code = 0) => {
    const r = await cli(args);
    t.is(r.code, code, `${what}: ${r.stdout}\n${r.stderr}`);
    return r;
  };

  await step('api baseline', ['api_db', 'baseline', '1']);
  await step('create_cell', ['cell_v2', 'create_cell', '--name', 'cell1', '--transport-url', 'rabbit://nova:secret@mq1:5672/', '--database_connection', cell.raw]);
  // Nova's API schema stops at 0001: the movers refuse until 0002 has added the unique keys they copy on.
  const early = await step('movers before api_db sync', ['db', 'online_data_migrations'], 2);
  t.regex(early.stderr, /API database \(.*\) is behind the API line: 0002_instance_group_unique_keys not applied\. The online data migrations were not run/);
  await step('api sync', ['api_db', 'sync']);
  t.deepEqual((await ledger(api, 'cellsdb_migrations_api')).map((r) => [r.name, r.state]), [['0001_initial_api_schema', 'baselined'], ['0002_instance_group_unique_keys', 'applied']]);
  const refused = await step('db sync before adoption', ['db', 'sync', '--cell', 'cell1'], 1);
  t.regex(refused.stdout + refused.stderr, /holds 7 tables .* no cellsdb cell ledger/);
  await step('cell baseline', ['db', 'baseline', '1', '--cell', 'cell1']);
  t.deepEqual((await ledger(cell, 'cellsdb_migrations_cell')).map((r) => r.state), ['baselined']);

  const blocked = await step('db sync to the blocker', ['db', 'sync', '--cell', 'cell1'], 1);
  t.regex(blocked.stdout + blocked.stderr, /There are still 2 unmigrated instance groups and 2 compute nodes without a host/);
  // 0002 found the service foreign key by its shape (the fixture does not call it fk_compute_nodes_service_id).
  const fks = await query<{ n: number | string }>(
    cell,
    dialect === 'postgres'
      ? "SELECT COUNT(*) AS n FROM pg_constraint WHERE conrelid = 'compute_nodes'::regclass AND contype = 'f'"
      : "SELECT COUNT(*) AS n FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'compute_nodes'",
  );
  t.is(Number(fks[0]?.n), 0);

  const moved = await cli(['db', 'online_data_migrations']);
  t.true(moved.code === 0 || moved.code === 1, moved.stdout + moved.stderr);
  if (moved.code === 1) await step('movers again', ['db', 'online_data_migrations']);
  await step('db sync to head', ['db', 'sync', '--cell', 'cell1']);
  const check = await step('schema check', ['--json', 'schema', 'check', '--against-api', api.raw]);
  t.notRegex(check.stdout, /"status":"failed"/);

  // Content: groups in the API database with their policies and members, nodes with their host,
  // the other programs' tables and columns untouched.
  const groups = await query<{ uuid: string; name: string; policies: number | string }>(
    api,
    'SELECT g.uuid, g.name, (SELECT COUNT(*) FROM instance_group_policy p WHERE p.group_id = g.id) AS policies FROM instance_groups g ORDER BY g.uuid',
  );
  t.deepEqual(groups.map((g) => [g.uuid, g.name, Number(g.policies)]), [
    ['a0f1c7e2-0000-4000-8000-000000000001', 'api-anti-affinity', 1],
    ['d1000000-0000-4000-8000-000000000001', 'web-anti-affinity', 1],
    ['d1000000-0000-4000-8000-000000000002', 'db-affinity', 1],
  ]);
  const members = await query<{ instance_uuid: string }>(api, 'SELECT instance_uuid FROM instance_group_member ORDER BY instance_uuid');
  t.deepEqual(members.map((m) => m.instance_uuid), ['c1000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000002']);
  const nodes = await query<{ host: string; service_id: number | null; running_vms: number | null }>(cell, 'SELECT host, service_id, running_vms FROM compute_nodes ORDER BY id');
  t.deepEqual(nodes.map((n) => [n.host, n.service_id]), [['cmp-01.dc1', null], ['cmp-02.dc1', null]]);
  t.deepEqual((await query<{ n: number | string }>(cell, 'SELECT COUNT(*) AS n FROM shadow_instances')).map((r) => Number(r.n)), [0]);
  t.deepEqual((await query<{ n: number | string }>(api, 'SELECT COUNT(*) AS n FROM build_requests')).map((r) => Number(r.n)), [1]);
  t.deepEqual((await ledger(cell, 'cellsdb_migrations_cell')).map((r) => [r.name.slice(0, 4), r.state]), [['0001', 'baselined'], ['0002', 'applied'], ['0003', 'applied'], ['0004', 'applied'], ['0005', 'applied']]);
});
