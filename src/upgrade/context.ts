import pLimit from 'p-limit';
import { CELL0_UUID, type CellMappingRow, cellLabel, type HostMappingRow, MappingStore } from '../cells/mappings.js';
import { computeHostsOf } from '../cells/cell-v2.js';
import { cellDatabaseUrl, targetCell } from '../cells/targeting.js';
import { type Config, DEFAULTS } from '../config/index.js';
import type { StatementTimeouts } from '../db/dialect.js';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import { isMissingTable } from '../db/translate-error.js';
import type { MigrationLine } from '../migrate/lines.js';
import { type PlanAim, readPlan, type SyncPlan } from '../migrate/plan.js';
import type { LineId } from '../migrate/types.js';
import { NO_FAILPOINTS } from '../movers/failpoints.js';
import type { Mover, MoverContext } from '../movers/types.js';
import type { ServiceGroupApi } from '../servicegroup/api.js';
import type { DatabaseUrl } from '../url/index.js';

/** What `upgrade check` needs to know. */
export interface UpgradeCheckOptions {
  readonly registry: ConnectionRegistry;
  /** The API database, connected. */
  readonly api: DatabaseHandle;
  readonly apiUrl: DatabaseUrl;
  /** Resolves compute nodes that know their host only through their service (as discover_hosts does). */
  readonly serviceGroup: ServiceGroupApi;
  readonly lines: Readonly<Record<LineId, MigrationLine>>;
  /** The version each line must have reached (a name or number). @default the head of the line */
  readonly apiVersion?: string | undefined;
  readonly cellVersion?: string | undefined;
  readonly config: Pick<Config, 'migrationLockWaitMs' | 'ddlLockTimeoutMs' | 'statementTimeoutMs'>;
  readonly movers: readonly Mover[];
  /** Timeouts of the movers' counting queries. */
  readonly timeouts: StatementTimeouts;
  /** Cells looked at once. @default 4 */
  readonly concurrency?: number | undefined;
}

/** What one cell looked like. `error` is set when its database could not be reached. */
export interface CellFacts {
  readonly cell: CellMappingRow;
  readonly error?: string;
  /** The cell line's sync plan in this cell, towards the cell version asked for. */
  readonly plan?: SyncPlan;
  readonly planError?: string;
  /** Compute hosts of the cell (its live compute nodes' hosts); cell0 has none. */
  readonly computeHosts?: readonly string[];
  readonly computeHostsError?: string;
  /** Per mover: rows left and how many of them need an operator, or why it cannot tell. */
  readonly movers: ReadonlyArray<{ readonly mover: string; readonly remaining: number; readonly blocked: number; readonly behind?: string; readonly error?: string }>;
}

/** Everything the checks read, gathered once: the API database and every mapped cell. */
export interface UpgradeFacts {
  readonly cells: readonly CellMappingRow[];
  readonly hostMappings: readonly HostMappingRow[];
  /** The API line's sync plan, towards the API version asked for. */
  readonly apiPlan: SyncPlan;
  readonly perCell: readonly CellFacts[];
}

async function moverFacts(options: UpgradeCheckOptions, ctx: MoverContext): Promise<CellFacts['movers']> {
  const out: Array<CellFacts['movers'][number]> = [];
  for (const mover of options.movers) {
    try {
      const readiness = await mover.readiness(ctx);
      if (readiness.state === 'finished') out.push({ mover: mover.name, remaining: 0, blocked: 0 });
      else if (readiness.state === 'behind') out.push({ mover: mover.name, remaining: 0, blocked: 0, behind: readiness.reason });
      else out.push({ mover: mover.name, ...(await mover.estimate(ctx)) });
    } catch (error) {
      out.push({ mover: mover.name, remaining: 0, blocked: 0, error: (error as Error).message });
    }
  }
  return out;
}

/** The version each line is checked against, resolved before anything is read. */
export interface UpgradeAims {
  readonly api: PlanAim;
  readonly cell: PlanAim;
}

async function cellFacts(options: UpgradeCheckOptions, aims: UpgradeAims, cell: CellMappingRow): Promise<CellFacts> {
  let handle: DatabaseHandle;
  try {
    cellDatabaseUrl(cell);
    handle = targetCell(options.registry, cell);
    await handle.run((s) => s.authenticate());
  } catch (error) {
    return { cell, error: (error as Error).message, movers: [] };
  }
  const facts: { plan?: SyncPlan; planError?: string; computeHosts?: string[]; computeHostsError?: string } = {};
  try {
    facts.plan = await readPlan({ registry: options.registry, url: handle.url, line: options.lines.cell, label: `cell '${cellLabel(cell)}'`, config: options.config }, aims.cell);
  } catch (error) {
    facts.planError = (error as Error).message;
  }
  if (cell.uuid !== CELL0_UUID) {
    try {
      facts.computeHosts = await computeHostsOf(handle, cell, options.serviceGroup);
    } catch (error) {
      // A cell database never synced has no compute_nodes: it has no hosts (its schema check fails).
      if (isMissingTable(error)) facts.computeHosts = [];
      else facts.computeHostsError = (error as Error).message;
    }
  }
  const movers = await moverFacts(options, { cell, cellDb: handle, apiDb: options.api, timeouts: options.timeouts, failpoint: NO_FAILPOINTS });
  return { cell, ...facts, movers };
}

/** Reads the API database and every mapped cell, `concurrency` cells at a time. Read-only. */
export async function gatherUpgradeFacts(options: UpgradeCheckOptions, aims: UpgradeAims): Promise<UpgradeFacts> {
  const store = new MappingStore(options.api);
  const apiPlan = await readPlan({ registry: options.registry, url: options.apiUrl, line: options.lines.api, label: 'API database', config: options.config }, aims.api);
  let cells: CellMappingRow[] = [];
  let hostMappings: HostMappingRow[] = [];
  try {
    cells = await store.listCells();
    hostMappings = await store.hostMappings();
  } catch (error) {
    // An API database never synced maps nothing: the checks say so (and that its schema is behind).
    if (!isMissingTable(error)) throw error;
  }
  const limit = pLimit(Math.max(1, options.concurrency ?? DEFAULTS.concurrency));
  const perCell = await Promise.all(cells.map((cell) => limit(() => cellFacts(options, aims, cell))));
  return { cells, hostMappings, apiPlan, perCell };
}
