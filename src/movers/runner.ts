import { setTimeout as sleep } from 'node:timers/promises';
import type { CellMapping } from '../cells/mappings.js';
import { cellLabel } from '../cells/mappings.js';
import { scatterGather, targetCell } from '../cells/targeting.js';
import type { StatementTimeouts } from '../db/dialect.js';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import { isRetryableConflict, translateDriverError } from '../db/translate-error.js';
import { CellsdbError } from '../errors.js';
import { maskUrl } from '../url.js';
import { failpoint } from './failpoints.js';
import type { BlockedRow, Mover, MoverBatch, MoverContext } from './types.js';

/** Exit codes of `online_data_migrations` (Nova's, plus 3). */
export const MoverExit = {
  /** Nothing (more) to do. */
  done: 0,
  /** Some rows migrated: run again. */
  more: 1,
  /** Errors and no progress. */
  errors: 2,
  /** Only rows an operator must unblock remain. */
  blocked: 3,
} as const;

/** What the runner reports as it goes (log lines, progress bars). */
export interface RunnerEvents {
  /** One line per batch: cell, mover, key range, rows, milliseconds. */
  batch?(event: { mover: string; cell: string; afterKey: number; lastKey: number; count: number; found: number; done: number; ms: number; yielding: boolean }): void;
  /** Other clients appeared on (busy) or left (not busy) the servers the run uses. */
  traffic?(event: { busy: boolean; sessions: number }): void;
  /** A batch hit a lock timeout or deadlock and is retried smaller. */
  retry?(event: { mover: string; cell: string; count: number; error: string }): void;
  /** Rows left per mover before the run, summed over cells (progress bar totals). */
  estimated?(mover: string, remaining: number): void;
}

export interface RunnerOptions {
  readonly registry: ConnectionRegistry;
  readonly apiDb: DatabaseHandle;
  readonly cells: readonly CellMapping[];
  readonly movers: readonly Mover[];
  /** One batch whose budget is shared by the movers in order (Nova's `--max-count`); unlimited when absent. */
  readonly maxCount?: number | undefined;
  /**
   * Rows per batch, fixed. When absent, batches are sized to take about `batchTargetMs` each
   * (see `BatchSizer`), starting at 50 (Nova's batch size); with `maxCount`, batches never exceed
   * the budget.
   */
  readonly batchSize?: number | undefined;
  /** The duration adaptive batches aim at, in milliseconds (the longest a batch should hold its row locks). @default 100 */
  readonly batchTargetMs?: number | undefined;
  /** Cells worked on at once. @default 4 */
  readonly concurrency?: number | undefined;
  /** Count what each mover would do; write nothing. */
  readonly dryRun?: boolean | undefined;
  readonly timeouts: StatementTimeouts;
  /** Retries of a batch that hit a lock timeout or deadlock, each at half the size. @default 3 */
  readonly retries?: number | undefined;
  /** Ask each mover for its remaining rows before starting (for progress bars). @default false */
  readonly estimateFirst?: boolean | undefined;
  /**
   * Yield to the live cloud: while other clients have sessions running statements (or that ran one
   * within the last second) on a server the run uses, one batch runs at a time over all cells, sized
   * to `batchTargetMs`, and is followed by a rest of `niceRatio` times its duration. Undefined: run
   * at full speed whatever else the servers do.
   */
  readonly yieldToTraffic?: { readonly batchTargetMs: number; readonly niceRatio?: number | undefined } | undefined;
  readonly events?: RunnerEvents | undefined;
}

/** One mover on one cell. */
export interface MoverCellResult {
  readonly mover: string;
  readonly cell: string;
  readonly cellUuid: string;
  readonly found: number;
  readonly done: number;
  readonly blocked: readonly BlockedRow[];
  readonly error?: string;
}

/** The `Migration | Total Needed | Completed | Blocked` row of one mover. */
export interface MoverTotal {
  readonly name: string;
  readonly found: number;
  readonly done: number;
  readonly blocked: number;
}

export interface RunReport {
  readonly totals: readonly MoverTotal[];
  readonly cells: readonly MoverCellResult[];
  readonly blocked: ReadonlyArray<BlockedRow & { mover: string; cell: string }>;
  readonly errors: ReadonlyArray<{ mover: string; cell: string; message: string }>;
  /** Rows migrated (in the last pass without `maxCount`). */
  readonly ran: number;
  readonly exitCode: (typeof MoverExit)[keyof typeof MoverExit];
  readonly dryRun: boolean;
}

