// `api_db sync --dry-run` and `db sync --dry-run`, rendered: the SQL each pending migration would
// send (src/migrate/preview.ts rehearses it on a scratch database), printed as a commented script
// (or JSON). Nothing is written to the databases previewed.
import {
  type CellMappingRow as CellMapping,
  cellErrorMessage,
  cellLabel,
  CellsdbError,
  type FanOutOptions,
  type LinePreview,
  type LineTarget,
  displayUrl,
  previewCells as previewEveryCell,
  previewLine,
} from '../index.js';
import type { Runtime } from './runtime.js';

function printScript(rt: Runtime, p: LinePreview): void {
  if (p.migrations.length === 0) {
    rt.output.line(`-- ${p.label} (${p.database}): at ${p.to ?? 'no version'}; nothing to apply`);
    return;
  }
  const n = p.migrations.length;
  rt.output.line(`-- ${p.label} (${p.database}): ${p.from ?? 'empty'} → ${p.to ?? ''}, ${n} migration${n === 1 ? '' : 's'} (dry run: nothing was changed)`);
  for (const m of p.migrations) {
    const how = m.transactional ? 'in one transaction, with its ledger row' : 'statement by statement (DDL commits at once), behind a started-marker in the ledger';
    rt.output.line(`\n-- ${m.name}: runs ${how}`);
    if (m.statements.length === 0) rt.output.line('-- (no SQL)');
    for (const s of m.statements) rt.output.line(`${s};`);
  }
}

const asJson = (p: LinePreview) => ({ dry_run: true, line: p.line, label: p.label, database: p.database, from: p.from, to: p.to, migrations: p.migrations });

/** The preview of one database (`api_db sync --dry-run`, `db sync --dry-run --local-cell`). */
export async function previewOne(rt: Runtime, target: LineTarget, version: string | undefined): Promise<void> {
  const preview = await previewLine(target, version, { onLeftBehind: (text) => rt.output.notice(text) });
  if (rt.output.json) rt.output.data(asJson(preview));
  else printScript(rt, preview);
}

/** The preview of every mapped cell, printed; exit as the first cell that could not be previewed. */
export async function previewCells(rt: Runtime, cells: readonly CellMapping[], options: FanOutOptions, version: string | undefined): Promise<void> {
  const outcomes = await previewEveryCell(cells, options, version, { onLeftBehind: (text) => rt.output.notice(text) });
  if (rt.output.json) {
    rt.output.data(outcomes.map((o) => ({ cell: o.cell.name, uuid: o.cell.uuid, ...(o.ok ? asJson(o.value) : { error: o.error.message }) })));
  } else {
    for (const [i, o] of outcomes.entries()) {
      if (i > 0) rt.output.line('');
      if (o.ok) printScript(rt, o.value);
      else rt.output.line(`-- cell '${cellLabel(o.cell)}' (${displayUrl(o.cell.databaseConnection)}): cannot preview: ${o.error.message}`);
    }
  }
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length > 0) {
    const first = failed[0] as Extract<(typeof failed)[number], { ok: false }>;
    throw new CellsdbError(`could not preview ${failed.length} of ${outcomes.length} cells; first error: ${cellErrorMessage(first)}`, { exitCode: first.error.exitCode });
  }
}
