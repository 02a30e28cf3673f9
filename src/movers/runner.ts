import type { CellMappingRow } from '../cells/mappings.js';
import { scatterGatherOver, targetCell } from '../cells/targeting.js';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import { BatchSizer } from './batch-sizer.js';
import { Budget } from './budget.js';
import { type BatchEvent, moverApplies, type RetryEvent, runMoverOnCell } from './cell-run.js';
import { ImpactController, type PaceSummary } from './impact-controller.js';
import { ImpactMonitor } from './impact-monitor.js';
import { CriticalLoadError, FULL_SPEED, ImpactPace, type PaceController } from './pace.js';
import { RunTally, type RunReport } from './report.js';
import { MOVER_DEFAULTS, type RunSettings, type RunSettingsInput, resolveRunSettings } from './settings.js';
import type { Mover, MoverContext } from './types.js';

/** What the runner reports as it goes (log lines, progress bars). */
export interface RunnerEvents {
  /** The run starts, with its settings (every default applied). */
  start?(settings: RunSettings): void;
  /** One line per batch: cell, mover, key range, rows, milliseconds. */
  batch?(event: BatchEvent): void;
  /**
   * The impact controller's state changed (full speed, throttled, paused, stopped) or its reason
   * did: what it does, why, and the current rate (the progress display, the log).
   */
  pace?(summary: PaceSummary): void;
  /** A batch hit a lock timeout or deadlock and is retried smaller. */
  retry?(event: RetryEvent): void;
  /** Rows left per mover before the run, summed over cells (progress bar totals). */
  estimated?(mover: string, remaining: number): void;
}

/** What `runOnlineDataMigrations` works on, and how (see {@link RunSettingsInput} for the defaults). */
export interface RunnerOptions extends RunSettingsInput {
  readonly registry: ConnectionRegistry;
  readonly apiDb: DatabaseHandle;
  readonly cells: readonly CellMappingRow[];
  /** In the order they run (`MOVERS`). */
  readonly movers: readonly Mover[];
  readonly events?: RunnerEvents | undefined;
  /**
   * Aborted: start no new batch (the ones in flight finish or roll back), and report what was done
   * (SIGINT, SIGTERM). @default never
   */
  readonly signal?: AbortSignal | undefined;
}

/** One mover on one cell, with the sizer its batches keep across passes. */
interface Lane {
  readonly cell: CellMappingRow;
  readonly ctx: MoverContext;
  readonly sizer: BatchSizer;
}

/** The pace controller for a run: driven by the measured impact on the servers `databases` use, or full speed. */
function paceFor(settings: RunSettings, options: RunnerOptions, databases: readonly DatabaseHandle[]): PaceController {
  const impact = settings.impact;
  if (!impact) return FULL_SPEED;
  const controller = new ImpactController({
    maxConcurrency: settings.concurrency,
    batchTargetMs: settings.batchTargetMs,
    minRows: MOVER_DEFAULTS.minThrottledRows,
    budget: impact.budget,
    maxLoad: impact.maxLoad,
    criticalLoad: impact.criticalLoad,
  });
  const monitor = new ImpactMonitor(options.registry, databases, () => options.registry.ownSessionIds(), { everyMs: impact.sampleEveryMs });
  return new ImpactPace({ controller, monitor, onChange: (summary) => options.events?.pace?.(summary), signal: options.signal });
}

/**
 * `online_data_migrations`: runs every mover over every cell (`concurrency` cells at once, a failing
 * cell isolated), with Nova's contract. With `maxCount`: exactly one batch, its budget shared across
 * movers in order (a later mover gets what is left, and is not called once it is spent). Without:
 * passes of batches per cell (fixed `batchSize`, else adaptive) until a whole pass does no work.
 * Exit codes: 0 nothing (more) to do, 1 rows migrated (run again), 2 errors and no progress, 3 only
 * blocked rows remain.
 */