/**
 * A `--max-count` budget shared by the cells of one mover: each takes a fair slice and gives back
 * what it did not use. A cell that finds the budget empty while other cells' batches still hold
 * slices waits for them to settle: what they do not use is its to take. (Returning 0 at once made
 * `--max-count N` migrate fewer than N rows whenever a cell with nothing to do settled its slice
 * a moment after a busy cell asked for more.)
 */
class Budget {
  private active: number;
  /** Sliced out to batches that have not settled yet. */
  private outstanding = 0;
  private waiters: Array<() => void> = [];
  constructor(
    private available: number,
    cells: number,
  ) {
    this.active = Math.max(1, cells);
  }
  /** A slice for the next batch, at most `limit`; 0 once the budget is spent and no batch can give any back. */
  async take(limit = Number.POSITIVE_INFINITY): Promise<number> {
    for (;;) {
      if (this.available > 0) {
        const slice = Math.min(limit, this.available, Math.max(1, Math.ceil(this.available / Math.max(1, this.active))));
        this.available -= slice;
        this.outstanding += slice;
        return slice;
      }
      if (this.outstanding === 0) return 0;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
  /** A batch that took `slice` is over, having migrated `done` rows: the rest goes back. */
  settle(slice: number, done: number): void {
    this.outstanding -= slice;
    this.available += Math.max(0, slice - done);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
  finished(): void {
    this.active = Math.max(1, this.active - 1);
  }
}

/** Where adaptive batches start: Nova's batch size. */
export const FIRST_BATCH_SIZE = 50;
/** Adaptive batches never grow past this (memory per batch stays bounded whatever the data). */
export const MAX_BATCH_SIZE = 20_000;
export const DEFAULT_BATCH_TARGET_MS = 100;
/** Batch duration while yielding to other clients (see `RunnerOptions.yieldToTraffic`). */
export const DEFAULT_YIELD_BATCH_MS = 10;
/** Rest after each batch while yielding, in batch durations. */
export const DEFAULT_YIELD_NICE_RATIO = 2;

/**
 * Batch sizes for one mover on one cell: fixed when the operator gave `--batch-size`, else sized so
 * that a batch takes about the target duration (which may change from batch to batch: see
 * `yieldToTraffic`). The time per row is the recent batches' milliseconds over their rows (each older
 * batch counting half as much as the next), so that a big batch outweighs the small ones before it,
 * whose time is mostly per-statement overhead; the next size follows it but grows at most fourfold
 * (and shrinks at most by half) from the last batch, so that a cold cache or a noisy neighbour does
 * not swing it. A lock timeout halves the batch in the retry, and the next batch is that size.
 * Remembered across the passes of one run.
 */
export class BatchSizer {
  private recentMs = 0;
  private recentRows = 0;
  /** The size of the last batch observed (or the first size, or a retry's smaller one). */
  private base: number;
  /** A retry shrank the batch: the next one is exactly `base`. */
  private pinned = false;
  constructor(
    private readonly fixed: number | undefined,
    private readonly targetMs: number,
    first: number = FIRST_BATCH_SIZE,
  ) {
    this.base = Math.min(MAX_BATCH_SIZE, Math.max(1, Math.round(first)));
  }
  /** The next batch's size, for a batch that should take about `targetMs` (default: the sizer's). */
  next(targetMs: number = this.targetMs): number {
    if (this.fixed !== undefined) return this.fixed;
    if (this.pinned || this.recentRows === 0) return this.base;
    const wanted = targetMs / (this.recentMs / this.recentRows);
    return Math.round(Math.min(MAX_BATCH_SIZE, Math.max(1, this.base / 2, Math.min(this.base * 4, wanted))));
  }
  /** A batch of up to `count` rows found `found` and took `ms`. */
  observe(count: number, found: number, ms: number): void {
    if (this.fixed !== undefined) return;
    // A partial batch (the end of a cell) says little about a full one; an empty one nothing.
    if (found <= 0 || found < count / 2) return;
    this.recentMs = this.recentMs / 2 + Math.max(ms, 1);
    this.recentRows = this.recentRows / 2 + found;
    this.base = count;
    this.pinned = false;
  }
  /** A retry settled on a smaller size after a lock timeout or deadlock. */
  shrinkTo(size: number): void {
    if (this.fixed !== undefined) return;
    this.base = Math.min(this.base, Math.max(1, size));
    this.pinned = true;
  }
}

/**
 * Whether other clients use the servers, asked at most every `everyMs` (two answers in a row change
 * it), and the turn-taking that follows: while they do, one batch at a time over the whole run.
 */
export class TrafficGate {
  private busy = false;
  private lastAnswer = false;
  private answers = 0;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private checking: Promise<boolean> | undefined;
  /** The end of the queue of yielding batches. */
  private tail: Promise<void> = Promise.resolve();
  constructor(
    private readonly probe: () => Promise<number>,
    private readonly onChange: (busy: boolean, sessions: number) => void = () => undefined,
    private readonly everyMs = 500,
  ) {}

  private async isBusy(): Promise<boolean> {
    // The first decision comes quickly (two answers a tenth of a second apart), then one a period.
    const every = this.answers < 2 ? Math.min(this.everyMs, 100) : this.everyMs;
    if (performance.now() - this.checkedAt < every) return this.busy;
    this.checking ??= this.probe()
      .then((sessions) => {
        // Two answers in a row decide a change: one connection of our own pool being opened shows
        // as busy before the registry knows it is ours, and a quiet moment of a live cloud is short.
        const busy = sessions > 0;
        if (busy !== this.busy && busy === this.lastAnswer) {
          this.busy = busy;
          this.onChange(busy, sessions);
        }
        this.lastAnswer = busy;
        this.answers += 1;
        return this.busy;
      })
      // A probe that fails (a server that went away) changes nothing: the batch itself will say.
      .catch(() => this.busy)
      .finally(() => {
        this.checkedAt = performance.now();
        this.checking = undefined;
      });
    return this.checking;
  }

  /** Waits for this batch's turn; `leave()` when the batch is over. `yielding`: other clients are about. */
  async enter(): Promise<{ readonly yielding: boolean; leave(): void }> {
    if (!(await this.isBusy())) return { yielding: false, leave: () => undefined };
    let leave!: () => void;
    const mine = new Promise<void>((resolve) => (leave = resolve));
    const before = this.tail;
    this.tail = before.then(() => mine);
    await before;
    return { yielding: true, leave };
  }
}

interface CellRun {
  found: number;
  done: number;
  blocked: BlockedRow[];
}

async function migrateWithRetry(mover: Mover, ctx: MoverContext, count: number, after: number, options: RunnerOptions, sizer: BatchSizer, yielding: boolean): Promise<MoverBatch> {
  const retries = options.retries ?? 3;
  let size = count;
  for (let attempt = 0; ; attempt++) {
    const started = Date.now();
    try {
      const batch = await mover.migrate(ctx, size, after);
      failpoint('runner:batch-done');
      const ms = Date.now() - started;
      if (size < count) sizer.shrinkTo(size);
      sizer.observe(size, batch.found, ms);
      options.events?.batch?.({ mover: mover.name, cell: cellLabel(ctx.cell), afterKey: after, lastKey: batch.lastKey, count: size, found: batch.found, done: batch.done, ms, yielding });
      return batch;
    } catch (error) {
      const translated = translateDriverError(error, maskUrl(ctx.cell.databaseConnection));
      if (!isRetryableConflict(error) || attempt >= retries) {
        throw new CellsdbError(`${mover.name} failed on cell '${cellLabel(ctx.cell)}' in the batch after key ${after} (up to ${size} rows): ${translated.message}`, {
          cause: translated,
        });
      }
      options.events?.retry?.({ mover: mover.name, cell: cellLabel(ctx.cell), count: size, error: translated.message });
      size = Math.max(1, Math.floor(size / 2));
    }
  }
}

async function runOnCell(mover: Mover, ctx: MoverContext, options: RunnerOptions, budget: Budget | undefined, sizer: BatchSizer, gate: TrafficGate | undefined): Promise<CellRun> {
  const run: CellRun = { found: 0, done: 0, blocked: [] };
  const readiness = await mover.readiness(ctx);
  if (readiness.state === 'finished') return run;
  if (readiness.state === 'behind') throw new CellsdbError(`${mover.name} cannot run on cell '${cellLabel(ctx.cell)}': ${readiness.reason}`);
  let after = 0;
  try {
    for (;;) {
      // The turn first, then the budget: a batch that holds a slice never waits for a turn.
      const turn = gate ? await gate.enter() : undefined;
      let count = 0;
      let batch: MoverBatch;
      try {
        const size = sizer.next(turn?.yielding && options.yieldToTraffic ? options.yieldToTraffic.batchTargetMs : undefined);
        count = budget ? await budget.take(size) : size;
        if (count === 0) break;
        const started = performance.now();
        batch = await migrateWithRetry(mover, ctx, count, after, options, sizer, turn?.yielding ?? false);
        // While yielding, rest after each batch in proportion to it (gh-ost's nice ratio), keeping
        // the turn: the live cloud gets the servers to itself that long.
        const nice = turn?.yielding ? (options.yieldToTraffic?.niceRatio ?? 0) : 0;
        if (nice > 0) await sleep((performance.now() - started) * nice);
      } catch (error) {
        // A failed batch rolled back: its slice goes back, or the cells waiting on it would hang.
        if (count > 0) budget?.settle(count, 0);
        throw error;
      } finally {
        turn?.leave();
      }
      budget?.settle(count, batch.done);
      if (batch.blocked.length > 0) {
        run.blocked = [...batch.blocked];
      } else {
        run.found += batch.found;
      }
      run.done += batch.done;
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
  return run;
}

/** Other clients' sessions that ran something within this window count as live traffic. */
const TRAFFIC_WINDOW_MS = 1000;

/** A gate that asks every server the run uses (API and cells, each server once) for other clients. */
function trafficGate(options: RunnerOptions, contexts: readonly MoverContext[]): TrafficGate {
  const servers = new Map<string, DatabaseHandle>();
  for (const db of [options.apiDb, ...contexts.map((c) => c.cellDb)]) {
    const u = db.url;
    servers.set(`${u.dialect}|${u.socketPath ?? ''}|${u.host ?? ''}|${u.port ?? ''}`, db);
  }
  const probe = async () => {
    const own = options.registry.ownSessionIds();
    const counts = await Promise.all([...servers.values()].map((db) => db.dialect.otherActiveSessions(db.sequelize, own, TRAFFIC_WINDOW_MS)));
    return counts.reduce((a, b) => a + b, 0);
  };
  return new TrafficGate(probe, (busy, sessions) => options.events?.traffic?.({ busy, sessions }));
}

/**
 * `online_data_migrations`: runs every mover over every cell (concurrently, a failing cell isolated),
 * with Nova's contract. With `maxCount`: exactly one batch, its budget shared across movers in order
 * (a later mover gets what is left, and is not called once it is spent). Without: batches of
 * `batchSize` per cell until a whole pass does no work. Exit codes: 0 nothing (more) to do, 1 rows
 * migrated (run again), 2 errors and no progress, 3 only blocked rows remain.
 */
export async function runOnlineDataMigrations(options: RunnerOptions): Promise<RunReport> {
  const contexts = options.cells.map((cell): MoverContext => ({ cell, cellDb: targetCell(options.registry, cell), apiDb: options.apiDb, timeouts: options.timeouts }));
  const concurrency = options.concurrency; // scatterGather applies the default
  const found = new Map<string, number>();
  const done = new Map<string, number>();
  const blocked = new Map<string, BlockedRow & { mover: string; cell: string }>();
  // One error per mover and cell: a failing cell fails again in every pass.
  const errorsByKey = new Map<string, { mover: string; cell: string; message: string }>();
  const estimatedBlocked = new Map<string, number>();
  const perCell = new Map<string, { mover: string; cell: string; cellUuid: string; found: number; done: number; blocked: BlockedRow[]; error?: string }>();
  const record = (mover: Mover, ctx: MoverContext, run: CellRun | undefined, error?: string) => {
    const key = `${mover.name}\u0000${ctx.cell.uuid}`;
    const entry = perCell.get(key) ?? { mover: mover.name, cell: cellLabel(ctx.cell), cellUuid: ctx.cell.uuid, found: 0, done: 0, blocked: [] };
    if (run) {
      entry.found += run.found;
      entry.done += run.done;
      entry.blocked = run.blocked;
      found.set(mover.name, (found.get(mover.name) ?? 0) + run.found);
      done.set(mover.name, (done.get(mover.name) ?? 0) + run.done);
      for (const b of run.blocked) blocked.set(`${key}\u0000${b.id}`, { ...b, mover: mover.name, cell: cellLabel(ctx.cell) });
    }
    if (error !== undefined) {
      entry.error = error;
      errorsByKey.set(key, { mover: mover.name, cell: cellLabel(ctx.cell), message: error });
    }
    perCell.set(key, entry);
  };
  const byCell = new Map(contexts.map((c) => [c.cell.uuid, c]));
  const sizers = new Map<string, BatchSizer>();
  const sizerFor = (mover: Mover, cell: CellMapping): BatchSizer => {
    const key = `${mover.name}\u0000${cell.uuid}`;
    let sizer = sizers.get(key);
    if (!sizer) sizers.set(key, (sizer = new BatchSizer(options.batchSize, options.batchTargetMs ?? DEFAULT_BATCH_TARGET_MS, mover.firstBatchSize)));
    return sizer;
  };
  const called = new Set<string>();
  const gate = options.yieldToTraffic && !options.dryRun ? trafficGate(options, contexts) : undefined;

  if (options.dryRun || options.estimateFirst) {
    for (const mover of options.movers) {
      const outcomes = await scatterGather(
        options.cells,
        async (cell) => {
          const ctx = byCell.get(cell.uuid) as MoverContext;
          const readiness = await mover.readiness(ctx);
          if (readiness.state === 'finished') return { remaining: 0, blocked: 0 };
          if (readiness.state === 'behind') throw new CellsdbError(`${mover.name} cannot run on cell '${cellLabel(cell)}': ${readiness.reason}`);
          return mover.estimate(ctx);
        },
        { concurrency },
      );
      options.events?.estimated?.(mover.name, outcomes.reduce((n, o) => n + (o.ok ? o.value.remaining : 0), 0));
      if (!options.dryRun) continue;
      called.add(mover.name);
      for (const o of outcomes) {
        const ctx = byCell.get(o.cell.uuid) as MoverContext;
        if (o.ok) {
          const estimate = o.value;
          record(mover, ctx, { found: estimate.remaining, done: 0, blocked: [] });
          estimatedBlocked.set(mover.name, (estimatedBlocked.get(mover.name) ?? 0) + estimate.blocked);
        } else {
          record(mover, ctx, undefined, o.error.message);
        }
      }
    }
  }

  let ran = 0;
  if (!options.dryRun && options.maxCount !== undefined) {
    for (const mover of options.movers) {
      if (ran >= options.maxCount) break;
      called.add(mover.name);
      const budget = new Budget(options.maxCount - ran, contexts.length);
      const outcomes = await scatterGather(options.cells, (cell) => runOnCell(mover, byCell.get(cell.uuid) as MoverContext, options, budget, sizerFor(mover, cell), gate), { concurrency });
      for (const o of outcomes) {
        record(mover, byCell.get(o.cell.uuid) as MoverContext, o.ok ? o.value : undefined, o.ok ? undefined : o.error.message);
        if (o.ok) ran += o.value.done;
      }
    }
  } else if (!options.dryRun) {
    // Passes until one does no work: a later mover may unblock an earlier one.
    for (;;) {
      let passDone = 0;
      for (const mover of options.movers) {
        called.add(mover.name);
        const outcomes = await scatterGather(options.cells, (cell) => runOnCell(mover, byCell.get(cell.uuid) as MoverContext, options, undefined, sizerFor(mover, cell), gate), { concurrency });
        for (const o of outcomes) {
          // Blocked rows show up again in every pass: record() counts them once, by id.
          record(mover, byCell.get(o.cell.uuid) as MoverContext, o.ok ? o.value : undefined, o.ok ? undefined : o.error.message);
          if (o.ok) passDone += o.value.done;
        }
      }
      if (passDone === 0) break;
    }
    // Without --max-count the loop ends on a pass that did nothing, so "run again" (1) never applies.
    ran = 0;
  }

  const blockedList = [...blocked.values()];
  const errors = [...errorsByKey.values()];
  const totals: MoverTotal[] = options.movers
    .filter((m) => called.has(m.name))
    .map((m) => {
      // A dry run's estimate already counts blocked rows among those remaining.
      if (options.dryRun) return { name: m.name, found: found.get(m.name) ?? 0, done: 0, blocked: estimatedBlocked.get(m.name) ?? 0 };
      const blockedCount = blockedList.filter((b) => b.mover === m.name).length;
      return { name: m.name, found: (found.get(m.name) ?? 0) + blockedCount, done: done.get(m.name) ?? 0, blocked: blockedCount };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  let exitCode: RunReport['exitCode'];
  const unlimited = options.maxCount === undefined;
  if (options.dryRun) {
    const remaining = totals.reduce((n, t) => n + t.found, 0);
    const stuck = totals.reduce((n, t) => n + t.blocked, 0);
    exitCode = errors.length > 0 ? MoverExit.errors : remaining === 0 ? MoverExit.done : remaining === stuck ? MoverExit.blocked : MoverExit.more;
  } else if (errors.length > 0 && (unlimited || ran === 0)) {
    exitCode = MoverExit.errors;
  } else if (ran > 0) {
    exitCode = MoverExit.more;
  } else if (blockedList.length > 0) {
    exitCode = MoverExit.blocked;
  } else {
    exitCode = MoverExit.done;
  }
  return { totals, cells: [...perCell.values()], blocked: blockedList, errors, ran, exitCode, dryRun: options.dryRun === true };
}
