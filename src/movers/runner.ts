import type { CellMappingRow } from '../cells/mappings.js';
import { scatterGatherOver, targetCell } from '../cells/targeting.js';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import { BatchSizer } from './batch-sizer.js';
import { Budget } from './budget.js';
import { type BatchEvent, moverApplies, type RetryEvent, runMoverOnCell } from './cell-run.js';
import { FULL_SPEED, type PaceController, yieldToTraffic } from './pace.js';
import { RunTally, type RunReport } from './report.js';
import { type RunSettings, type RunSettingsInput, resolveRunSettings } from './settings.js';
import { otherSessionsProbe, TrafficGate } from './traffic.js';
import type { Mover, MoverContext } from './types.js';

/** What the runner reports as it goes (log lines, progress bars). */
export interface RunnerEvents {
  /** The run starts, with its settings (every default applied). */
  start?(settings: RunSettings): void;
  /** One line per batch: cell, mover, key range, rows, milliseconds. */
  batch?(event: BatchEvent): void;
  /** Other clients appeared on (busy) or left (not busy) the servers the run uses; how yielding batches go. */
  traffic?(event: { busy: boolean; sessions: number; batchTargetMs: number; niceRatio: number }): void;
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
}

/** One mover on one cell, with the sizer its batches keep across passes. */
interface Lane {
  readonly cell: CellMappingRow;
  readonly ctx: MoverContext;
  readonly sizer: BatchSizer;
}

/** The pace controller for a run: yielding to other clients of the servers `databases` use, or full speed. */
function paceFor(settings: RunSettings, options: RunnerOptions, databases: readonly DatabaseHandle[]): PaceController {
  const yielding = settings.yieldToTraffic;
  if (!yielding || settings.dryRun) return FULL_SPEED;
  const probe = otherSessionsProbe(databases, () => options.registry.ownSessionIds());
  const gate = new TrafficGate(probe, (busy, sessions) => options.events?.traffic?.({ busy, sessions, ...yielding }));
  return yieldToTraffic(gate, yielding);
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
  const concurrency = { concurrency: settings.concurrency };
  const tally = new RunTally();

  if (settings.dryRun || settings.estimateFirst) {
    for (const { mover, lanes } of plans) {
      const outcomes = await scatterGatherOver(lanes, async ({ ctx }) => ((await moverApplies(mover, ctx)) ? mover.estimate(ctx) : { remaining: 0, blocked: 0 }), concurrency);
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
    const parts = { budget, pace, retries: settings.retries, onBatch: options.events?.batch, onRetry: options.events?.retry };
    const outcomes = await scatterGatherOver(lanes, (lane) => runMoverOnCell(mover, lane.ctx, { ...parts, sizer: lane.sizer }), concurrency);
    let done = 0;
    for (const o of outcomes) {
      if (o.ok) {
        tally.record(mover.name, o.cell, o.value);
        done += o.value.done;
      } else {
        tally.recordError(mover.name, o.cell, o.error.message);
      }
    }
    return done;
  };

  let migrated = 0;
  const { maxCount } = settings;
  if (!settings.dryRun && maxCount !== undefined) {
    for (const plan of plans) {
      if (migrated >= maxCount) break;
      migrated += await pass(plan, new Budget(maxCount - migrated, contexts.length));
    }
  } else if (!settings.dryRun) {
    // Passes until one does no work: a later mover may unblock an earlier one.
    for (;;) {
      let passDone = 0;
      for (const plan of plans) passDone += await pass(plan, undefined);
      if (passDone === 0) break;
    }
  }
  return tally.report(
    options.movers.map((m) => m.name),
    { dryRun: settings.dryRun, limited: maxCount !== undefined, migrated },
  );
}
