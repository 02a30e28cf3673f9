// `api_db sync --dry-run` and `db sync --dry-run` through the real CLI, on both dialects: the output
// holds the DDL of every pending migration, per migration, and the databases previewed are exactly
// as they were (tables, columns, indexes, keys, ledgers).
import test from 'ava';
import { runCli } from './helpers/cli.js';
import { describeResult, useCell, useCell0, useCloud } from './helpers/cells.js';
import { eachDialect, useDatabase } from './helpers/databases.js';
import { execSql, parseJson, snapshot } from './helpers/schema.js';

const quoted = (dialect: string, name: string) => (dialect === 'postgres' ? `"${name}"` : `\`${name}\``);

eachDialect(test, 'api_db sync --dry-run prints the DDL of the pending API migration and changes nothing', async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'preview_api');
  const before = await snapshot(url);
  const result = await runCli(['--api-db', url.raw, 'api_db', 'sync', '--dry-run']);
  t.is(result.code, 0, describeResult(result));
  const out = result.stdout;
  t.true(out.includes('-- 0001_initial_api_schema: runs'), out);
  for (const table of ['cell_mappings', 'host_mappings', 'instance_mappings', 'instance_groups', 'instance_group_policy', 'instance_group_member']) {
    t.true(out.includes(`CREATE TABLE IF NOT EXISTS ${quoted(dialect, table)}`), `CREATE TABLE ${table}`);
  }
  t.true(out.includes(`ADD CONSTRAINT ${quoted(dialect, 'fk_host_mappings_cell_id')} FOREIGN KEY`));
  // addIndex: CREATE INDEX on PostgreSQL, ALTER TABLE … ADD INDEX on MariaDB.
  t.true(out.includes(dialect === 'postgres' ? 'CREATE INDEX "project_id_idx" ON "instance_mappings"' : 'ALTER TABLE `instance_mappings` ADD INDEX `project_id_idx`'), out);
  t.false(out.includes('cellsdb_scratch_'), 'the scratch database is not what the preview shows');
  t.regex(out, /dry run: nothing was changed/);
  t.deepEqual(await snapshot(url), before, 'the database is unchanged');
  t.deepEqual(before.tables, []);

  // JSON: the same, per migration.
  const json = await runCli(['--api-db', url.raw, '--json', 'api_db', 'sync', '--dry-run']);
  t.is(json.code, 0, describeResult(json));
  const doc = parseJson<{ dry_run: boolean; from: string | null; to: string; migrations: Array<{ name: string; statements: string[] }> }>(t, json);
  t.like(doc, { dry_run: true, from: null, to: '0002_instance_group_unique_keys' });
  t.deepEqual(doc.migrations.map((m) => m.name), ['0001_initial_api_schema', '0002_instance_group_unique_keys']);
  t.true((doc.migrations[0]?.statements.length ?? 0) >= 17);
  // 0002 builds the mover's unique keys: CONCURRENTLY on PostgreSQL, in place on MariaDB.
  const keys = doc.migrations[1]?.statements.join('\n') ?? '';
  t.true(keys.includes(dialect === 'postgres' ? 'CREATE UNIQUE INDEX CONCURRENTLY "uniq_instance_group_member0group_id0instance_uuid"' : 'ADD CONSTRAINT `uniq_instance_group_member0group_id0instance_uuid` UNIQUE'), keys);
});

eachDialect(test, 'db sync --dry-run previews every mapped cell from its own version; VERSION stops it; nothing changes', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell0 = await useCell0(t, cloud, { sync: true });
  const cell1 = await useCell(t, cloud, 'cell1');
  await cloud.setup(['db', 'sync', '3', '--cell', 'cell1']);
  const before = await Promise.all([cloud.api, cell0.url, cell1.url].map((u) => snapshot(u)));

  const result = await cloud.cli(['db', 'sync', '--dry-run']);
  t.is(result.code, 0, describeResult(result));
  const out = result.stdout;
  t.regex(out, /-- cell 'cell0' \([^)]*\): at 0005_drop_legacy_instance_groups; nothing to apply/);
  t.regex(out, /-- cell 'cell1' \([^)]*\): 0003_services_last_seen_up → 0005_drop_legacy_instance_groups, 2 migrations/);
  t.true(out.includes('-- 0004_block_until_movers_done: runs'));
  t.true(out.includes('SELECT COUNT(*) AS n FROM instance_groups WHERE deleted = 0;'), 'the blocker’s query');
  for (const table of ['instance_group_member', 'instance_group_policy', 'instance_groups']) {
    t.true(out.includes(`DROP TABLE IF EXISTS ${quoted(dialect, table)};`), `DROP TABLE ${table}`);
  }
  t.false(out.includes('0003_services_last_seen_up: runs'), 'applied migrations are not previewed');
  t.false(out.includes('cellsdb_scratch_'));

  const upTo4 = await cloud.cli(['db', 'sync', '4', '--dry-run', '--cell', 'cell1']);
  t.is(upTo4.code, 0, describeResult(upTo4));
  t.true(upTo4.stdout.includes('0004_block_until_movers_done'));
  t.false(upTo4.stdout.includes('DROP TABLE'), 'nothing past VERSION');

  const after = await Promise.all([cloud.api, cell0.url, cell1.url].map((u) => snapshot(u)));
  t.deepEqual(after, before, 'no database changed');
});

eachDialect(test, '--dry-run refuses what sync would refuse (dirty ledger: exit 1) and bad combinations (127)', async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'preview_dirty');
  const synced = await runCli(['db', 'sync', '3', '--local-cell', '--db', url.raw]);
  t.is(synced.code, 0, describeResult(synced));
  await execSql(url, "UPDATE cellsdb_migrations_cell SET state = 'started' WHERE name = '0003_services_last_seen_up'");
  const before = await snapshot(url);
  const dirty = await runCli(['db', 'sync', '--dry-run', '--local-cell', '--db', url.raw]);
  t.is(dirty.code, 1, describeResult(dirty));
  t.regex(dirty.stderr, /0003_services_last_seen_up started on cell database .* never finished/);
  t.deepEqual(await snapshot(url), before);

  const both = await runCli(['db', 'sync', '--dry-run', '--mark-applied', '0003', '--local-cell', '--db', url.raw]);
  t.is(both.code, 127, describeResult(both));
  const unknown = await runCli(['db', 'sync', '99', '--dry-run', '--local-cell', '--db', url.raw]);
  t.is(unknown.code, 127, describeResult(unknown));
});
