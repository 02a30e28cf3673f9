import pLimit from 'p-limit';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import { translateDriverError } from '../db/translate-error.js';
import { CellsdbError } from '../errors.js';
import { type DatabaseUrl, maskUrl, parseDatabaseUrl } from '../url.js';
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
    throw new CellsdbError(`cell '${cellLabel(cell)}' has an unusable database_connection ${maskUrl(cell.databaseConnection)}: ${(error as Error).message}`, {
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
 * Runs `work` on every cell, at most `concurrency` at a time, and returns one outcome per cell in
 * the order given. A failing cell never stops the others: its error (translated, URL masked, naming
 * the cell) is its outcome.
 */
export function scatterGather<T>(
  cells: readonly CellMappingRow[],
  work: (cell: CellMappingRow) => Promise<T>,
  options: { concurrency?: number } = {},
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
  options: { concurrency?: number } = {},
): Promise<CellOutcome<T>[]> {
  const limit = pLimit(Math.max(1, options.concurrency ?? 4));
  return Promise.all(
    items.map((item) =>
      limit(async (): Promise<CellOutcome<T>> => {
        const { cell } = item;
        const started = Date.now();
        try {
          return { cell, ok: true, value: await work(item), ms: Date.now() - started };
        } catch (error) {
          const translated = translateDriverError(error, maskUrl(cell.databaseConnection));
          const label = cellLabel(cell);
          const message = translated.message.startsWith(`cell '${label}'`) ? translated.message : `cell '${label}': ${translated.message}`;
          const wrapped = new CellsdbError(message, { cause: translated, exitCode: translated.exitCode });
          return { cell, ok: false, error: wrapped, ms: Date.now() - started };
        }
      }),
    ),
  );
}
