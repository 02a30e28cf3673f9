import type { Argv } from 'yargs';
import { cellDatabaseUrl, cellLabel, cellScope, createFailpoints, displayUrl, InterruptedError, InvalidInputError, printableRows, statusOfCells, syncCells, throwIfAnyCellFailed, type CellOutcome, type FanOutOptions, type SyncResult } from '../../index.js';
import type { LeafCommand } from '../command.js';
import type { GlobalArgs, Runtime } from '../runtime.js';
import { previewCells } from '../sql-preview.js';
import { cellBaselineCommand } from './baseline.js';
import { resolveComputeNodeCommand } from './resolve-compute-node.js';
import { commandGroup } from './group.js';
import { onlineDataMigrationsCommand } from './online-data-migrations.js';
import { lineFor, localTarget, reportEvents, requestedMark, statusOne, syncOne, type SyncArgs, syncOptions, syncVersion, versionNumber, versionOne } from './line-commands.js';

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
 * Where a `db` command runs (see `cellScope`): the local cell database as one target, or the mapped
 * cells with the options of the fan-out.
 */
async function scope(rt: Runtime, args: CellScopeArgs, verb: 'syncing' | 'reading' = 'reading') {
  const config = await rt.config();
  const where = await cellScope(rt.registry, config, { localCell: args['local-cell'], cells: args.cell });
  if (where.kind === 'local') {
    // nova-manage's words (db sync without a cell0 mapping), on stderr: stdout stays the result.
    if (where.noCellsMapped) rt.output.notice(`WARNING: cell0 mapping not found - not ${verb} cell0.`);
    else if (where.implied) rt.output.notice('no API database configured: working on the local cell database (--db) only');
    return { kind: 'local' as const, target: await localTarget(rt, 'cell') };
  }
  const options: FanOutOptions = {
    registry: rt.registry,
    line: lineFor('cell', config),
    config,
    concurrency: config.concurrency,
    onEvent: (cell, event) => reportEvents(rt.output, `cell '${cellLabel(cell)}'`)(event),
    failpoint: createFailpoints(config.failpoint),
  };
  return { kind: 'cells' as const, cells: where.cells, options };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** The per-cell result of `db sync`: a table (cell, from, to, result, time), or JSON. */
export function printCellSync(rt: Runtime, outcomes: readonly CellOutcome<SyncResult>[]): void {
  if (rt.output.json) {
    rt.output.data(
      outcomes.map((o) => ({
        cell: o.cell.name,
        uuid: o.cell.uuid,
        database: displayUrl(o.cell.databaseConnection),
        ok: o.ok,
        ...(o.ok ? { from: o.value.from, to: o.value.to, applied: o.value.applied } : { error: o.error.message }),
        ms: o.ms,
      })),
    );
    return;
  }
  rt.output.table(
    ['Cell', 'From', 'To', 'Result', 'Time'],
    printableRows(outcomes.map((o) =>
      o.ok
        ? [cellLabel(o.cell), o.value.from ?? 'empty', o.value.to ?? 'empty', o.value.applied.length ? `${o.value.applied.length} applied` : 'up to date', seconds(o.ms)]
        : [cellLabel(o.cell), '', '', `FAILED: ${o.error.message}`, seconds(o.ms)],
    )),
  );
}

function syncCommand(rt: Runtime) {
  return {
    command: 'sync [VERSION]',
    describe: 'Apply pending cell migrations on cell0, then on every mapped cell concurrently',
    builder: (y: Argv<GlobalArgs>) => scopeOptions(syncOptions(y)),
    run: async (args: SyncArgs & CellScopeArgs) => {
      const where = await scope(rt, args, 'syncing');
      if (where.kind === 'local') return syncOne(rt, where.target, args);
      if (args['dry-run']) return previewCells(rt, where.cells, where.options, syncVersion(args));
      if (requestedMark(args)) {
        if (where.cells.length !== 1) throw new InvalidInputError('--mark-applied / --mark-pending act on one database: add --cell NAME or --local-cell');
        const cell = where.cells[0] as (typeof where.cells)[number];
        return syncOne(rt, { registry: rt.registry, url: cellDatabaseUrl(cell), line: where.options.line, label: `cell '${cellLabel(cell)}'`, config: where.options.config }, args);
      }
      const outcomes = await syncCells(where.cells, { ...where.options, signal: rt.interruptible() }, syncVersion(args));
      if (rt.interrupted) {
        // One line: what this run applied, and that nothing is half done (main exits 130/143).
        // (A cell stopped between migrations reports no result: its applied ones show in the notices above.)
        const failed = outcomes.filter((o) => !o.ok && !(o.error instanceof InterruptedError)).map((o) => cellLabel(o.cell));
        rt.output.notice(
          `stopped by ${rt.interrupted}: no migration left half done on ${outcomes.length} cell${outcomes.length === 1 ? '' : 's'} (the migrations applied are listed above)${failed.length ? ` (failed: ${failed.join(', ')})` : ''}; it is safe to run 'cellsdb db sync' again`,
        );
        return;
      }
      printCellSync(rt, outcomes);
      throwIfAnyCellFailed(outcomes);
    },
  } satisfies LeafCommand<SyncArgs & CellScopeArgs>;
}

function versionCommand(rt: Runtime) {
  return {
    command: 'version',
    describe: 'Print the cell schema version of cell0 and every mapped cell',
    builder: (y: Argv<GlobalArgs>) => scopeOptions(y),
    run: async (args: CellScopeArgs) => {
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
        rt.output.table(['Cell', 'Version', 'Head'], printableRows(outcomes.map((o) => (o.ok ? [cellLabel(o.cell), o.value.current ?? 'none', o.value.head] : [cellLabel(o.cell), `FAILED: ${o.error.message}`, '']))));
      }
      throwIfAnyCellFailed(outcomes);
    },
  } satisfies LeafCommand<CellScopeArgs>;
}

