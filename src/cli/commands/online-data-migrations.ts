import cliProgress from 'cli-progress';
import type { Argv } from 'yargs';
import { cellDatabaseUrl, cellLabel, cellsOfShard, createFailpoints, describeShard, escapeControl, InvalidInputError, LINES, MOVER_DEFAULTS, MoverExit, MOVERS, parseShard, printableRows, quoted, requireLineAtHead, requireOwnDatabase, runOnlineDataMigrations, selectCells, type RunnerOptions, type RunReport } from '../../index.js';
import { checkLogFile, openBatchLog } from '../batch-log.js';
import type { LeafCommand } from '../command.js';
import type { GlobalArgs, Runtime } from '../runtime.js';

/** Movers that start their adaptive batches elsewhere, for the help text: " (500 for …)". */
const OWN_FIRST_SIZES = MOVERS.filter((m) => m.firstBatchSize !== undefined)
  .map((m) => ` (${m.firstBatchSize} for ${m.name})`)
  .join('');

interface Args extends GlobalArgs {
  readonly 'max-count'?: string | undefined;
  readonly 'batch-size'?: string | undefined;
  readonly 'batch-ms'?: string | undefined;
  readonly 'dry-run'?: boolean | undefined;
  readonly 'log-file'?: string | undefined;
  readonly 'log-format'?: string | undefined;
  readonly cell?: string[] | undefined;
  readonly shard?: string | undefined;
  readonly 'lock-wait'?: string | undefined;
  readonly yield?: boolean | undefined;
}

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1) {
    throw new InvalidInputError(`Must supply a positive whole number for --${flag}, got '${value}'`);
  }
  return Number(value);
}

/** Nova's lines, table and exit message; JSON with --json. */
function print(rt: Runtime, report: RunReport): void {
  if (rt.output.json) {
    rt.output.data({
      dry_run: report.dryRun,
      exit_code: report.exitCode,
      migrations: report.totals.map((t) => ({ name: t.name, total_needed: t.found, completed: t.done, blocked: t.blocked })),
      cells: report.cells,
      blocked: report.blocked,
      errors: report.errors,
      ...(report.pace ? { pace: report.pace } : {}),
    });
    return;
  }
  for (const c of report.cells) {
    if (c.found > 0 || c.blocked.length > 0) {
      rt.output.line(`${c.found + c.blocked.length} rows matched query ${c.mover} in cell ${quoted(c.cell)}, ${report.dryRun ? 'would migrate' : `${c.done} migrated`}`);
    }
  }
  rt.output.table(['Migration', 'Total Needed', 'Completed', 'Blocked'], report.totals.map((t) => [t.name, t.found, t.done, t.blocked]));
  if (report.blocked.length > 0) {
    rt.output.line('Rows only an operator can unblock:');
    rt.output.table(['Cell', 'Migration', 'Row id', 'Reason'], printableRows(report.blocked.map((b) => [b.cell, b.mover, b.id, b.reason])));
  }
  for (const e of report.errors) rt.output.notice(`Error attempting to run ${e.mover} on cell ${quoted(e.cell)}: ${escapeControl(e.message)}`);
  if (report.exitCode === MoverExit.errors) rt.output.notice('Some migrations failed unexpectedly. Check the messages above and the log for details.');
  if (report.exitCode === MoverExit.blocked) rt.output.notice('Only blocked rows remain: resolve them (see the table above), then run again.');
}

/**
 * A run of the movers as the CLI starts it: what it runs on and how (the library applies the
 * defaults), and where its batch log goes. The runtime supplies the registry, the movers, the
 * statement timeout and `--concurrency`.
 */
export type MoverRun = Omit<RunnerOptions, 'registry' | 'movers' | 'statementTimeoutMs' | 'concurrency' | 'estimateFirst' | 'failpoints' | 'events' | 'maxImpact' | 'maxLoad' | 'criticalLoad'> & {
  readonly logFile?: string | undefined;
  readonly logFormat: 'text' | 'json';
};

