// Recoverable migrations on MariaDB (issue 15): DDL commits statement by statement there, so a sync
// killed half way leaves part of a migration done. Every migration of both lines looks before each
// step (src/migrate/schema-steps.ts), so running sync again completes it: no dirty state, no hand
// repair. The process is really killed (SIGKILL, failpoints `migrate:started` and `migrate:step`):
// once at the start of every migration, and after every schema step of every migration; after the
// last kill a plain sync completes, and the schema equals that of a clean build.
import test, { type ExecutionContext } from 'ava';
import { dialectFor } from '../src/db/dialects.js';
import { shapeFromDatabase } from '../src/schema/artefacts.js';
import type { DatabaseUrl } from '../src/url/index.js';
import { type CliResult, runCli } from './helpers/cli.js';
import { adminUrl, useDatabase } from './helpers/databases.js';
import { withDatabase } from './helpers/cells.js';
import { query } from './helpers/sql.js';

type LineId = 'api' | 'cell';
const LEDGER: Readonly<Record<LineId, string>> = { api: 'cellsdb_migrations_api', cell: 'cellsdb_migrations_cell' };

const sync = (line: LineId, url: DatabaseUrl, failpoint?: string, version?: string): Promise<CliResult> =>
  runCli([...(line === 'api' ? ['--api-db', url.raw, 'api_db', 'sync'] : ['--db', url.raw, 'db', 'sync', '--local-cell']), ...(version ? [version] : []), '--lock-timeout', '120'], {
    env: failpoint ? { CELLSDB_FAILPOINT: failpoint } : {},
    timeoutMs: 300_000,
  });

/** The schema as the drift check sees it, as plain JSON (maps made arrays), for deepEqual. */
async function schemaOf(url: DatabaseUrl): Promise<unknown> {
  const tables = await withDatabase(url, (h) => h.dialect.describeSchema(h.sequelize));
  const shape = shapeFromDatabase(tables, url.dialect);
  return [...shape.values()].map((t) => ({ ...t, columns: [...t.columns.entries()], indexes: [...t.indexes.entries()].sort(), foreignKeys: [...t.foreignKeys.entries()].sort() }));
}

async function killEverywhereThenFinish(t: ExecutionContext, line: LineId): Promise<void> {
  t.timeout(40 * 60_000);
  const clean = await useDatabase(t, 'mysql', `clean_${line}`);
  const built = await sync(line, clean);
  t.is(built.code, 0, built.stderr);
  const migrations = (await query<{ name: string }>(clean, `SELECT name FROM ${LEDGER[line]} ORDER BY name`)).map((r) => r.name);
  const lastApplying = (r: CliResult): string => [...r.stderr.matchAll(/applying (\d{4}_\w+)/g)].map((m) => m[1]).at(-1) ?? '?';

  // 1. Killed right after the started-marker of every migration, then the line resumed to it.
  const atStart = await useDatabase(t, 'mysql', `recover_start_${line}`);
  for (const m of migrations) {
    const killed = await sync(line, atStart, 'migrate:started');
    t.is(killed.signal, 'SIGKILL', `killed at the start of ${m}: ${killed.stderr}`);
    t.is(lastApplying(killed), m);
    const resumed = await sync(line, atStart, undefined, m);
    t.is(resumed.code, 0, `${m} resumed: ${resumed.stderr}`);
  }

  // 2. Killed after every schema step: each run gets one step further (the steps done are skipped),
  // and a run that finds no step left to kill after exits 0.
  const atSteps = await useDatabase(t, 'mysql', `recover_steps_${line}`);
  const killedAt: string[] = [];
  for (let run = 0; run < 200; run++) {
    const r = await sync(line, atSteps, 'migrate:step');
    if (r.code === 0 && r.signal === null) break;
    t.is(r.signal, 'SIGKILL', `run ${run} was killed, not failed: ${r.stderr}`);
    killedAt.push(lastApplying(r));
  }
  t.log(`${line} line: ${migrations.length} kills at a start, ${killedAt.length} after a step (${[...new Set(killedAt)].map((m) => `${m} ×${killedAt.filter((k) => k === m).length}`).join(', ')})`);
  for (const m of migrations.filter((name) => !name.startsWith('0004'))) t.true(killedAt.includes(m), `${m} was killed after a step`);

  for (const url of [atStart, atSteps]) {
    const last = await sync(line, url);
    t.is(last.code, 0, last.stderr);
    t.regex(last.stdout, /already at|nothing to apply/);
    const rows = await query<{ name: string; state: string }>(url, `SELECT name, state FROM ${LEDGER[line]} ORDER BY name`);
    t.deepEqual(rows, migrations.map((name) => ({ name, state: 'applied' })), 'every migration applied once, none left started');
    t.deepEqual(await schemaOf(url), await schemaOf(clean), 'the schema equals a clean build');
    const check = await runCli(['schema', 'check', line === 'api' ? '--against-api' : '--against-db', url.raw]);
    t.is(check.code, 0, check.stdout + check.stderr);
  }
}

for (const line of ['cell', 'api'] as const) {
  const title = `mariadb: ${line} line killed at the start of every migration and after every schema step; sync again completes it, schema as a clean build`;
  if (adminUrl('mysql')) test.serial(title, (t) => killEverywhereThenFinish(t, line));
  else test.skip(`${title} (no server for mariadb)`, () => undefined);
}

// Dialect code used only to make sure the test server is MariaDB-like (DDL not transactional).
test('mariadb commits DDL at once (why this file exists)', (t) => {
  t.false(dialectFor('mysql').transactionalDdl);
});
