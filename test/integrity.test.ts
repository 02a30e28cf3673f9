// Ledger integrity through the real CLI: a migration edited, deleted or slipped in before applied ones
// after it ran is refused before anything runs, and `db status` shows the problem. The cell line is
// copied into a folder of the test's own (--cell-migrations-dir) so that its files can be changed.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import type { TableInfo } from '../src/db/dialect.js';
import { ConnectionRegistry } from '../src/db/registry.js';
import { Ledger, type LedgerRow } from '../src/migrate/ledger.js';
import { LINES } from '../src/migrate/lines.js';
import type { Dialect } from '../src/url/index.js';
import { type CliResult, runCli } from './helpers/cli.js';
import { eachDialect, useDatabase } from './helpers/databases.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPILED_CELL_MIGRATIONS = join(ROOT, 'dist', 'migrations-cell');

const M1 = '0001_initial_cell_schema';
const M2 = '0002_compute_nodes_host_expand';
const M3 = '0003_services_last_seen_up';

interface Setup {
  /** The folder holding this test's copy of the cell migrations. */
  readonly dir: string;
  /** Runs `cellsdb db …` on this test's database with this test's migrations. */
  readonly db: (...args: string[]) => Promise<CliResult>;
  /** Tables, columns, indexes, keys and cell-ledger rows of the database now. */
  readonly snapshot: () => Promise<{ tables: readonly TableInfo[]; ledger: readonly LedgerRow[] }>;
}

/**
 * A fresh database and a copy of the compiled cell migrations (the .js files only). The copy lives
 * outside the project, so it gets a package.json (ESM) and a link to the project's node_modules for
 * the migrations' `import 'sequelize'`.
 */
