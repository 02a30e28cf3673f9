import type { Argv, CommandModule } from 'yargs';
import { selectCells, statusOfCells, syncCells, type FanOutOptions } from '../../cells/fan-out.js';
import type { SyncResult } from '../../migrate/migrator.js';
import { cellLabel } from '../../cells/mappings.js';
import { type CellOutcome, cellDatabaseUrl } from '../../cells/targeting.js';
import { CellsdbError, InvalidInputError } from '../../errors.js';
import { maskUrl } from '../../url.js';
import type { GlobalArgs, Runtime } from '../runtime.js';
import { previewCells } from '../sql-preview.js';
import { onlineDataMigrationsCommand } from './online-data-migrations.js';
import { lineFor, localTarget, reportEvents, requestedMark, statusOne, syncOne, type SyncArgs, syncOptions, versionNumber, versionOne } from './line-commands.js';

interface CellScopeArgs extends GlobalArgs {
  readonly 'local-cell'?: boolean | undefined;
  readonly cell?: string[] | undefined;
}

function scopeOptions<T>(y: Argv<T>): Argv<T & CellScopeArgs> {
  return y
    .option('local-cell', { type: 'boolean', describe: 'Only the cell database given by --db, not the mapped cells' })
    .option('cell', { type: 'string', array: true, describe: 'Only this mapped cell (name or uuid); repeatable' })
    .conflicts('local-cell', 'cell') as unknown as Argv<T & CellScopeArgs>;
}

/**
 * Where a `db` command runs: the local cell database (`--local-cell`, or when no API database is
 * configured), else the mapped cells (all, or those named by `--cell`), cell0 first.
 */
async function scope(rt: Runtime, args: CellScopeArgs) {
  const config = await rt.config();
  if (args['local-cell'] || (!config.apiDb && !args.cell?.length)) {
    if (!args['local-cell'] && config.db) rt.output.notice('no API database configured: working on the local cell database (--db) only');
    return { kind: 'local' as const, target: await localTarget(rt, 'cell') };
  }
  const api = await rt.registry.connect(config.apiDb ?? (await localTarget(rt, 'api')).url);
  const cells = await selectCells(api, args.cell ?? []);
  if (cells.length === 0) throw new InvalidInputError("no cells are mapped: run 'cellsdb cell_v2 map_cell0' and 'cellsdb cell_v2 create_cell' first, or use --local-cell");
  const options: FanOutOptions = {
    registry: rt.registry,
    line: lineFor('cell', rt.globals),
    config,
    concurrency: rt.globals.concurrency ?? 4,
    onEvent: (cell, event) => reportEvents(rt.output, `cell '${cellLabel(cell)}'`)(event),
  };
  return { kind: 'cells' as const, cells, options };
}

/** Exit 1 naming every failed cell (URLs masked), after the table has been printed. */
export function failIfAny<T>(outcomes: readonly CellOutcome<T>[]): void {
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length === 0) return;
  const names = failed.map((o) => `${cellLabel(o.cell)} (${maskUrl(o.cell.databaseConnection)})`).join(', ');
  const first = failed[0] as Extract<CellOutcome<T>, { ok: false }>;
  throw new CellsdbError(`${failed.length} of ${outcomes.length} cells failed: ${names}; first error: ${first.error.message}`);
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** The per-cell result of `db sync`: a table (cell, from, to, result, time), or JSON. */
export function printCellSync(rt: Runtime, outcomes: readonly CellOutcome<SyncResult>[]): void {
  if (rt.output.json) {
    rt.output.data(
      outcomes.map((o) => ({
        cell: o.cell.name,
        uuid: o.cell.uuid,
        database: maskUrl(o.cell.databaseConnection),
        ok: o.ok,
        ...(o.ok ? { from: o.value.from, to: o.value.to, applied: o.value.applied } : { error: o.error.message }),
        ms: o.ms,
      })),
    );
    return;
  }
  rt.output.table(
    ['Cell', 'From', 'To', 'Result', 'Time'],
    outcomes.map((o) =>
      o.ok
        ? [cellLabel(o.cell), o.value.from ?? 'empty', o.value.to ?? 'empty', o.value.applied.length ? `${o.value.applied.length} applied` : 'up to date', seconds(o.ms)]
        : [cellLabel(o.cell), '', '', `FAILED: ${o.error.message}`, seconds(o.ms)],
    ),
  );
}

