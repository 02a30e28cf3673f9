import type { CellMappingRow } from '../cells/mappings.js';
import type { StatementTimeouts } from '../db/dialect.js';
import type { DatabaseHandle } from '../db/registry.js';
import type { Failpoint } from './failpoints.js';

/** A row only an operator can unblock, with why. */
export interface BlockedRow {
  readonly id: number;
  readonly reason: string;
}

/** Everything one mover call on one cell works with. */
export interface MoverContext {
  readonly cell: CellMappingRow;
  readonly cellDb: DatabaseHandle;
  readonly apiDb: DatabaseHandle;
  /** Per-batch lock and statement timeouts (PostgreSQL `SET LOCAL`, MariaDB session variables). */
  readonly timeouts: StatementTimeouts;
  /** Named points where a crash test may kill the process (see `failpoints.ts`); a no-op in production. */
  readonly failpoint: Failpoint;
}

/**
 * One call's result, Nova's contract plus `blocked`: `found` candidates seen, `done` migrated
 * (`found > 0 && done === 0` means the rest cannot be migrated by this mover), `blocked` rows that
 * need an operator. `lastKey` is the keyset cursor: the next call continues after it.
 */
export interface MoverBatch {
  readonly found: number;
  readonly done: number;
  readonly blocked: readonly BlockedRow[];
  readonly lastKey: number;
  /**
   * Whether keys after `lastKey` remain to be looked at. A mover that reads fixed keyset windows
   * sets it, so that a window holding only rows it skips (blocked, or migrated meanwhile) does not
   * end the cell. Unset: the runner takes `found < count`, or nothing done, as the end.
   */
  readonly more?: boolean;
}

/** What a cell's schema says about a mover: run it, nothing to do (already contracted), or not yet. */
export type Readiness = { readonly state: 'ready' } | { readonly state: 'finished' } | { readonly state: 'behind'; readonly reason: string };

/**
 * An online data migration: batched, idempotent, resumable, safe to kill at any instant and to run
 * twice at once. One module per mover in `movers/`, registered in order in `movers/index.ts`.
 */
export interface Mover {
  /** Unique; shown in the `Migration` column. */
  readonly name: string;
  readonly description: string;
  /**
   * Where adaptive batches start for this mover, in rows (from there they are sized to the target
   * duration). For movers whose rows are cheap; @default FIRST_BATCH_SIZE (Nova's 50)
   */
  readonly firstBatchSize?: number;
  /** Whether this cell's schema lets the mover run. */
  readiness(ctx: MoverContext): Promise<Readiness>;
  /** Migrates at most `count` rows with keys above `after`, in short transactions. */
  migrate(ctx: MoverContext, count: number, after: number): Promise<MoverBatch>;
  /**
   * Counts without writing (for `--dry-run` and progress bars): rows left, and how many of them are
   * blocked. With `{ blocked: false }` only `remaining` is wanted (a progress bar's total): a mover
   * whose blocked rows are costly to find may skip looking and say 0.
   */
  estimate(ctx: MoverContext, options?: { readonly blocked?: boolean }): Promise<{ readonly remaining: number; readonly blocked: number }>;
}
