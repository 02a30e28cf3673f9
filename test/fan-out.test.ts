// `db sync` / `db version` across the mapped cells: cell0 first, then every other cell concurrently;
// one cell that cannot be reached fails alone (named, its URL masked) while the others reach head;
// --cell and --local-cell narrow the work to what the operator named.
import test from 'ava';
import pLimit from 'p-limit';
import { LINES, listMigrationFiles } from '../src/migrate/lines.js';
import type { Dialect } from '../src/url/index.js';
import { useDatabase } from './helpers/databases.js';
import { type Cell, type Cloud, describeResult, eachDialectLimited, useCell, useCell0, useCloud } from './helpers/cells.js';

const HEAD = listMigrationFiles(LINES.cell).at(-1)?.name as string;

interface VersionRow {
  readonly cell: string;
  readonly uuid: string;
  readonly version?: string | null;
  readonly error?: string;
}

/** `db version --json` through the CLI: the cell line's version in every mapped cell. */
async function versions(cloud: Cloud): Promise<{ code: number | null; rows: VersionRow[]; stderr: string }> {
  const r = await cloud.cli(['--json', 'db', 'version']);
  return { code: r.code, rows: JSON.parse(r.stdout) as VersionRow[], stderr: r.stderr };
}

const versionByCell = (rows: readonly VersionRow[]): Record<string, string | null | undefined> =>
  Object.fromEntries(rows.map((r) => [r.cell, r.version]));

/** A URL on the dialect's scheme to a port nothing listens on, with a password in it. */
const unreachableUrl = (dialect: Dialect, password: string): string =>
  `${dialect === 'postgres' ? 'postgresql' : 'mysql+pymysql'}://nova:${password}@127.0.0.1:1/nova_unreachable`;

eachDialectLimited(test, 'db sync: cell0 and 20 cells in one run: exit 0, every cell at head', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell0(t, cloud);
  // Databases are created a few at a time (not 20 CREATE DATABASE at once); mapping is sequential,
  // as an operator would do it.
  const limit = pLimit(4);
  const names = Array.from({ length: 20 }, (_, i) => `cell${String(i + 1).padStart(2, '0')}`);
  const urls = await Promise.all(names.map((name) => limit(() => useDatabase(t, dialect, name))));
  for (const [i, name] of names.entries()) await useCell(t, cloud, name, { databaseConnection: urls[i]?.raw as string });

  const sync = await cloud.cli(['--json', 'db', 'sync'], { timeoutMs: 180_000 });
  t.is(sync.code, 0, describeResult(sync));
  const synced = JSON.parse(sync.stdout) as Array<{ cell: string; ok: boolean; to: string }>;
  t.deepEqual(
    synced.map((s) => [s.cell, s.ok, s.to]),
    ['cell0', ...names].map((n) => [n, true, HEAD]),
  );

  const after = await versions(cloud);
  t.is(after.code, 0);
  t.deepEqual(versionByCell(after.rows), Object.fromEntries(['cell0', ...names].map((n) => [n, HEAD])));
});

eachDialectLimited(test, 'db sync: one unreachable cell of five fails alone: exit 1, named with its URL masked; the other four reach head', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell0(t, cloud);
  const good: Cell[] = [];
  for (const name of ['cell1', 'cell2', 'cell3']) good.push(await useCell(t, cloud, name));
  const password = 'unreachable-Pw-31337';
  const broken = await useCell(t, cloud, 'broken', { databaseConnection: unreachableUrl(dialect, password) });

  const sync = await cloud.cli(['db', 'sync']);
  t.is(sync.code, 1, describeResult(sync));
  const error = sync.stderr.split('\n').find((l) => l.startsWith('cellsdb: error:')) ?? '';
  t.regex(error, /1 of 5 cells failed/);
  t.true(error.includes(`broken (${broken.url.masked})`), error);
  t.true(broken.url.masked.includes('nova:****@127.0.0.1:1'));
  t.false(`${sync.stdout}${sync.stderr}`.includes(password));
  t.regex(sync.stdout, /broken.*FAILED/);

  const after = await versions(cloud);
  t.is(after.code, 1, 'db version fails too, for the unreachable cell');
  t.deepEqual(
    versionByCell(after.rows.filter((r) => r.cell !== 'broken')),
    { cell0: HEAD, cell1: HEAD, cell2: HEAD, cell3: HEAD },
  );
  const brokenRow = after.rows.find((r) => r.cell === 'broken');
  t.truthy(brokenRow?.error);
  t.false(JSON.stringify(after.rows).includes(password));
  // stdout is the one document above; the failure's own document goes to stderr (docs/json.md).
  const failure = JSON.parse(after.stderr) as { error: { code: string; exit_code: number } };
  t.is(failure.error.exit_code, 1);
  t.false(after.stderr.includes(password));
});