function syncCommand(rt: Runtime) {
  return {
    command: 'sync [version]',
    describe: 'Apply pending cell migrations on cell0, then on every mapped cell concurrently',
    builder: (y: Argv<GlobalArgs>) => scopeOptions(syncOptions(y)),
    handler: async (args: SyncArgs & CellScopeArgs) => {
      const where = await scope(rt, args);
      if (where.kind === 'local') return syncOne(rt, where.target, args);
      if (args['dry-run']) return previewCells(rt, where.cells, where.options, args.version);
      if (requestedMark(args)) {
        if (where.cells.length !== 1) throw new InvalidInputError('--mark-applied / --mark-pending act on one database: add --cell NAME or --local-cell');
        const cell = where.cells[0] as (typeof where.cells)[number];
        return syncOne(rt, { registry: rt.registry, url: cellDatabaseUrl(cell), line: where.options.line, label: `cell '${cellLabel(cell)}'`, config: where.options.config }, args);
      }
      const outcomes = await syncCells(where.cells, where.options, args.version);
      printCellSync(rt, outcomes);
      failIfAny(outcomes);
    },
  } satisfies CommandModule<GlobalArgs, SyncArgs & CellScopeArgs>;
}

function versionCommand(rt: Runtime) {
  return {
    command: 'version',
    describe: 'Print the cell schema version of cell0 and every mapped cell',
    builder: (y: Argv<GlobalArgs>) => scopeOptions(y),
    handler: async (args: CellScopeArgs) => {
      const where = await scope(rt, args);
      if (where.kind === 'local') return versionOne(rt, where.target);
      const outcomes = await statusOfCells(where.cells, where.options);
      if (rt.output.json) {
        rt.output.data(
          outcomes.map((o) => ({
            cell: o.cell.name,
            uuid: o.cell.uuid,
            ...(o.ok ? { version: o.value.current, number: versionNumber(o.value.current), head: o.value.head } : { error: o.error.message }),
          })),
        );
      } else {
        rt.output.table(['Cell', 'Version', 'Head'], outcomes.map((o) => (o.ok ? [cellLabel(o.cell), o.value.current ?? 'none', o.value.head] : [cellLabel(o.cell), `FAILED: ${o.error.message}`, ''])));
      }
      failIfAny(outcomes);
    },
  } satisfies CommandModule<GlobalArgs, CellScopeArgs>;
}

function statusCommand(rt: Runtime) {
  return {
    command: 'status',
    describe: 'List applied and pending cell migrations, per cell',
    builder: (y: Argv<GlobalArgs>) => scopeOptions(y),
    handler: async (args: CellScopeArgs) => {
      const where = await scope(rt, args);
      if (where.kind === 'local') return statusOne(rt, where.target);
      const outcomes = await statusOfCells(where.cells, where.options);
      if (rt.output.json) {
        rt.output.data(outcomes.map((o) => ({ cell: o.cell.name, uuid: o.cell.uuid, ...(o.ok ? { status: o.value } : { error: o.error.message }) })));
      } else {
        rt.output.table(
          ['Cell', 'Current', 'Pending', 'Problems'],
          outcomes.map((o) =>
            o.ok
              ? [cellLabel(o.cell), o.value.current ?? 'none', o.value.migrations.filter((m) => m.state === 'pending').map((m) => m.name).join(', '), o.value.problems.map((p) => p.message).join('; ')]
              : [cellLabel(o.cell), `FAILED: ${o.error.message}`, '', ''],
          ),
        );
      }
      if (outcomes.some((o) => o.ok && o.value.problems.length > 0)) rt.exitCode = 1;
      failIfAny(outcomes);
    },
  } satisfies CommandModule<GlobalArgs, CellScopeArgs>;
}

/** `cellsdb db …`: the cell databases' migration line, on cell0 and every mapped cell. */
export function dbCommand(rt: Runtime) {
  return {
    command: 'db <command>',
    describe: 'The cell databases: sync, version, status, online_data_migrations (cell0 first, then every mapped cell)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .command(syncCommand(rt))
        .command(versionCommand(rt))
        .command(statusCommand(rt))
        .command(onlineDataMigrationsCommand(rt) as unknown as CommandModule<GlobalArgs, GlobalArgs>)
        .demandCommand(1, ''),
    handler: () => undefined,
  } satisfies CommandModule<GlobalArgs, GlobalArgs>;
}
