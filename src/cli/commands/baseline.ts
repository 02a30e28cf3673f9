// `api_db baseline VERSION` and `db baseline VERSION`: adopt databases cellsdb did not build
// (src/migrate/baseline.ts; docs/adoption.md). Exit 0 recorded (or already recorded), 1 failed,
// 2 a database does not match the line at VERSION (the difference is printed; nothing recorded).
import type { Argv } from 'yargs';
import {
  type BaselineResult,
  BaselineMismatchError,
  baselineLine,
  type CellOutcome,
  cellDatabaseUrl,
  cellLabel,
  cellScope,
  CellsdbError,
  type LineTarget,
  displayUrl,
  scatterGather,
} from '../../index.js';
import type { LeafCommand } from '../command.js';
import type { GlobalArgs, Runtime } from '../runtime.js';
import { lineFor, localTarget } from './line-commands.js';

interface BaselineArgs extends GlobalArgs {
  /** The positional VERSION (not `version`: that key is yargs' global --version flag). */
  readonly VERSION: string;
  readonly 'dry-run'?: boolean | undefined;
  readonly 'local-cell'?: boolean | undefined;
  readonly cell?: string[] | undefined;
}

function baselineOptions<T>(y: Argv<T>): Argv<T & BaselineArgs> {
  return y
    .positional('VERSION', { type: 'string', demandOption: true, describe: 'The migration (name or number) whose schema the database already has' })
    .option('dry-run', { type: 'boolean', describe: 'Compare and print what would be recorded; record nothing' }) as unknown as Argv<T & BaselineArgs>;
}

/** One database's result, for people. */
function describe(label: string, database: string, r: BaselineResult): string[] {
  const head = r.already
    ? `${label} (${database}): already baselined at ${r.version}; nothing to do`
    : `${label} (${database}): ${r.dryRun ? 'would record' : 'recorded'} ${r.recorded.length} migration${r.recorded.length === 1 ? '' : 's'} as applied, up to ${r.version}`;
  return [head, ...r.allowed.map((a) => `  allowed: ${a.item.text}: ${a.reason}`)];
}

const json = (database: string, r: BaselineResult) => ({ database, version: r.version, recorded: r.recorded, already: r.already, dryRun: r.dryRun, allowed: r.allowed.map((a) => ({ ...a.item, reason: a.reason })) });

async function baselineOne(rt: Runtime, target: LineTarget, args: BaselineArgs): Promise<number> {
  const config = await rt.config();
  const result = await baselineLine({ ...target, config }, String(args.VERSION), { dryRun: args['dry-run'], onProgress: (t) => rt.output.notice(t) });
  if (rt.output.json) rt.output.data({ line: target.line.id, ...json(target.url.masked, result) });
  else for (const l of describe(target.label, target.url.masked, result)) rt.output.line(l);
  return 0;
}

/** `api_db baseline VERSION`. */
export function apiBaselineCommand(rt: Runtime) {
  return {
    command: 'baseline <VERSION>',
    describe: 'Adopt an API database cellsdb did not build: check its schema matches VERSION, then record the migrations up to VERSION as applied',
    builder: (y: Argv<GlobalArgs>) => baselineOptions(y),
    run: async (args: BaselineArgs) => baselineOne(rt, await localTarget(rt, 'api'), args),
  } satisfies LeafCommand<BaselineArgs>;
}

/** `db baseline VERSION`: cell0 and every mapped cell (or `--cell`, `--local-cell`). */
export function cellBaselineCommand(rt: Runtime) {
  return {
    command: 'baseline <VERSION>',
    describe: 'Adopt cell databases cellsdb did not build: check each schema matches VERSION, then record the migrations up to VERSION as applied',
    builder: (y: Argv<GlobalArgs>) =>
      baselineOptions(y)
        .option('local-cell', { type: 'boolean', describe: 'Only the cell database given by --db, not the mapped cells' })
        .option('cell', { type: 'string', array: true, describe: 'Only this mapped cell (name or uuid); repeatable' })
        .conflicts('local-cell', 'cell') as unknown as Argv<BaselineArgs>,
    run: async (args: BaselineArgs) => {
      const config = await rt.config();
      const where = await cellScope(rt.registry, config, { localCell: args['local-cell'], cells: args.cell });
      if (where.kind === 'local') return baselineOne(rt, await localTarget(rt, 'cell'), args);
      const line = lineFor('cell', config);
      const replays = new Map();
      const outcomes: CellOutcome<BaselineResult>[] = await scatterGather(
        where.cells,
        (cell) =>
          baselineLine({ registry: rt.registry, url: cellDatabaseUrl(cell), line, label: `cell '${cellLabel(cell)}'`, config }, String(args.VERSION), {
            dryRun: args['dry-run'],
            replays,
            onProgress: (t) => rt.output.notice(t),
          }),
        { concurrency: config.concurrency },
      );
      if (rt.output.json) {
        rt.output.data(outcomes.map((o) => ({ cell: o.cell.name, uuid: o.cell.uuid, ...(o.ok ? json(displayUrl(o.cell.databaseConnection), o.value) : { database: displayUrl(o.cell.databaseConnection), error: o.error.message }) })));
      } else {
        for (const o of outcomes) {
          if (o.ok) for (const l of describe(`cell '${cellLabel(o.cell)}'`, displayUrl(o.cell.databaseConnection), o.value)) rt.output.line(l);
          else rt.output.line(`cell '${cellLabel(o.cell)}' (${displayUrl(o.cell.databaseConnection)}): FAILED: ${o.error.message.replace(/^cell '[^']*' \([^)]*\) /, '')}`);
        }
      }
      const failed = outcomes.filter((o) => !o.ok);
      if (failed.length === 0) return 0;
      const mismatch = failed.every((o) => !o.ok && o.error instanceof BaselineMismatchError);
      const first = failed[0];
      const message = `${failed.length} of ${outcomes.length} cells were not baselined${first && !first.ok ? `; first: ${first.error.message}` : ''}`;
      throw new CellsdbError(message, { exitCode: mismatch ? 2 : 1 });
    },
  } satisfies LeafCommand<BaselineArgs>;
}
