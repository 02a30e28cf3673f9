import type { Config } from '../config/index.js';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import { InvalidInputError } from '../errors.js';
import type { MigrationLine } from '../migrate/lines.js';
import type { Failpoint } from '../movers/failpoints.js';
import { lineStatus, type SyncResult, syncLine } from '../migrate/migrator.js';
import { type LineStatus, planAim, readPlan } from '../migrate/plan.js';
import { type LinePreview, type PreviewCache, type PreviewOptions, previewLine } from '../migrate/preview.js';
import type { LineTarget, MigratorEvent } from '../migrate/target.js';
import { CELL0_UUID, type CellMappingRow, cellLabel, MappingStore } from './mappings.js';
import { type CellOutcome, cellDatabaseUrl, scatterGather } from './targeting.js';

/** Which mapped cells a command works on: all of them, or those named (by name or uuid). */
export async function selectCells(api: DatabaseHandle, names: readonly string[] = []): Promise<CellMappingRow[]> {
  const cells = await new MappingStore(api).listCells();
  if (names.length === 0) return cells;
  const unknown = names.filter((n) => !cells.some((c) => c.uuid === n || c.name === n));
  if (unknown.length > 0) {
    throw new InvalidInputError(`no mapped cell named ${unknown.map((n) => `'${n}'`).join(', ')}: see 'cellsdb cell_v2 list_cells'`);
  }
  return cells.filter((c) => names.includes(c.uuid) || (c.name !== null && names.includes(c.name)));
}

/** Options shared by the commands that run a line on many cells. */
export interface FanOutOptions {
  readonly registry: ConnectionRegistry;
  readonly line: MigrationLine;
  readonly config: Pick<Config, 'migrationLockWaitMs' | 'ddlLockTimeoutMs' | 'statementTimeoutMs'>;
  /** @default DEFAULTS.concurrency */
  readonly concurrency?: number;
  readonly onEvent?: (cell: CellMappingRow, event: MigratorEvent) => void;
  /** Crash-test failpoints of the migrations (`migrate:step`). @default NO_FAILPOINTS */
  readonly failpoint?: Failpoint;
  /** Aborted (SIGINT, SIGTERM): no further migration starts on any cell. */
  readonly signal?: AbortSignal;
}

function cellTarget(cell: CellMappingRow, options: FanOutOptions): LineTarget {
  return {
    registry: options.registry,
    url: cellDatabaseUrl(cell),
    line: options.line,
    label: `cell '${cellLabel(cell)}'`,
    config: options.config,
    ...(options.onEvent ? { onEvent: (event: MigratorEvent) => options.onEvent?.(cell, event) } : {}),
    ...(options.failpoint ? { failpoint: options.failpoint } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

/**
 * Runs `work` on cell0 first, then on every other cell concurrently. cell0 goes first as in Nova
 * (it must be usable before any cell can bury a failed build in it); its failure does not stop the
 * others.
 */
async function cell0First<T>(cells: readonly CellMappingRow[], concurrency: number | undefined, work: (cell: CellMappingRow) => Promise<T>): Promise<CellOutcome<T>[]> {
  const cell0 = cells.filter((c) => c.uuid === CELL0_UUID);
  const rest = cells.filter((c) => c.uuid !== CELL0_UUID);
  const first = await scatterGather(cell0, work, { concurrency: 1 });
  const others = await scatterGather(rest, work, { concurrency });
  return [...first, ...others];
}

/**
 * `db sync` across cells: each cell under its own lock, with the same integrity rules as one database.
 *
 * VERSION is decided once, before the fan-out, as for one database: an unknown VERSION is invalid
 * input (exit 127) before any cell is read, and so is a VERSION behind any selected cell (cellsdb
 * does not downgrade) — then no cell is synced at all: bad input writes nothing, rather than
 * syncing some cells and failing the others with exit 1. A cell whose ledger cannot be read here
 * is left to the fan-out, which reports it as that cell's failure (exit 1).
 */
export async function syncCells(cells: readonly CellMappingRow[], options: FanOutOptions, version?: string): Promise<CellOutcome<SyncResult>[]> {
  if (version !== undefined) {
    const aim = planAim(options.line, version);
    const plans = await scatterGather(cells, (cell) => readPlan(cellTarget(cell, options), aim), { concurrency: options.concurrency });
    const past = plans.flatMap((o) => (o.ok && o.value.position === 'past' ? [`cell '${cellLabel(o.cell)}' is at ${o.value.current}`] : []));
    if (past.length > 0) {
      throw new InvalidInputError(
        `cannot go back to ${options.line.title} version ${aim.target?.name ?? version}: ${past.join(', ')} and cellsdb does not downgrade (as Nova); ` +
          'nothing was run (choose the cells to sync with --cell, or restore a backup to go back)',
      );
    }
  }
  return cell0First(cells, options.concurrency, (cell) => syncLine(cellTarget(cell, options), version));
}

/** `db version` / `db status` across cells. */
export function statusOfCells(cells: readonly CellMappingRow[], options: FanOutOptions): Promise<CellOutcome<LineStatus>[]> {
  return cell0First(cells, options.concurrency, (cell) => lineStatus(cellTarget(cell, options)));
}

/**
 * `db sync --dry-run` across cells: each cell's preview (read-only), with one rehearsal per server
 * and version shared by the cells that need the same one.
 */
export function previewCells(
  cells: readonly CellMappingRow[],
  options: FanOutOptions,
  version?: string,
  { onLeftBehind }: Pick<PreviewOptions, 'onLeftBehind'> = {},
): Promise<CellOutcome<LinePreview>[]> {
  const cache: PreviewCache = new Map();
  return scatterGather(cells, (cell) => previewLine(cellTarget(cell, options), version, { cache, onLeftBehind }), { concurrency: options.concurrency });
}