async function setup(t: ExecutionContext, dialect: Dialect): Promise<Setup> {
  const url = await useDatabase(t, dialect, 'integrity');
  const root = mkdtempSync(join(tmpdir(), 'cellsdb-integrity-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  const dir = join(root, 'migrations-cell');
  mkdirSync(dir);
  // The first three cell migrations are the line these tests were written for; later ones (the
  // blocker and the contract step) add nothing to what is tested here.
  const wanted = [`${M1}.js`, `${M2}.js`, `${M3}.js`];
  const copied = readdirSync(COMPILED_CELL_MIGRATIONS).filter((f) => wanted.includes(f));
  for (const f of copied) copyFileSync(join(COMPILED_CELL_MIGRATIONS, f), join(dir, f));
  t.deepEqual(copied.sort(), wanted, 'the cell migrations these tests were written for exist');
  return {
    dir,
    db: (...args) => runCli(['db', ...args, '--local-cell', '--db', url.raw, '--cell-migrations-dir', dir]),
    snapshot: async () => {
      const registry = new ConnectionRegistry({ max: 1, connectTimeoutMs: 60_000 });
      try {
        const handle = await registry.connect(url);
        const tables = await handle.dialect.describeSchema(handle.sequelize);
        const ledger = await new Ledger(handle.sequelize, LINES.cell.ledgerTable).rows();
        return { tables, ledger };
      } finally {
        await registry.close();
      }
    },
  };
}

function assertOk(t: ExecutionContext, result: CliResult, what: string): void {
  t.is(result.code, 0, `${what}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
}

/** A refused sync: exit 1, one error line naming the migration and the problem, nothing run. */
function assertRefused(t: ExecutionContext, result: CliResult, migration: string, problem: RegExp): string {
  t.is(result.code, 1, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  t.is(lines.length, 1, result.stderr);
  const line = lines[0] ?? '';
  t.true(line.startsWith('cellsdb: error: '), line);
  t.true(line.includes(migration), `names ${migration}: ${line}`);
  t.regex(line, problem);
  t.regex(line, /nothing was run/);
  t.false(/applying|applied \d/.test(result.stderr), 'no migration started');
  return line;
}

interface StatusJson {
  line: string;
  current: string | null;
  head: string | null;
  migrations: Array<{ name: string; state: string; applied_at: string | null }>;
  problems: Array<{ kind: string; name: string; message: string }>;
}

/** `db status` exits 1 and lists the problem; `db status --json` parses and has migrations and problems. */
async function assertStatusShows(
  t: ExecutionContext,
  s: Setup,
  problem: { kind: string; name: string; message: RegExp },
  states: Record<string, string>,
): Promise<void> {
  const human = await s.db('status');
  t.is(human.code, 1, `status exits 1 on a ledger problem\n${human.stdout}\n${human.stderr}`);
  const problemLines = human.stdout.split('\n').filter((l) => l.startsWith('problem: '));
  t.is(problemLines.length, 1, human.stdout);
  t.true(problemLines[0]?.includes(problem.name), problemLines[0]);
  t.regex(problemLines[0] ?? '', problem.message);
  for (const name of Object.keys(states)) t.true(human.stdout.includes(name), `the table lists ${name}`);

  const json = await s.db('status', '--json');
  t.is(json.code, 1);
  let status: StatusJson | undefined;
  t.notThrows(() => {
    status = JSON.parse(json.stdout) as StatusJson;
  }, `status --json is JSON: ${json.stdout}`);
  if (!status) return;
  t.is(status.line, 'cell');
  t.deepEqual(
    Object.fromEntries(status.migrations.map((m) => [m.name, m.state])),
    states,
  );
  for (const m of status.migrations) {
    if (m.state === 'applied') t.false(Number.isNaN(Date.parse(m.applied_at ?? '')), `${m.name} has an applied time`);
  }
  t.is(status.problems.length, 1, JSON.stringify(status.problems));
  t.is(status.problems[0]?.kind, problem.kind);
  t.is(status.problems[0]?.name, problem.name);
  t.regex(status.problems[0]?.message ?? '', problem.message);
}

const hasColumn = (tables: readonly TableInfo[], table: string, column: string): boolean =>
  tables.find((x) => x.name === table)?.columns.some((c) => c.name === column) ?? false;

eachDialect(test, 'an applied migration whose code changed is refused, named, and nothing runs', async (t, dialect) => {
  const s = await setup(t, dialect);
  assertOk(t, await s.db('sync', '2'), 'sync to 0002');
  const before = await s.snapshot();
  t.deepEqual(before.ledger.map((r) => r.name), [M1, M2]);

  const path = join(s.dir, `${M2}.js`);
  const source = readFileSync(path, 'utf8');
  const edited = source.replace("'host', { type: DataTypes.STRING(255)", "'host', { type: DataTypes.STRING(254)");
  t.not(edited, source, 'the edit changes code');
  writeFileSync(path, edited);

  const line = assertRefused(t, await s.db('sync'), M2, /was changed after it was applied/);
  t.regex(line, /checksum differs/);
  const after = await s.snapshot();
  t.deepEqual(after, before, 'schema and ledger untouched');
  t.false(hasColumn(after.tables, 'services', 'last_seen_up'), `${M3} did not run`);

  await assertStatusShows(t, s, { kind: 'changed', name: M2, message: /was changed after it was applied/ }, {
    [M1]: 'applied',
    [M2]: 'applied',
    [M3]: 'pending',
  });

  // Putting the file back as it was applied is the way out.
  writeFileSync(path, source);
  assertOk(t, await s.db('sync'), 'sync after restoring the file');
  t.true(hasColumn((await s.snapshot()).tables, 'services', 'last_seen_up'));
});

eachDialect(test, 'editing only comments and white space of applied migrations is not refused', async (t, dialect) => {
  const s = await setup(t, dialect);
  assertOk(t, await s.db('sync', '2'), 'sync to 0002');
  const before = await s.snapshot();

  for (const name of [M1, M2]) {
    const path = join(s.dir, `${name}.js`);
    const source = readFileSync(path, 'utf8');
    const edited =
      '/* Reviewed again after the upgrade to 2024.1:\n   nothing to change. */\n' +
      source
        .replace(/^\/\/ .*$/m, '// A reworded first comment line, saying something else entirely.')
        .replace('export async function up(', '// A new remark before up().\nexport  async   function up(')
        .replace(/\n/g, '\n\n');
    t.not(edited, source);
    writeFileSync(path, edited);
  }

  const first = await s.db('status');
  t.is(first.code, 0, `no problem after comment-only edits\n${first.stdout}`);
  t.false(first.stdout.includes('problem:'));

  const result = await s.db('sync');
  assertOk(t, result, 'sync after comment-only edits');
  const after = await s.snapshot();
  t.deepEqual(after.ledger.map((r) => r.name), [M1, M2, M3], `${M3} ran`);
  t.deepEqual(after.ledger.slice(0, 2), before.ledger, 'the applied rows are as they were');
  t.true(hasColumn(after.tables, 'services', 'last_seen_up'));
});

eachDialect(test, 'a deleted applied migration is refused as missing, named, and nothing runs', async (t, dialect) => {
  const s = await setup(t, dialect);
  assertOk(t, await s.db('sync', '2'), 'sync to 0002');
  const before = await s.snapshot();

  unlinkSync(join(s.dir, `${M1}.js`));
  const line = assertRefused(t, await s.db('sync'), M1, /is applied on .* but missing from/);
  t.true(line.includes(s.dir), `names the folder: ${line}`);
  const after = await s.snapshot();
  t.deepEqual(after, before, 'schema and ledger untouched');
  t.false(hasColumn(after.tables, 'services', 'last_seen_up'), `${M3} did not run`);

  await assertStatusShows(t, s, { kind: 'missing', name: M1, message: /missing from/ }, {
    [M2]: 'applied',
    [M3]: 'pending',
    [M1]: 'missing',
  });
});

eachDialect(test, 'a pending migration numbered before applied ones is refused as out of order, and nothing runs', async (t, dialect) => {
  const s = await setup(t, dialect);
  const m2 = join(s.dir, `${M2}.js`);
  const aside = join(s.dir, '..', `${M2}.js.aside`);
  renameSync(m2, aside);
  assertOk(t, await s.db('sync'), 'sync without 0002');
  const before = await s.snapshot();
  t.deepEqual(before.ledger.map((r) => r.name), [M1, M3]);

  renameSync(aside, m2);
  const line = assertRefused(t, await s.db('sync'), M2, /is pending on .* but sorts before migrations already applied/);
  t.regex(line, /renumber it after the last applied one/);
  const after = await s.snapshot();
  t.deepEqual(after, before, 'schema and ledger untouched');
  t.false(hasColumn(after.tables, 'compute_nodes', 'host'), `${M2} did not run`);

  await assertStatusShows(t, s, { kind: 'out-of-order', name: M2, message: /sorts before migrations already applied/ }, {
    [M1]: 'applied',
    [M2]: 'pending',
    [M3]: 'applied',
  });
});
