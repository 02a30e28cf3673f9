import type { Argv } from 'yargs';
import { cellDatabaseUrl, cellLabel, cellsOfShard, createFailpoints, describeShard, escapeControl, InvalidInputError, LINES, lineStatus, MOVER_DEFAULTS, MoverExit, MOVERS, type PaceSummary, parseShard, printableRows, quoted, requireLineAtHead, requireOwnDatabase, runOnlineDataMigrations, selectCells, type RunnerOptions, type RunReport } from '../../index.js';
import { checkLogFile, openBatchLog } from '../batch-log.js';
import { localTarget } from './line-commands.js';
import type { LeafCommand } from '../command.js';
import { ProgressDisplay, type ProgressEnd } from '../progress.js';
import type { GlobalArgs, Runtime } from '../runtime.js';

/** Movers that start their adaptive batches elsewhere, for the help text: " (500 for …)". */
const OWN_FIRST_SIZES = MOVERS.filter((m) => m.firstBatchSize !== undefined)
  .map((m) => ` (${m.firstBatchSize} for ${m.name})`)
  .join('');

/** Seconds between progress summary lines when stderr is not a terminal (`--progress-interval`). */
const DEFAULT_PROGRESS_INTERVAL_S = 10;

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
  readonly 'log-batches'?: boolean | undefined;
  readonly 'progress-interval'?: string | undefined;
}

/** `--progress-interval`: seconds, 0 or more (fractions allowed). */
function interval(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value)) throw new InvalidInputError(`Must supply a number of seconds (0 or more) for --progress-interval, got '${value}'`);
  return Number(value);
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
 * defaults), where its batch log goes and how its progress shows. The runtime supplies the
 * registry, the movers, the statement timeout, `--concurrency` and the interrupt signal.
 */
export type MoverRun = Omit<RunnerOptions, 'registry' | 'movers' | 'statementTimeoutMs' | 'concurrency' | 'estimateFirst' | 'failpoints' | 'events' | 'maxImpact' | 'maxLoad' | 'criticalLoad' | 'signal'> & {
  readonly logFile?: string | undefined;
  readonly logFormat: 'text' | 'json';
  /** Per-batch lines on stderr too (without `--log-file` they go nowhere). */
  readonly logBatches?: boolean | undefined;
  /** Not a terminal: seconds between progress summary lines (0: after every batch). @default 10 */
  readonly progressIntervalSeconds?: number | undefined;
};

/** The pace in words for the progress display; undefined at full speed. */
function paceWords(summary: PaceSummary): string | undefined {
  if (summary.state === 'full') return undefined;
  const why = summary.reason ?? 'over the impact budget';
  if (summary.state === 'throttled') return `yielding to live traffic: throttled to ${summary.concurrency} cell(s) at once (${why})`;
  if (summary.state === 'paused') return `yielding to live traffic: paused (${why})`;
  return `stopping: ${why}`;
}

/** The one line an interrupted run ends with: what it did, and that running again is safe. */
export function interruptedLine(signal: string, report: RunReport): string {
  const migrated = report.totals.reduce((n, t) => n + t.done, 0);
  const per = report.totals.map((t) => `${t.name} ${t.done}`).join(', ');
  return `Stopped by ${signal}: ${migrated} rows migrated this run (${per || 'no mover ran'}); no batch was left half done: it is safe to run 'cellsdb db online_data_migrations' again`;
}

/**
 * Runs the movers with a progress display (a live frame on a terminal, summary lines elsewhere),
 * the batch log, and the printed report, whose `exitCode` is the command's. On SIGINT or SIGTERM no
 * new batch starts, and the run ends with one line saying what it did (main exits 130 or 143).
 * Shared by `db online_data_migrations` and `demo`.
 */