/**
 * Runs the movers with a progress bar per mover on a terminal, the batch log, and the printed
 * report, whose `exitCode` is the command's. Shared by `db online_data_migrations` and `demo`.
 */
export async function runMovers(rt: Runtime, run: MoverRun): Promise<RunReport> {
  const { logFile, logFormat, ...options } = run;
  const config = await rt.config();
  const log = openBatchLog({ file: logFile, format: logFormat, stderr: (t) => void (process.stderr.destroyed || process.stderr.write(t)) });
  const showBars = !rt.output.json && !run.dryRun && process.stderr.isTTY === true;
  const bars = showBars
    ? new cliProgress.MultiBar(
        { stream: process.stderr, format: '{mover} [{bar}] {value}/{total} rows | {left} left | ETA {eta_formatted}', hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const barOf = new Map<string, { bar: cliProgress.SingleBar; done: number; total: number }>();
  let paceState = 'full';
  try {
    const report = await runOnlineDataMigrations({
      ...options,
      registry: rt.registry,
      movers: MOVERS,
      statementTimeoutMs: config.statementTimeoutMs,
      concurrency: config.concurrency,
      maxImpact: config.movers.maxImpact,
      maxLoad: config.movers.maxLoad,
      criticalLoad: config.movers.criticalLoad,
      estimateFirst: showBars,
      failpoints: createFailpoints(config.failpoint),
      events: {
        start: (settings) => {
          if (settings.maxCount !== undefined || rt.output.json || settings.dryRun) return;
          rt.output.notice(
            settings.batchSize === undefined
              ? `Running batches of about ${settings.batchTargetMs} ms (from ${MOVER_DEFAULTS.firstBatchSize} rows or a mover's own first size, adapting) until complete`
              : `Running batches of ${settings.batchSize} until complete`,
          );
        },
        pace: (summary) => {
          const text =
            summary.state === 'full'
              ? `movers back to full speed (${summary.concurrency} cells at once)`
              : `movers ${summary.state}: ${summary.reason ?? 'over the impact budget'}${summary.state === 'throttled' ? ` (${summary.concurrency} cell(s) at once, ${summary.rowsPerSecond} rows/s; --max-impact to change the budget, --no-yield to ignore it)` : ''}`;
          log.note(text, { event: 'pace', ...summary });
          // On stderr, only the changes of state (the reasons change with every step of the controller).
          if (summary.state !== paceState && !rt.output.json) rt.output.notice(text);
          paceState = summary.state;
        },
        estimated: (mover, remaining) => {
          if (bars) barOf.set(mover, { bar: bars.create(Math.max(remaining, 1), 0, { mover, left: remaining }), done: 0, total: remaining });
        },
        batch: (line) => {
          if (run.dryRun) return;
          const progress = barOf.get(line.mover);
          if (progress) {
            progress.done += line.done;
            progress.bar.update(progress.done, { left: Math.max(0, progress.total - progress.done) });
          }
          if (bars && !logFile) bars.log(`${line.cell} ${line.mover} keys (${line.afterKey},${line.lastKey}] rows ${line.found} done ${line.done} ${line.ms} ms\n`);
          else log.batch(line);
        },
        retry: (event) => log.note(`batch of ${event.count} rows for ${event.mover} on cell '${event.cell}' hit a lock; retrying smaller: ${event.error}`, event),
      },
    });
    bars?.stop();
    print(rt, report);
    return report;
  } finally {
    bars?.stop();
    await log.close();
  }
}

/**
 * `db online_data_migrations [--max-count N]`: exit 0 nothing (more) to do, 1 rows migrated (run
 * again), 2 errors and no progress, 3 only blocked rows remain, 127 invalid input.
 */
export function onlineDataMigrationsCommand(rt: Runtime) {
  return {
    command: 'online_data_migrations',
    describe: 'Run the online data migrations (movers) on every mapped cell',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('max-count', { type: 'string', describe: 'Migrate at most N rows in one batch, then exit (1 = run again)' })
        .option('batch-size', { type: 'string', describe: 'Rows per batch, fixed [default: adaptive, see --batch-ms]' })
        .option('batch-ms', {
          type: 'string',
          describe: `Without --batch-size, size batches to take about this many milliseconds, starting at ${MOVER_DEFAULTS.firstBatchSize} rows${OWN_FIRST_SIZES}: the longest a batch holds its row locks [default: ${MOVER_DEFAULTS.batchTargetMs}]`,
        })
        .option('dry-run', { type: 'boolean', describe: 'Count what each mover would do per cell; write nothing' })
        .option('log-file', { type: 'string', describe: 'Append one line per batch to this file instead of stderr' })
        .option('log-format', { type: 'string', choices: ['text', 'json'], describe: 'Batch log format [default: text]' })
        .option('lock-wait', { type: 'string', describe: `Seconds a batch may wait for a row lock before it is retried smaller [default: ${MOVER_DEFAULTS.lockWaitMs / 1000}]` })
        .option('cell', { type: 'string', array: true, describe: 'Only this mapped cell (name or uuid); repeatable' })
        .option('shard', { type: 'string', describe: "I/N: only this runner's share of the cells (0-based I of N runners, by a hash of the cell uuid); N alone takes I from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)" })
        .option('yield', {
          type: 'boolean',
          default: true,
          describe: "Throttle the movers on their measured impact on each server (an impact probe against its idle baseline, lock waits they cause; see --max-impact); --no-yield runs at full speed regardless (--max-load and --critical-load still apply)",
        }) as unknown as Argv<Args>,
    run: async (args: Args) => {
      const maxCount = positiveInteger('max-count', args['max-count']);
      const batchSize = positiveInteger('batch-size', args['batch-size']);
      const batchTargetMs = positiveInteger('batch-ms', args['batch-ms']);
      if (batchSize !== undefined && batchTargetMs !== undefined) throw new InvalidInputError('--batch-size and --batch-ms exclude each other: a fixed size, or a target duration');
      const lockWaitSeconds = positiveInteger('lock-wait', args['lock-wait']);
      if (args.yield === false && rt.resolved?.sources.maxImpact !== undefined) {
        throw new InvalidInputError('--max-impact sets the budget of yielding: it excludes --no-yield');
      }
      const shard = args.shard === undefined ? undefined : parseShard(args.shard, rt.resolved?.jobCompletionIndex);
      await checkLogFile(args['log-file']);
      const api = await rt.apiDatabase();
      const mapped = await selectCells(api, args.cell ?? []);
      if (mapped.length === 0) throw new InvalidInputError("no cells are mapped: run 'cellsdb cell_v2 map_cell0' and 'cellsdb cell_v2 create_cell' first");
      const cells = shard ? cellsOfShard(mapped, shard) : mapped;
      if (shard && !rt.output.json) rt.output.notice(`Shard ${describeShard(shard)}: ${cells.length} of the ${mapped.length} cells (${cells.map((c) => quoted(cellLabel(c))).join(', ') || 'none: nothing to do'})`);
      // Issue 15: on a database cellsdb did not build the movers would find nothing and say "complete".
      const refusal = 'The online data migrations were not run';
      await requireOwnDatabase(api, LINES.api, 'API database', refusal, MoverExit.errors);
      await requireLineAtHead(api, LINES.api, 'API database', refusal, MoverExit.errors);
      for (const cell of cells) {
        const handle = await rt.registry.connect(cellDatabaseUrl(cell));
        await requireOwnDatabase(handle, LINES.cell, `cell '${cellLabel(cell)}'`, refusal, MoverExit.errors);
      }
      const report = await runMovers(rt, {
        apiDb: api,
        cells,
        maxCount,
        batchSize,
        batchTargetMs,
        dryRun: args['dry-run'] === true,
        lockWaitMs: lockWaitSeconds === undefined ? undefined : lockWaitSeconds * 1000,
        yieldToTraffic: args.yield !== false,
        logFile: args['log-file'],
        logFormat: args['log-format'] === 'json' ? 'json' : 'text',
      });
      return report.exitCode;
    },
  } satisfies LeafCommand<Args>;
}