eachDialectLimited(test, 'db sync --cell NAME (repeatable, name or uuid): only the named cells are synced', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell0(t, cloud);
  await useCell(t, cloud, 'cell1');
  await useCell(t, cloud, 'cell2');
  const cell3 = await useCell(t, cloud, 'cell3');

  const sync = await cloud.cli(['db', 'sync', '--cell', 'cell1', '--cell', cell3.uuid]);
  t.is(sync.code, 0, describeResult(sync));

  const after = await versions(cloud);
  t.is(after.code, 0);
  t.deepEqual(versionByCell(after.rows), { cell0: null, cell1: HEAD, cell2: null, cell3: HEAD });
});

eachDialectLimited(test, 'db sync --local-cell: only the --db database, none of the mapped cells', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell0(t, cloud);
  await useCell(t, cloud, 'cell1');
  const local = await useDatabase(t, dialect, 'local');

  const sync = await cloud.cli(['--db', local.raw, 'db', 'sync', '--local-cell']);
  t.is(sync.code, 0, describeResult(sync));
  t.true(sync.stdout.includes(local.masked), sync.stdout);

  const localVersion = await cloud.cli(['--db', local.raw, 'db', 'version', '--local-cell']);
  t.is(localVersion.code, 0, describeResult(localVersion));
  t.is(localVersion.stdout.trim(), HEAD);
  const mapped = await versions(cloud);
  t.deepEqual(versionByCell(mapped.rows), { cell0: null, cell1: null });
});

eachDialectLimited(test, 'db sync --cell with an unknown name: exit 127, nothing synced', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell(t, cloud, 'cell1');

  const sync = await cloud.cli(['db', 'sync', '--cell', 'cell1', '--cell', 'no-such-cell']);
  t.is(sync.code, 127, describeResult(sync));
  t.regex(sync.stderr, /'no-such-cell'/);
  t.deepEqual(versionByCell((await versions(cloud)).rows), { cell1: null });
});

eachDialectLimited(test, 'db sync: cell0 is synced first, before every other cell (even one whose name sorts before it)', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell(t, cloud, 'alpha');
  await useCell(t, cloud, 'beta');
  await useCell0(t, cloud);

  const sync = await cloud.cli(['db', 'sync']);
  t.is(sync.code, 0, describeResult(sync));
  const notices = sync.stderr.split('\n').filter((l) => l.startsWith("cell '"));
  const cellOf = (line: string): string => /^cell '([^']+)'/.exec(line)?.[1] ?? '';
  const cell0Lines = notices.map((l, i) => [cellOf(l), i] as const).filter(([c]) => c === 'cell0');
  const otherLines = notices.map((l, i) => [cellOf(l), i] as const).filter(([c]) => c !== 'cell0');
  t.is(cell0Lines.length, 2 * listMigrationFiles(LINES.cell).length, sync.stderr);
  t.true(otherLines.length > 0, sync.stderr);
  t.true(Math.max(...cell0Lines.map(([, i]) => i)) < Math.min(...otherLines.map(([, i]) => i)), `cell0's notices come first:\n${sync.stderr}`);
  const tableCells = sync.stdout
    .split('\n')
    .map((l) => /^\|\s+(\S+)\s+\|/.exec(l)?.[1])
    .filter((c): c is string => c !== undefined && c !== 'Cell');
  t.deepEqual(tableCells, ['cell0', 'alpha', 'beta']);
});
