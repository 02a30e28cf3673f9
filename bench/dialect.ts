import type { SessionConnection } from '../src/db/dialect.js';
import type { DatabaseHandle } from '../src/db/registry.js';
import type { DatabaseUrl, Dialect } from '../src/url/index.js';
import type { CellSizes } from './options.js';

/** One timed reference run (the server's bulk path) over every data cell. */
export interface ReferenceResult {
  /** Wall time over all cells, one after another. */
  readonly seconds: number;
  /** Rows written, per table. */
  readonly rows: Readonly<Record<string, number>>;
  /** Seconds per step, summed over the cells, to set beside a mover's profile. */
  readonly steps: Readonly<Record<string, number>>;
}

/** Adds the time `work` takes to `steps[name]`, in seconds. */
export async function step<T>(steps: Record<string, number>, name: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    steps[name] = (steps[name] ?? 0) + (performance.now() - t0) / 1000;
  }
}

/**
 * What differs between PostgreSQL and MariaDB in the benchmark: bulk generation, copies of a
 * database, and the reference (the server's own bulk path). One module per dialect.
 */
export interface BenchDialect {
  readonly name: Dialect;
  /** For people: 'PostgreSQL' or 'MariaDB'. */
  readonly label: string;
  serverVersion(admin: SessionConnection): Promise<string>;
  /**
   * Fills a cell database at cell schema 0003 with legacy rows in bulk, the shape seedLegacyCell
   * gives (groups with their policies and members, nova-compute services, and compute nodes that
   * know their service only by id), with set-based SQL on the server.
   */
  generateCell(db: DatabaseHandle, sizes: CellSizes, hostPrefix: string): Promise<void>;
  /** Planner statistics (and PostgreSQL's visibility map) after a bulk load, as an old database has them. */
  analyze(db: DatabaseHandle): Promise<void>;
  /** Creates database `target` as a copy of `source`, on the same server. */
  copyDatabase(admin: SessionConnection, server: DatabaseUrl, source: string, target: string): Promise<void>;
  /** Best effort: flush what earlier phases left dirty so that it does not land in the next timing. */
  settle(admin: SessionConnection): Promise<void>;
  /**
   * The reference for the instance-group mover: every live legacy group, policy and member of each
   * cell streamed into the API tables with the server's bulk path (new API ids reserved up front),
   * then one set-based soft-delete per cell table.
   */
  referenceInstanceGroups(api: DatabaseUrl, cells: readonly DatabaseUrl[]): Promise<ReferenceResult>;
  /** The reference for the compute-node mover: one UPDATE … FROM/JOIN services per cell. */
  referenceComputeNodes(cells: readonly DatabaseUrl[]): Promise<ReferenceResult>;
}

/**
 * What the instance-group reference streams, per cell, in FK order: the live rows of each legacy
 * table, with the cell group id shifted by `offset` into the block of API ids reserved for the cell.
 */
export const REFERENCE_COPIES: ReadonlyArray<{ readonly table: string; readonly columns: readonly string[]; select(offset: number): string }> = [
  {
    table: 'instance_groups',
    columns: ['id', 'user_id', 'project_id', 'uuid', 'name', 'created_at', 'updated_at'],
    select: (offset) => `SELECT id + ${offset}, user_id, project_id, uuid, name, created_at, updated_at FROM instance_groups WHERE deleted = 0`,
  },
  {
    table: 'instance_group_policy',
    columns: ['policy', 'group_id', 'created_at', 'updated_at'],
    select: (offset) => `SELECT policy, group_id + ${offset}, created_at, updated_at FROM instance_group_policy WHERE deleted = 0`,
  },
  {
    table: 'instance_group_member',
    columns: ['instance_uuid', 'group_id', 'created_at', 'updated_at'],
    select: (offset) => `SELECT instance_id, group_id + ${offset}, created_at, updated_at FROM instance_group_member WHERE deleted = 0`,
  },
];

/** The cell tables a generated deployment fills (analyzed after the bulk load). */
export const LEGACY_TABLES = ['instance_groups', 'instance_group_policy', 'instance_group_member', 'services', 'compute_nodes'] as const;

/** The cell tables the reference soft-deletes, children first. */
export const SOFT_DELETED_TABLES = ['instance_group_member', 'instance_group_policy', 'instance_groups'] as const;

/**
 * Runs `work` on each item, one after another: the reference is serial (issue #7: one cell after
 * another, one table after another), as a plain bulk copy by hand would be.
 */
export async function serially<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  for (const item of items) await work(item);
}

/** Seconds since `started` (a performance.now() value). */
export const since = (started: number): number => (performance.now() - started) / 1000;

/** The driver calls the instance-group reference needs, on a dialect's own client type `C`. */
export interface ReferenceDriver<C> {
  /** Opens one client per URL for `work`, and closes them after. */
  connected<T>(urls: readonly DatabaseUrl[], work: (clients: C[]) => Promise<T>): Promise<T>;
  /** The highest id in the API's instance_groups (0 when empty). */
  maxGroupId(api: C): Promise<number>;
  /** The lowest and highest live legacy group id of a cell, or undefined when it has none. */
  liveGroupRange(cell: C): Promise<{ lo: number; hi: number } | undefined>;
  /** Moves the API id generator past `last` (explicit ids do not move a PostgreSQL sequence). */
  reserveGroupIds(api: C, last: number): Promise<void>;
  /** Streams `select` on `source` into `table (columns)` on `target` with the bulk path; returns the rows. */
  copy(source: C, target: C, select: string, table: string, columns: readonly string[]): Promise<number>;
  /** One set-based soft-delete of a cell table (deleted = id); returns the rows. */
  softDelete(cell: C, table: string): Promise<number>;
}

/**
 * The instance-group reference on any dialect: API ids reserved up front, one block per cell (cell
 * ids collide, and a bulk copy cannot look up the id a group got: cell group id + offset is the API
 * id), then per cell, serially, REFERENCE_COPIES streamed with the bulk path and one soft-delete per
 * SOFT_DELETED_TABLES table.
 */
export async function referenceInstanceGroups<C>(driver: ReferenceDriver<C>, api: DatabaseUrl, cells: readonly DatabaseUrl[]): Promise<ReferenceResult> {
  const started = performance.now();
  const rows: Record<string, number> = {};
  const steps: Record<string, number> = {};
  await driver.connected([api, ...cells], async ([apiAdmin, ...cellClients]) => {
    let next = (await driver.maxGroupId(apiAdmin as C)) + 1;
    const plans: Array<{ cell: C; offset: number }> = [];
    for (const cell of cellClients) {
      const range = await driver.liveGroupRange(cell);
      if (!range) continue;
      const offset = next - range.lo;
      next = offset + range.hi + 1;
      plans.push({ cell, offset });
    }
    await driver.reserveGroupIds(apiAdmin as C, Math.max(1, next - 1));
    await serially(plans, ({ cell, offset }) =>
      driver.connected([api], async ([target]) => {
        for (const copy of REFERENCE_COPIES) {
          const n = await step(steps, `copy ${copy.table}`, () => driver.copy(cell, target as C, copy.select(offset), copy.table, copy.columns));
          rows[copy.table] = (rows[copy.table] ?? 0) + n;
        }
        for (const table of SOFT_DELETED_TABLES) {
          const n = await step(steps, `soft-delete ${table}`, () => driver.softDelete(cell, table));
          rows.soft_deleted = (rows.soft_deleted ?? 0) + n;
        }
      }),
    );
  });
  return { seconds: since(started), rows, steps };
}