function statusCommand(rt: Runtime) {
  return {
    command: 'status',
    describe: 'List applied and pending cell migrations, per cell',
    builder: (y: Argv<GlobalArgs>) => scopeOptions(y),
    run: async (args: CellScopeArgs) => {
      const where = await scope(rt, args);
      if (where.kind === 'local') return statusOne(rt, where.target);
      const outcomes = await statusOfCells(where.cells, where.options);
      if (rt.output.json) {
        rt.output.data(outcomes.map((o) => ({ cell: o.cell.name, uuid: o.cell.uuid, ...(o.ok ? { status: o.value } : { error: o.error.message }) })));
      } else {
        rt.output.table(
          ['Cell', 'Current', 'Pending', 'Problems'],
          printableRows(
            outcomes.map((o) =>
              o.ok
                ? [cellLabel(o.cell), o.value.current ?? 'none', o.value.migrations.filter((m) => m.state === 'pending').map((m) => m.name).join(', '), o.value.problems.map((p) => p.message).join('; ')]
                : [cellLabel(o.cell), `FAILED: ${o.error.message}`, '', ''],
            ),
          ),
        );
      }
      throwIfAnyCellFailed(outcomes);
      return outcomes.some((o) => o.ok && o.value.problems.length > 0) ? 1 : 0;
    },
  } satisfies LeafCommand<CellScopeArgs>;
}

/** `cellsdb db …`: the cell databases' migration line, on cell0 and every mapped cell. */
export function dbCommand(rt: Runtime) {
  return commandGroup(rt, {
    command: 'db <command>',
    describe: 'The cell databases: sync, version, status, online_data_migrations (cell0 first, then every mapped cell)',
    subcommands: [syncCommand, versionCommand, statusCommand, onlineDataMigrationsCommand, cellBaselineCommand, resolveComputeNodeCommand],
  });
}
