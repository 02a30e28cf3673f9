import { DEFAULTS } from '../config/defaults.js';
import type { StatementTimeouts } from '../db/dialect.js';
import { type Failpoint, NO_FAILPOINTS } from './failpoints.js';
import type { YieldSettings } from './pace.js';

/**
 * The movers' own defaults, in one place, each applied once (by {@link resolveRunSettings}, or by
 * `BatchSizer` for the first batch size); the CLI's help quotes them. The settings every command
 * shares (`--concurrency`) take theirs from the configuration's `DEFAULTS`.
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
  /** The batch duration while yielding to other clients, in milliseconds. */
  yieldBatchMs: 10,
  /** The rest after each batch while yielding, in batch durations (gh-ost's nice ratio). */
  yieldNiceRatio: 2,
});

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
   * Yield to the live cloud: while other clients have sessions running statements (or that ran one
   * within the last second) on a server the run uses, one batch runs at a time over all cells, of
   * about `batchTargetMs` (default 10), each followed by a rest of `niceRatio` (default 2) times its
   * duration. `false`: run at full speed whatever else the servers do.
   * @default true
   */
  readonly yieldToTraffic?: boolean | { readonly batchTargetMs?: number | undefined; readonly niceRatio?: number | undefined } | undefined;
  /** Crash-test failpoints (`createFailpoints`). @default NO_FAILPOINTS */
  readonly failpoints?: Failpoint | undefined;
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
  /** Undefined: never yield. */
  readonly yieldToTraffic: YieldSettings | undefined;
  readonly failpoint: Failpoint;
}

/** Applies the defaults of {@link MOVER_DEFAULTS} (and `DEFAULTS.concurrency`) to `input`. */
export function resolveRunSettings(input: RunSettingsInput): RunSettings {
  const yielding = input.yieldToTraffic ?? true;
  const d = MOVER_DEFAULTS;
  return Object.freeze({
    maxCount: input.maxCount,
    batchSize: input.batchSize,
    batchTargetMs: input.batchTargetMs ?? d.batchTargetMs,
    concurrency: input.concurrency ?? DEFAULTS.concurrency,
    dryRun: input.dryRun ?? false,
    timeouts: Object.freeze({ lockWaitMs: input.lockWaitMs ?? d.lockWaitMs, statementTimeoutMs: input.statementTimeoutMs }),
    retries: input.retries ?? d.retries,
    estimateFirst: input.estimateFirst ?? false,
    yieldToTraffic:
      yielding === false
        ? undefined
        : Object.freeze({
            batchTargetMs: (yielding === true ? undefined : yielding.batchTargetMs) ?? d.yieldBatchMs,
            niceRatio: (yielding === true ? undefined : yielding.niceRatio) ?? d.yieldNiceRatio,
          }),
    failpoint: input.failpoints ?? NO_FAILPOINTS,
  });
}