export async function runMovers(rt: Runtime, run: MoverRun): Promise<RunReport> {
  const { logFile, logFormat, logBatches, progressIntervalSeconds, ...options } = run;
  const config = await rt.config();
  const stderr = (t: string) => void (process.stderr.destroyed || process.stderr.write(t));
  const tty = process.stderr.isTTY === true;
  // A live frame on a terminal (not under --json); summary lines on a pipe or a file.
  const display = run.dryRun || (tty && rt.output.json) ? undefined : new ProgressDisplay(
    { write: stderr, tty, columns: () => process.stderr.columns },
    { intervalMs: (progressIntervalSeconds ?? DEFAULT_PROGRESS_INTERVAL_S) * 1000 },
  );
  const unhook = display && rt.signals?.onStopAtOnce(() => display.restoreTerminal());
  const notice = (text: string) => (display && tty ? display.log(escapeControl(text)) : rt.output.notice(text));
  // The per-batch log: the file, or stderr (through the display) when asked for; else nowhere.
  const log = logFile || logBatches ? openBatchLog({ file: logFile, format: logFormat, stderr: (t) => (display && tty ? display.log(t) : stderr(t)) }) : undefined;
  let paceState = 'full';
  let end: ProgressEnd = 'failed';
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
      estimateFirst: display !== undefined,
      failpoints: createFailpoints(config.failpoint),
      signal: rt.interruptible(),
      events: {
        start: (settings) => {
          if (settings.maxCount !== undefined || rt.output.json || settings.dryRun) return;
          notice(
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
          log?.note(text, { event: 'pace', ...summary });
          display?.state(paceWords(summary));
          // Above the progress, only the changes of state (the reasons change with every step of the controller).
          if (summary.state !== paceState && !rt.output.json) notice(text);
          paceState = summary.state;
        },
        estimated: (mover, remaining) => display?.estimated(mover, remaining),
        batch: (line) => {
          if (run.dryRun) return;
          display?.batch(line.mover, line.done, line.ms);
          log?.batch(line);
        },
        retry: (event) => log?.note(`batch of ${event.count} rows for ${event.mover} on cell '${event.cell}' hit a lock; retrying smaller: ${event.error}`, event),
      },
    });
    end = rt.interrupted ? 'interrupted' : options.maxCount !== undefined ? 'max-count' : 'finished';
    display?.stop(end);
    if (rt.interrupted) {
      if (rt.output.json) rt.output.data({ interrupted: rt.interrupted, migrations: report.totals.map((t) => ({ name: t.name, total_needed: t.found, completed: t.done, blocked: t.blocked })), errors: report.errors });
      rt.output.notice(interruptedLine(rt.interrupted, report));
      return report;
    }
    print(rt, report);
    return report;
  } finally {
    display?.stop(end);
    unhook?.();
    await log?.close();
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
        .option('max-count', { type: 'string', describe: 'Migrate at most N rows in this run (one batch, the budget shared by the movers in order), then exit: 1 = more to do, run again' })
        .option('batch-size', { type: 'string', describe: 'Rows per batch, fixed [default: adaptive, see --batch-ms]' })
        .option('batch-ms', {
          type: 'string',
          describe: `Without --batch-size, size batches to take about this many milliseconds, starting at ${MOVER_DEFAULTS.firstBatchSize} rows${OWN_FIRST_SIZES}: the longest a batch holds its row locks [default: ${MOVER_DEFAULTS.batchTargetMs}]`,
        })
        .option('dry-run', { type: 'boolean', describe: 'Count what each mover would do per cell; write nothing' })
        .option('log-file', { type: 'string', describe: 'Append one line per batch to this file' })
        .option('log-batches', { type: 'boolean', describe: 'Print one line per batch on stderr too (above the progress on a terminal)' })
        .option('progress-interval', { type: 'string', describe: `When stderr is not a terminal, seconds between progress summary lines (0: after every batch) [default: ${DEFAULT_PROGRESS_INTERVAL_S}]` })
        .option('log-format', { type: 'string', choices: ['text', 'json'], describe: 'Batch log format; json needs --log-file (stderr carries text for people) [default: text]' })
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
      const progressIntervalSeconds = interval(args['progress-interval']);
      const shard = args.shard === undefined ? undefined : parseShard(args.shard, rt.resolved?.jobCompletionIndex);
      // JSON log lines never share stderr with the notices and progress lines for people (#13).
      if (args['log-format'] === 'json' && !args['log-file']) throw new InvalidInputError('--log-format json writes JSON lines to a file, never among the notices on stderr: give --log-file FILE');
      await checkLogFile(args['log-file']);
      const api = await rt.apiDatabase();
      const mapped = await selectCells(api, args.cell ?? []);
      if (mapped.length === 0) throw new InvalidInputError("no cells are mapped: run 'cellsdb cell_v2 map_cell0' and 'cellsdb cell_v2 create_cell' first");
      const cells = shard ? cellsOfShard(mapped, shard) : mapped;
      if (shard && !rt.output.json) rt.output.notice(`Shard ${describeShard(shard)}: ${cells.length} of the ${mapped.length} cells (${cells.map((c) => quoted(cellLabel(c))).join(', ') || 'none: nothing to do'})`);
      // Issue 15: on a database cellsdb did not build the movers would find nothing and say "complete".
      const refusal = 'The online data migrations were not run';
      await requireOwnDatabase(api, LINES.api, 'API database', refusal, MoverExit.errors);
      requireLineAtHead(await lineStatus(await localTarget(rt, 'api')), refusal, MoverExit.errors);
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
        logBatches: args['log-batches'] === true,
        progressIntervalSeconds,
      });
      return report.exitCode;
    },
  } satisfies LeafCommand<Args>;
}
