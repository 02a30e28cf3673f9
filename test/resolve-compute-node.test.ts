// `db resolve_compute_node` (issue 15): a compute node the mover reports as blocked is resolved by
// command, not by hand-written SQL: --host (refused when it would collide), --delete, --dry-run, bad
// input 127; then the movers and the blocker pass.
import test from 'ava';
import type { DatabaseUrl } from '../src/url/index.js';
import { runCli } from './helpers/cli.js';
import { eachDialect, useDatabase } from './helpers/databases.js';
import { execSql } from './helpers/schema.js';
import { query } from './helpers/sql.js';

/** A cell at 0003 with three nodes: 1 blocked (its service is gone), 2 live on cmp-02 (hh-2), 3 blocked (hh-2 too). */
async function blockedCell(t: import('ava').ExecutionContext, dialect: 'postgres' | 'mysql'): Promise<DatabaseUrl> {
  const url = await useDatabase(t, dialect, 'resolve');
  const built = await runCli(['--db', url.raw, 'db', 'sync', '--local-cell', '0003']);
  t.is(built.code, 0, built.stderr);
  await execSql(
    url,
    "INSERT INTO services (id, host, topic, report_count, deleted) VALUES (1, 'cmp-02', 'compute', 0, 0)",
    "INSERT INTO compute_nodes (id, service_id, host, hypervisor_hostname, deleted) VALUES (1, 77, NULL, 'hh-1', 0), (2, 1, 'cmp-02', 'hh-2', 0), (3, 78, NULL, 'hh-2', 0)",
  );
  return url;
}

const cli = (url: DatabaseUrl, args: string[]) => runCli(['--db', url.raw, 'db', 'resolve_compute_node', '--local-cell', ...args]);
const nodes = async (url: DatabaseUrl) =>
  (await query<{ id: number; host: string | null; service_id: number | null; deleted: number }>(url, 'SELECT id, host, service_id, deleted FROM compute_nodes ORDER BY id')).map((r) => [Number(r.id), r.host, r.service_id === null ? null : Number(r.service_id), Number(r.deleted)]);

eachDialect(test, 'resolve_compute_node: --dry-run, --host, a colliding host refused, --delete; bad input 127; then the blocker passes', async (t, dialect) => {
  const url = await blockedCell(t, dialect);
  const before = await nodes(url);

  const dry = await cli(url, ['--id', '1', '--host', 'cmp-01', '--dry-run']);
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /compute node 1 \('hh-1'\) would get host 'cmp-01'/);
  t.deepEqual(await nodes(url), before, '--dry-run changed nothing');

  const set = await cli(url, ['--id', '1', '--host', 'cmp-01']);
  t.is(set.code, 0, set.stderr);
  t.regex(set.stdout, /now has host 'cmp-01'/);

  const collide = await cli(url, ['--id', '3', '--host', 'cmp-02']);
  t.is(collide.code, 1, collide.stderr);
  t.regex(collide.stderr, /host 'cmp-02' would collide in cell database .*compute node 2 already has .*nothing was changed/);

  const del = await cli(url, ['--id', '3', '--delete']);
  t.is(del.code, 0, del.stderr);
  t.regex(del.stdout, /compute node 3 \('hh-2'\) was soft-deleted/);
  t.deepEqual(await nodes(url), [[1, 'cmp-01', null, 0], [2, 'cmp-02', 1, 0], [3, null, 78, 3]]);

  const missing = await cli(url, ['--id', '99', '--delete']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /no compute node with id 99/);
  for (const bad of [['--id', 'x', '--delete'], ['--id', '1'], ['--id', '1', '--host', 'h', '--delete'], ['--id', '-1', '--delete'], ['--host', 'h']]) {
    const r = await cli(url, bad);
    t.is(r.code, 127, `${bad.join(' ')}: ${r.stderr}`);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const sync = await runCli(['--db', url.raw, 'db', 'sync', '--local-cell']);
  t.is(sync.code, 0, sync.stderr);
});
