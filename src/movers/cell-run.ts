import { cellLabel } from '../cells/mappings.js';
import { isRetryableConflict, translateDriverError } from '../db/translate-error.js';
import { CellsdbError } from '../errors.js';
import { displayUrl } from '../url/index.js';
import type { BatchSizer } from './batch-sizer.js';
import type { Budget } from './budget.js';
import type { PaceController, TurnPace } from './pace.js';
import type { BlockedRow, Mover, MoverBatch, MoverContext } from './types.js';

/** What one mover did on one cell in one pass. */
export interface CellRun {
  readonly found: number;
  readonly done: number;
  /** The blocked rows the last batch that found any reported. */
  readonly blocked: readonly BlockedRow[];
}

/** One batch as the runner reports it (the batch log's line). */
export type BatchEvent = {
  readonly mover: string;
  readonly cell: string;
  readonly afterKey: number;
  readonly lastKey: number;
  readonly count: number;
  readonly found: number;
  readonly done: number;
  readonly ms: number;
  readonly yielding: boolean;
  /** Ran below full speed, by the impact controller (absent without one: `--no-yield`, dry runs). */
  readonly throttled?: boolean;
  /** The pace controller's state when the batch got its turn (absent without one). */
  readonly pace?: TurnPace | undefined;
};

/** A batch that hit a lock timeout or deadlock and is retried smaller. */
export type RetryEvent = {
  readonly mover: string;
  readonly cell: string;
  readonly count: number;
  readonly error: string;
};

/** What the batch loop of one mover on one cell works with, besides the mover and its context. */
export interface CellRunParts {
  readonly sizer: BatchSizer;
  /** The `--max-count` budget this mover's cells share; unlimited when absent. */
  readonly budget?: Budget | undefined;
  readonly pace: PaceController;
  /** Retries of a batch that hit a lock timeout or deadlock, each at half the size. */
  readonly retries: number;
  readonly onBatch?: ((event: BatchEvent) => void) | undefined;
  readonly onRetry?: ((event: RetryEvent) => void) | undefined;
  /** Aborted (SIGINT, SIGTERM): no new batch starts; the one in flight finishes or rolls back. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Whether the mover has work on this cell's schema: false when it is finished; throws when the
 * schema is behind. Errors here and below name neither the mover nor the cell: each is reported
 * beside both (`RunReport.errors`), and the report's reader names them once.
 */
export async function moverApplies(mover: Mover, ctx: MoverContext): Promise<boolean> {
  const readiness = await mover.readiness(ctx);
  if (readiness.state === 'behind') throw new CellsdbError(`the cell's schema is behind: ${readiness.reason}`);
  return readiness.state === 'ready';
}

async function migrateWithRetry(mover: Mover, ctx: MoverContext, count: number, after: number, parts: CellRunParts, turn: { yielding: boolean; pace?: TurnPace | undefined }): Promise<MoverBatch> {
  let size = count;
  for (let attempt = 0; ; attempt++) {
    const started = Date.now();
    try {
      const batch = await mover.migrate(ctx, size, after);
      ctx.failpoint('runner:batch-done');
      const ms = Date.now() - started;
      if (size < count) parts.sizer.shrinkTo(size);
      parts.sizer.observe(size, batch.found, ms);
      parts.onBatch?.({ mover: mover.name, cell: cellLabel(ctx.cell), afterKey: after, lastKey: batch.lastKey, count: size, found: batch.found, done: batch.done, ms, yielding: turn.yielding, ...(turn.pace ? { throttled: turn.pace.state !== 'full', pace: turn.pace } : {}) });
      return batch;
    } catch (error) {
      const translated = translateDriverError(error, ctx.cell.databaseConnection);
      if (!isRetryableConflict(error) || attempt >= parts.retries) {
        throw new CellsdbError(`the batch after key ${after} (up to ${size} rows) failed: ${translated.message}`, {
          cause: translated,
        });
      }
      parts.onRetry?.({ mover: mover.name, cell: cellLabel(ctx.cell), count: size, error: translated.message });
      size = Math.max(1, Math.floor(size / 2));
    }
  }
}

/**
 * Runs one mover on one cell, batch after batch (each sized by `parts.sizer`, within the budget,
 * when the pace controller gives it a turn), until the cell has nothing more for it.
 */
export async function runMoverOnCell(mover: Mover, ctx: MoverContext, parts: CellRunParts): Promise<CellRun> {
  let found = 0;
  let done = 0;
  let blocked: readonly BlockedRow[] = [];
  if (!(await moverApplies(mover, ctx))) return { found, done, blocked };
  const { budget, pace, sizer } = parts;
  let after = 0;
  try {
    for (;;) {
      if (parts.signal?.aborted) break;
      // The turn first, then the budget: a batch that holds a slice never waits for a turn.
      const turn = await pace.enter();
      let count = 0;
      let batch: MoverBatch;
      try {
        if (parts.signal?.aborted) break;
        const size = sizer.next(turn.batchTargetMs, turn.minRows);
        count = budget ? await budget.take(size) : size;
        if (count === 0) break;
        const started = performance.now();
        batch = await migrateWithRetry(mover, ctx, count, after, parts, turn);
        await turn.finished({ ms: performance.now() - started, rows: batch.done });
      } catch (error) {
        // A failed batch rolled back: its slice goes back, or the cells waiting on it would hang.
        if (count > 0) budget?.settle(count, 0);
        throw error;
      } finally {
        turn.leave();
      }
      budget?.settle(count, batch.done);
      if (batch.blocked.length > 0) {
        blocked = [...batch.blocked];
      } else {
        found += batch.found;
      }
      done += batch.done;
      const advanced = batch.lastKey > after;
      after = batch.lastKey;
      // A windowed mover says whether keys remain. Otherwise: fewer candidates than asked for is the
      // end of the cell, and nothing done means no progress is possible here (blocked rows, or rows
      // another runner holds). Else go on after `lastKey`.
      if (batch.more !== undefined ? !batch.more || !advanced : batch.found < count || batch.done === 0) break;
    }
  } finally {
    budget?.finished();
  }
  return { found, done, blocked };
}
