import pLimit from 'p-limit';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import { DEFAULTS } from '../config/defaults.js';
import { translateDriverError } from '../db/translate-error.js';
import { CellsdbError } from '../errors.js';
import { type DatabaseUrl, displayUrl, parseDatabaseUrl } from '../url/index.js';
import { type CellMappingRow, cellLabel } from './mappings.js';

/** The result of work on one cell: its value, or the error for that cell alone. */
export type CellOutcome<T> =
  | { readonly cell: CellMappingRow; readonly ok: true; readonly value: T; readonly ms: number }
  | { readonly cell: CellMappingRow; readonly ok: false; readonly error: CellsdbError; readonly ms: number };

/** A cell's database URL, parsed; a malformed mapping is an error naming the cell (URL masked). */
export function cellDatabaseUrl(cell: CellMappingRow): DatabaseUrl {
  try {
    return parseDatabaseUrl(cell.databaseConnection);
  } catch (error) {
    throw new CellsdbError(`cell '${cellLabel(cell)}' has an unusable database_connection ${displayUrl(cell.databaseConnection)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * A pooled handle on one cell's database: opened lazily, cached by cell uuid, closed by the
 * registry. Pools stay at two connections so that a hundred cells do not exhaust a server.
 */
export function targetCell(registry: ConnectionRegistry, cell: CellMappingRow): DatabaseHandle {
  return registry.open(cellDatabaseUrl(cell), { purpose: `cell:${cell.uuid}`, max: 2 });
}

/**
 * Runs `work` on every cell, at most `concurrency` at a time (@default `DEFAULTS.concurrency`), and
 * returns one outcome per cell in the order given. A failing cell never stops the others: its error (translated, URL masked) is
 * its outcome, beside the cell it belongs to; {@link cellErrorMessage} names the cell where the
 * message is shown away from it.
 */
export function scatterGather<T>(
  cells: readonly CellMappingRow[],
  work: (cell: CellMappingRow) => Promise<T>,
  options: { concurrency?: number | undefined } = {},
): Promise<CellOutcome<T>[]> {
  return scatterGatherOver(
    cells.map((cell) => ({ cell })),
    ({ cell }) => work(cell),
    options,
  );
}

/**
 * {@link scatterGather} over things that each belong to a cell (a cell's context, say), so that
 * `work` gets the thing itself rather than looking it up by cell.
 */
export async function scatterGatherOver<I extends { readonly cell: CellMappingRow }, T>(
  items: readonly I[],
  work: (item: I) => Promise<T>,
  options: { concurrency?: number | undefined } = {},
): Promise<CellOutcome<T>[]> {
  const limit = pLimit(Math.max(1, options.concurrency ?? DEFAULTS.concurrency));
  return Promise.all(
    items.map((item) =>
      limit(async (): Promise<CellOutcome<T>> => {
        const { cell } = item;
        const started = Date.now();
        try {
          return { cell, ok: true, value: await work(item), ms: Date.now() - started };
        } catch (error) {
          return { cell, ok: false, error: translateDriverError(error, cell.databaseConnection), ms: Date.now() - started };
        }
      }),
    ),
  );
}

/** A failed cell's error as read away from its row: `cell 'name': …`, naming the cell once. */
export function cellErrorMessage(outcome: Extract<CellOutcome<unknown>, { ok: false }>): string {
  const prefix = `cell '${cellLabel(outcome.cell)}'`;
  // Errors of work on one cell often name it already (the migrator's label is `cell 'name'`).
  return outcome.error.message.startsWith(prefix) ? outcome.error.message : `${prefix}: ${outcome.error.message}`;
}

/** The outcomes that failed. */
export function failedCells<T>(outcomes: readonly CellOutcome<T>[]): Array<Extract<CellOutcome<T>, { ok: false }>> {
  return outcomes.filter((o): o is Extract<CellOutcome<T>, { ok: false }> => !o.ok);
}

/**
 * Throws, when any cell failed, one error (exit 1) naming every failed cell (URLs masked) and the
 * first error. For after a per-cell table has been printed.
 */
export function throwIfAnyCellFailed<T>(outcomes: readonly CellOutcome<T>[]): void {
  const failed = failedCells(outcomes);
  const first = failed[0];
  if (first === undefined) return;
  const names = failed.map((o) => `${cellLabel(o.cell)} (${displayUrl(o.cell.databaseConnection)})`).join(', ');
  throw new CellsdbError(`${failed.length} of ${outcomes.length} cells failed: ${names}; first error: ${cellErrorMessage(first)}`, { cause: first.error });
}
