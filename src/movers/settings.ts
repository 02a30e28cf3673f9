import { DEFAULTS } from '../config/defaults.js';
import type { StatementTimeouts } from '../db/dialect.js';
import { type Failpoint, NO_FAILPOINTS } from './failpoints.js';
import { type ImpactBudget, type LoadThreshold, parseImpactBudget } from './thresholds.js';

/**
 * The movers' own defaults, in one place, each applied once (by {@link resolveRunSettings}, or by
 * `BatchSizer` for the first batch size); the CLI's help quotes them. The settings every command
 * shares (`--concurrency`, `--max-impact`) take theirs from the configuration's `DEFAULTS`.
 */
export const MOVER_DEFAULTS = Object.freeze({
  /** Where adaptive batches start, unless a mover has its own first size: Nova's batch size. */
  firstBatchSize: 50,
  /** The duration adaptive batches aim at, in milliseconds: the longest a batch should hold its row locks. */
  batchTargetMs: 100,
  /** How long a batch's statement may wait for a row lock before the batch is retried smaller, in milliseconds. */
  lockWaitMs: 5000,
  /** Retries of a batch that hit a lock timeout or deadlock, each at half the size. */
  retries: 3,
  /** Throttled batches never shrink below this many rows (Nova's batch size): the movers rest instead. */
  minThrottledRows: 50,
});

/** The impact budget `--max-impact` gives by default (`DEFAULTS.maxImpact`). */
export const DEFAULT_IMPACT_BUDGET: ImpactBudget = parseImpactBudget(DEFAULTS.maxImpact, '--max-impact');

/** How a run goes: the options of `runOnlineDataMigrations` that tune it. */
export interface RunSettingsInput {
  /** One batch whose budget is shared by the movers in order (Nova's `--max-count`); unlimited when absent. */
  readonly maxCount?: number | undefined;
  /**
   * Rows per batch, fixed. When absent, batches are sized to take about `batchTargetMs` each
   * (see `BatchSizer`), starting at {@link MOVER_DEFAULTS}.firstBatchSize or the mover's own first
   * size; with `maxCount`, batches never exceed the budget.
   */
  readonly batchSize?: number | undefined;
  /** The duration adaptive batches aim at, in milliseconds. @default 100 */
  readonly batchTargetMs?: number | undefined;
  /** Cells worked on at once (the resolved `--concurrency`). @default DEFAULTS.concurrency (4) */
  readonly concurrency?: number | undefined;
  /** Count what each mover would do; write nothing. @default false */
  readonly dryRun?: boolean | undefined;
  /** How long a statement of a batch may wait for a row lock, in milliseconds. @default 5000 */
  readonly lockWaitMs?: number | undefined;
  /** How long one statement of a batch may run, in milliseconds (the resolved `--statement-timeout`). */
  readonly statementTimeoutMs: number;
  /** Retries of a batch that hit a lock timeout or deadlock, each at half the size. @default 3 */
  readonly retries?: number | undefined;
  /** Ask each mover for its remaining rows before starting (for progress bars). @default false */
  readonly estimateFirst?: boolean | undefined;
  /**
   * Yield to the live cloud on measured impact: a probe statement per server, timed on its own
   * connection against its idle baseline, and the lock waits the run causes drive the batches, the
   * cells worked at once and the rests (see `ImpactController`) toward `maxImpact`. `false`
   * (`--no-yield`): full speed whatever the servers feel (`maxLoad` and `criticalLoad` still apply).
   * @default true
   */
  readonly yieldToTraffic?: boolean | undefined;
  /** The impact budget (`--max-impact`). @default DEFAULTS.maxImpact ('3x') */
  readonly maxImpact?: ImpactBudget | undefined;
  /** Pause while any of these is over (`--max-load`). @default none */
  readonly maxLoad?: readonly LoadThreshold[] | undefined;
  /** Stop the run (exit 2) once any of these is over (`--critical-load`). @default none */
  readonly criticalLoad?: readonly LoadThreshold[] | undefined;
  /** Milliseconds between two impact samples of a server. @default 200 */
  readonly sampleEveryMs?: number | undefined;
  /** Crash-test failpoints (`createFailpoints`). @default NO_FAILPOINTS */
  readonly failpoints?: Failpoint | undefined;
}

/** How the run watches and spares the live cloud; undefined: it does not (full speed). */
export interface ImpactSettings {
  /** Undefined with `--no-yield`: only the thresholds apply. */
  readonly budget: ImpactBudget | undefined;
  readonly maxLoad: readonly LoadThreshold[];
  readonly criticalLoad: readonly LoadThreshold[];
  readonly sampleEveryMs: number;
}

/** A run's settings with every default applied. */
export interface RunSettings {
  readonly maxCount: number | undefined;
  readonly batchSize: number | undefined;
  readonly batchTargetMs: number;
  readonly concurrency: number;
  readonly dryRun: boolean;
  /** Per batch: how long a statement may wait for a lock and may run. */
  readonly timeouts: StatementTimeouts;
  readonly retries: number;
  readonly estimateFirst: boolean;
  /** Undefined: never throttle (`--no-yield` without thresholds, or a dry run). */
  readonly impact: ImpactSettings | undefined;
  readonly failpoint: Failpoint;
}

/** Applies the defaults of {@link MOVER_DEFAULTS} (and `DEFAULTS.concurrency`) to `input`. */
export function resolveRunSettings(input: RunSettingsInput): RunSettings {
  const yielding = input.yieldToTraffic ?? true;
  const d = MOVER_DEFAULTS;
  const maxLoad = Object.freeze([...(input.maxLoad ?? [])]);
  const criticalLoad = Object.freeze([...(input.criticalLoad ?? [])]);
  const dryRun = input.dryRun ?? false;
  const watch = !dryRun && (yielding || maxLoad.length > 0 || criticalLoad.length > 0);
  return Object.freeze({
    maxCount: input.maxCount,
    batchSize: input.batchSize,
    batchTargetMs: input.batchTargetMs ?? d.batchTargetMs,
    concurrency: input.concurrency ?? DEFAULTS.concurrency,
    dryRun,
    timeouts: Object.freeze({ lockWaitMs: input.lockWaitMs ?? d.lockWaitMs, statementTimeoutMs: input.statementTimeoutMs }),
    retries: input.retries ?? d.retries,
    estimateFirst: input.estimateFirst ?? false,
    impact: watch
      ? Object.freeze({ budget: yielding ? (input.maxImpact ?? DEFAULT_IMPACT_BUDGET) : undefined, maxLoad, criticalLoad, sampleEveryMs: input.sampleEveryMs ?? 200 })
      : undefined,
    failpoint: input.failpoints ?? NO_FAILPOINTS,
  });
}
