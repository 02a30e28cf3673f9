import { type CellMappingRow, cellLabel } from '../cells/mappings.js';
import type { CellRun } from './cell-run.js';
import type { PaceSummary } from './impact-controller.js';
import { dryRunExitCode, type MoverExitCode, runExitCode } from './exit.js';
import type { BlockedRow } from './types.js';

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

/** A blocked row, with the mover and cell that reported it. */
export type BlockedRowOf = BlockedRow & { readonly mover: string; readonly cell: string };

/** A mover that failed on a cell. */
export interface MoverError {
  readonly mover: string;
  readonly cell: string;
  readonly message: string;
}

export interface RunReport {
  readonly totals: readonly MoverTotal[];
  readonly cells: readonly MoverCellResult[];
  readonly blocked: readonly BlockedRowOf[];
  readonly errors: readonly MoverError[];
  /** Rows migrated (in a `--max-count` run; 0 otherwise: the run went on until a pass did nothing). */
  readonly ran: number;
  readonly exitCode: MoverExitCode;
  readonly dryRun: boolean;
  /** The impact controller's account of the run (absent without one: `--no-yield`, dry runs). */
  readonly pace?: PaceSummary;
}

type CellEntry = { mover: string; cell: string; cellUuid: string; found: number; done: number; blocked: readonly BlockedRow[]; error?: string };

const byName = (a: MoverTotal, b: MoverTotal) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The tally of a run: what every mover did on every cell, summed over passes, into the report's
 * totals, blocked rows and errors. Blocked rows show up again in every pass: they count once, by id;
 * so does one error per mover and cell (a failing cell fails again in every pass).
 */
export class RunTally {
  private readonly entries = new Map<string, CellEntry>();
  private readonly blocked = new Map<string, BlockedRowOf>();
  private readonly errors = new Map<string, MoverError>();
  /** Dry runs: the movers' own counts of blocked rows among those remaining. */
  private readonly estimatedBlocked = new Map<string, number>();
  /** Movers that were called (a `--max-count` run stops calling them once the budget is spent). */
  private readonly called = new Set<string>();

  /** The mover is called in this run: it gets a row in the totals. */
  calling(mover: string): void {
    this.called.add(mover);
  }

  private entry(mover: string, cell: CellMappingRow): { key: string; entry: CellEntry } {
    const key = `${mover}\u0000${cell.uuid}`;
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { mover, cell: cellLabel(cell), cellUuid: cell.uuid, found: 0, done: 0, blocked: [] }));
    return { key, entry };
  }

  /** What one pass of `mover` did on `cell`. */
  record(mover: string, cell: CellMappingRow, run: CellRun): void {
    const { key, entry } = this.entry(mover, cell);
    entry.found += run.found;
    entry.done += run.done;
    entry.blocked = run.blocked;
    for (const b of run.blocked) this.blocked.set(`${key}\u0000${b.id}`, { ...b, mover, cell: entry.cell });
  }

  /** A dry run's estimate of `mover` on `cell`: rows remaining, of which `blocked` need an operator. */
  recordEstimate(mover: string, cell: CellMappingRow, estimate: { readonly remaining: number; readonly blocked: number }): void {
    this.record(mover, cell, { found: estimate.remaining, done: 0, blocked: [] });
    this.estimatedBlocked.set(mover, (this.estimatedBlocked.get(mover) ?? 0) + estimate.blocked);
  }

  /** `mover` failed on `cell`. */
  recordError(mover: string, cell: CellMappingRow, message: string): void {
    const { key, entry } = this.entry(mover, cell);
    entry.error = message;
    this.errors.set(key, { mover, cell: entry.cell, message });
  }

  /** The report, totals in `movers`' names' order; `migrated` rows in a `limited` (`--max-count`) run. */
  report(movers: readonly string[], run: { readonly dryRun: boolean; readonly limited: boolean; readonly migrated: number }): RunReport {
    const blocked = [...this.blocked.values()];
    const errors = [...this.errors.values()];
    const sum = (mover: string, field: 'found' | 'done') => [...this.entries.values()].reduce((n, e) => (e.mover === mover ? n + e[field] : n), 0);
    const totals = movers
      .filter((name) => this.called.has(name))
      .map((name): MoverTotal => {
        // A dry run's estimate already counts blocked rows among those remaining.
        if (run.dryRun) return { name, found: sum(name, 'found'), done: 0, blocked: this.estimatedBlocked.get(name) ?? 0 };
        const blockedCount = blocked.filter((b) => b.mover === name).length;
        return { name, found: sum(name, 'found') + blockedCount, done: sum(name, 'done'), blocked: blockedCount };
      })
      .sort(byName);
    const exitCode = run.dryRun
      ? dryRunExitCode({ errors: errors.length, remaining: totals.reduce((n, t) => n + t.found, 0), blocked: totals.reduce((n, t) => n + t.blocked, 0) })
      : runExitCode({ limited: run.limited, migrated: run.migrated, errors: errors.length, blocked: blocked.length });
    return { totals, cells: [...this.entries.values()], blocked, errors, ran: run.migrated, exitCode, dryRun: run.dryRun };
  }
}
