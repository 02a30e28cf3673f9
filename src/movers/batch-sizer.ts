import { MOVER_DEFAULTS } from './settings.js';

/** Where adaptive batches start: Nova's batch size ({@link MOVER_DEFAULTS}.firstBatchSize). */
export const FIRST_BATCH_SIZE = MOVER_DEFAULTS.firstBatchSize;
/** Adaptive batches never grow past this (memory per batch stays bounded whatever the data). */
export const MAX_BATCH_SIZE = 20_000;

/**
 * Batch sizes for one mover on one cell: fixed when the operator gave `--batch-size`, else sized so
 * that a batch takes about the target duration (which may change from batch to batch: the pace
 * controller may ask for shorter ones). The time per row is the recent batches' milliseconds over
 * their rows (each older batch counting half as much as the next), so that a big batch outweighs the
 * small ones before it, whose time is mostly per-statement overhead; the next size follows it but
 * grows at most fourfold (and shrinks at most by half) from the last batch, so that a cold cache or a
 * noisy neighbour does not swing it. A lock timeout halves the batch in the retry, and the next batch
 * is that size. Remembered across the passes of one run.
 */
export class BatchSizer {
  private recentMs = 0;
  private recentRows = 0;
  /** The size of the last batch observed (or the first size, or a retry's smaller one). */
  private base: number;
  /** A retry shrank the batch: the next one is exactly `base`. */
  private pinned = false;
  /**
   * @param fixed rows per batch, whatever the batches take; adaptive when undefined
   * @param targetMs the duration adaptive batches aim at
   * @param first where adaptive batches start. @default FIRST_BATCH_SIZE
   */
  constructor(
    private readonly fixed: number | undefined,
    private readonly targetMs: number,
    first: number = FIRST_BATCH_SIZE,
  ) {
    this.base = Math.min(MAX_BATCH_SIZE, Math.max(1, Math.round(first)));
  }
  /**
   * The next batch's size, for a batch that should take about `targetMs` (default: the sizer's), and
   * of at least `minRows` (the pace controller's floor: below it a batch is mostly fixed cost, and
   * the movers rest instead), unless a lock conflict shrank it.
   */
  next(targetMs: number = this.targetMs, minRows = 1): number {
    if (this.fixed !== undefined) return this.fixed;
    if (this.pinned) return this.base;
    if (this.recentRows === 0) return Math.min(MAX_BATCH_SIZE, Math.max(minRows, this.base));
    const wanted = targetMs / (this.recentMs / this.recentRows);
    return Math.round(Math.min(MAX_BATCH_SIZE, Math.max(1, minRows, this.base / 2, Math.min(this.base * 4, wanted))));
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
