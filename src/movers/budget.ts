/**
 * A `--max-count` budget shared by the cells of one mover: each takes a fair slice and gives back
 * what it did not use. A cell that finds the budget empty while other cells' batches still hold
 * slices waits for them to settle: what they do not use is its to take. (Returning 0 at once made
 * `--max-count N` migrate fewer than N rows whenever a cell with nothing to do settled its slice
 * a moment after a busy cell asked for more.)
 */
export class Budget {
  private active: number;
  /** Sliced out to batches that have not settled yet. */
  private outstanding = 0;
  private waiters: Array<() => void> = [];
  /** `available` rows shared by `cells` cells. */
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
  /** A cell is done with this mover: the others' fair slices grow. */
  finished(): void {
    this.active = Math.max(1, this.active - 1);
  }
}
