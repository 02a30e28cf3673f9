// `db sync VERSION` over the mapped cells (#14 item 5): VERSION is decided once, before the fan-out.
// An unknown VERSION, or one behind a selected cell, is invalid input — exit 127, one line on
// stderr, no stack, and no cell synced — as `api_db sync 0099` and `db sync 1 --local-cell` are.
import test, { type ExecutionContext } from 'ava';
import { LINES, listMigrationFiles } from '../src/migrate/lines.js';
import { describeResult, eachDialectLimited, query, useCell, useCell0, useCloud } from './helpers/cells.js';
import type { CliResult } from './helpers/cli.js';

const CELL_HEAD = listMigrationFiles(LINES.cell).at(-1)?.name ?? '';

function assertRefused(t: ExecutionContext, r: CliResult, message: RegExp): string {
  t.is(r.code, 127, describeResult(r));
  const lines = r.stderr.split('\n');
  t.deepEqual(lines.length, 2, `one line on stderr: ${r.stderr}`);
  const line = lines[0] ?? '';
  t.true(line.startsWith('cellsdb: error: '), line);
  t.regex(line, message);
  t.notRegex(r.stderr + r.stdout, /^\s{4}at /m, 'no stack trace');
  t.is(r.stdout, '', 'nothing on stdout: no per-cell table, nothing was run');
  return line;
}

/** Every cell's ledger, by cell name: the applied migrations (names, in order). */
async function ledgers(cells: ReadonlyArray<{ name: string; url: Parameters<typeof query>[0] }>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const cell of cells) {
    const rows = await query<{ name: string }>(cell.url, `SELECT name FROM ${LINES.cell.ledgerTable} ORDER BY name`).catch(() => []);
    out[cell.name] = rows.map((r) => r.name);
  }
  return out;
}

eachDialectLimited(test, 'db sync 0099 and db sync 1 over mapped cells: 127 before the fan-out, no cell touched', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell0 = await useCell0(t, cloud, { sync: true });
  const cell1 = await useCell(t, cloud, 'cell1', { sync: true });
  const cell2 = await useCell(t, cloud, 'cell2', { sync: true });
  const cells = [cell0, cell1, cell2];
  const before = await ledgers(cells);
  t.is(before.cell1?.at(-1), CELL_HEAD);

  const unknown = await cloud.cli(['db', 'sync', '0099']);
  const u = assertRefused(t, unknown, /unknown cell version '0099'/);
  t.notRegex(u, /cells failed/);

  const behind = await cloud.cli(['db', 'sync', '1']);
  const b = assertRefused(t, behind, /cannot go back to cell version 0001_\w+/);
  for (const name of ['cell0', 'cell1', 'cell2']) t.true(b.includes(`cell '${name}' is at ${CELL_HEAD}`), b);
  t.regex(b, /does not downgrade/);

  const one = await cloud.cli(['db', 'sync', '1', '--cell', 'cell1']);
  const o = assertRefused(t, one, /cannot go back to cell version 0001_\w+/);
  t.true(o.includes(`cell 'cell1' is at ${CELL_HEAD}`), o);
  t.false(o.includes("cell 'cell2'"), o);

  // With --json the refusal is the error document on stdout (docs/json.md), nothing on stderr.
  const unknownOne = await cloud.cli(['db', 'sync', '0099', '--cell', 'cell2', '--json']);
  t.is(unknownOne.code, 127, describeResult(unknownOne));
  t.is(unknownOne.stderr, '');
  const doc = JSON.parse(unknownOne.stdout) as { error: { code: string; message: string; exit_code: number } };
  t.like(doc.error, { code: 'invalid_input', exit_code: 127 });
  t.regex(doc.error.message, /unknown cell version '0099'/);

  t.deepEqual(await ledgers(cells), before, 'no ledger changed');
});

eachDialectLimited(test, 'db sync VERSION behind one selected cell and ahead of another: 127, and the cell behind is not synced either', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cell0 = await useCell0(t, cloud, { sync: true });
  const old = await useCell(t, cloud, 'old');
  await cloud.setup(['db', 'sync', '2', '--cell', 'old']);
  const fresh = await useCell(t, cloud, 'fresh', { sync: true });
  const before = await ledgers([cell0, old, fresh]);
  t.is(before.old?.length, 2);

  const mixed = await cloud.cli(['db', 'sync', '3']);
  const line = assertRefused(t, mixed, /cannot go back to cell version 0003_\w+/);
  t.true(line.includes(`cell 'fresh' is at ${CELL_HEAD}`), line);
  t.false(line.includes("cell 'old'"), line);
  t.deepEqual(await ledgers([cell0, old, fresh]), before, 'nothing was run, not even on the cell behind');

  // Choosing the cells it applies to works, and reaches exactly that version.
  const chosen = await cloud.cli(['db', 'sync', '3', '--cell', 'old']);
  t.is(chosen.code, 0, describeResult(chosen));
  t.is((await ledgers([old])).old?.at(-1), listMigrationFiles(LINES.cell)[2]?.name);
});
