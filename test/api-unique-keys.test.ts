// API migration 0002 (issue 15): the unique keys the instance-group mover copies on, added after
// Nova's schema (0001) so that a Nova API database can be baselined at 0001. On both dialects, through
// the real CLI: duplicates that Nova's schema allowed are removed (the oldest row stays), the keys
// are built (PostgreSQL: CONCURRENTLY, replacing an invalid index that a failed build left behind),
// and a ledger written by the earlier 0001 (which had the keys) is accepted.
import test from 'ava';
import { runCli } from './helpers/cli.js';
import { eachDialect, useDatabase } from './helpers/databases.js';
import { execSql } from './helpers/schema.js';
import { query } from './helpers/sql.js';

const GROUP = "INSERT INTO instance_groups (uuid, name) VALUES ('g1000000-0000-4000-8000-000000000001', 'web')";

eachDialect(test, '0002 removes repeated policies and members (oldest kept) and adds the unique keys; schema check clean', async (t, dialect) => {
  const api = await useDatabase(t, dialect, 'uniq_api');
  t.is((await runCli(['--api-db', api.raw, 'api_db', 'sync', '1'])).code, 0);
  await execSql(
    api,
    GROUP,
    "INSERT INTO instance_group_policy (group_id, policy) VALUES (1, 'anti-affinity'), (1, 'anti-affinity'), (1, NULL), (1, NULL)",
    "INSERT INTO instance_group_member (group_id, instance_uuid) VALUES (1, 'm1'), (1, 'm2'), (1, 'm1'), (1, 'm1')",
  );
  if (dialect === 'postgres') {
    // A build killed or failed half way leaves an INVALID index under the key's name.
    const failed = await execSql(api, 'CREATE UNIQUE INDEX CONCURRENTLY uniq_instance_group_member0group_id0instance_uuid ON instance_group_member (group_id, instance_uuid)').then(
      () => undefined,
      (e: unknown) => e,
    );
    t.truthy(failed, 'the duplicates make the build fail');
    const invalid = await query<{ valid: boolean }>(api, "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'uniq_instance_group_member0group_id0instance_uuid'::regclass");
    t.deepEqual(invalid.map((r) => r.valid), [false]);
  }
  const sync = await runCli(['--api-db', api.raw, 'api_db', 'sync']);
  t.is(sync.code, 0, sync.stdout + sync.stderr);
  const policies = await query<{ id: number; policy: string | null }>(api, 'SELECT id, policy FROM instance_group_policy ORDER BY id');
  t.deepEqual(policies.map((r) => [Number(r.id), r.policy]), [[1, 'anti-affinity'], [3, null], [4, null]], 'NULLs never repeat under a unique key: both stay');
  const members = await query<{ id: number; instance_uuid: string }>(api, 'SELECT id, instance_uuid FROM instance_group_member ORDER BY id');
  t.deepEqual(members.map((r) => [Number(r.id), r.instance_uuid]), [[1, 'm1'], [2, 'm2']]);
  const dup = await execSql(api, "INSERT INTO instance_group_member (group_id, instance_uuid) VALUES (1, 'm2')").then(
    () => undefined,
    (e: unknown) => e,
  );
  t.truthy(dup, 'the key refuses a repeated member');
  const check = await runCli(['schema', 'check', '--against-api', api.raw]);
  t.is(check.code, 0, check.stdout + check.stderr);
});

eachDialect(test, 'a ledger written by the earlier 0001 (with the keys) is accepted; any other checksum is still refused', async (t, dialect) => {
  const api = await useDatabase(t, dialect, 'uniq_old');
  t.is((await runCli(['--api-db', api.raw, 'api_db', 'sync'])).code, 0);
  const earlier = 'd3c081b6e88d52b8f567920eca06c113c521cf3dccf79c49238859e703313068';
  await execSql(api, `UPDATE cellsdb_migrations_api SET checksum = '${earlier}' WHERE name = '0001_initial_api_schema'`);
  const status = await runCli(['--api-db', api.raw, 'api_db', 'status']);
  t.is(status.code, 0, status.stdout + status.stderr);
  t.notRegex(status.stdout, /problem/);
  await execSql(api, `UPDATE cellsdb_migrations_api SET checksum = '${'0'.repeat(64)}' WHERE name = '0001_initial_api_schema'`);
  const changed = await runCli(['--api-db', api.raw, 'api_db', 'sync']);
  t.is(changed.code, 1, changed.stdout + changed.stderr);
  t.regex(changed.stderr, /0001_initial_api_schema was changed after it was applied/);
});