export async function runOnlineDataMigrations(options: RunnerOptions): Promise<RunReport> {
  const settings = resolveRunSettings(options);
  options.events?.start?.(settings);
  const contexts = options.cells.map((cell): MoverContext => ({ cell, cellDb: targetCell(options.registry, cell), apiDb: options.apiDb, timeouts: settings.timeouts, failpoint: settings.failpoint }));
  const plans = options.movers.map((mover) => ({
    mover,
    lanes: contexts.map((ctx): Lane => ({ cell: ctx.cell, ctx, sizer: new BatchSizer(settings.batchSize, settings.batchTargetMs, mover.firstBatchSize) })),
  }));
  const pace = paceFor(settings, options, [options.apiDb, ...contexts.map((c) => c.cellDb)]);
  /** Set once `--critical-load` stops the run. */
  let critical: CriticalLoadError | undefined;
  const concurrency = { concurrency: settings.concurrency };
  const tally = new RunTally();

  if (settings.dryRun || settings.estimateFirst) {
    for (const { mover, lanes } of plans) {
      if (options.signal?.aborted) break;
      // A progress bar needs only the rows left; a dry run reports the blocked ones too.
      const wanted = { blocked: settings.dryRun };
      const outcomes = await scatterGatherOver(lanes, async ({ ctx }) => ((await moverApplies(mover, ctx)) ? mover.estimate(ctx, wanted) : { remaining: 0, blocked: 0 }), concurrency);
      options.events?.estimated?.(mover.name, outcomes.reduce((n, o) => n + (o.ok ? o.value.remaining : 0), 0));
      if (!settings.dryRun) continue;
      tally.calling(mover.name);
      for (const o of outcomes) {
        if (o.ok) tally.recordEstimate(mover.name, o.cell, o.value);
        else tally.recordError(mover.name, o.cell, o.error.message);
      }
    }
  }

  /** One pass of a mover over its cells; returns the rows it migrated. */
  const pass = async ({ mover, lanes }: (typeof plans)[number], budget: Budget | undefined): Promise<number> => {
    tally.calling(mover.name);
    const parts = { budget, pace, retries: settings.retries, onBatch: options.events?.batch, onRetry: options.events?.retry, signal: options.signal };
    const outcomes = await scatterGatherOver(lanes, (lane) => runMoverOnCell(mover, lane.ctx, { ...parts, sizer: lane.sizer }), concurrency);
    let done = 0;
    for (const o of outcomes) {
      if (o.ok) {
        tally.record(mover.name, o.cell, o.value);
        done += o.value.done;
      } else if (o.error instanceof CriticalLoadError) {
        // Not the cell's failure: the whole run stops (what the cell did before is kept).
        critical = o.error;
      } else {
        tally.recordError(mover.name, o.cell, o.error.message);
      }
    }
    return done;
  };

  let migrated = 0;
  const { maxCount } = settings;
  await pace.start?.();
  try {
    if (!settings.dryRun && maxCount !== undefined) {
      for (const plan of plans) {
        if (migrated >= maxCount || critical || options.signal?.aborted) break;
        migrated += await pass(plan, new Budget(maxCount - migrated, contexts.length));
      }
    } else if (!settings.dryRun) {
      // Passes until one does no work: a later mover may unblock an earlier one.
      for (;;) {
        let passDone = 0;
        for (const plan of plans) {
          if (critical || options.signal?.aborted) break;
          passDone += await pass(plan, undefined);
        }
        if (passDone === 0 || critical || options.signal?.aborted) break;
      }
    }
  } finally {
    await pace.stop?.();
  }
  if (critical) throw critical;
  const paceSummary = pace.summary?.();
  const report = tally.report(
    options.movers.map((m) => m.name),
    { dryRun: settings.dryRun, limited: maxCount !== undefined, migrated },
  );
  return paceSummary ? { ...report, pace: paceSummary } : report;
}
