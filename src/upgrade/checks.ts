// `upgrade check`, like `nova-status upgrade check`: may this cloud's upgrade go on? Each check
// answers Success, Warning or Failure with the details an operator needs and the command that fixes
// it. Everything is read, nothing is written.
import { CELL0_UUID, cellLabel } from '../cells/mappings.js';
import type { MigrationLine } from '../migrate/lines.js';
import { baselineCommand } from '../migrate/foreign.js';
import { planAim, type SyncPlan } from '../migrate/plan.js';
import { displayUrl } from '../url/index.js';
import { type CellFacts, gatherUpgradeFacts, type UpgradeCheckOptions, type UpgradeFacts } from './context.js';

export type { UpgradeCheckOptions } from './context.js';

/** nova-status's three results. */
export type UpgradeResult = 'Success' | 'Warning' | 'Failure';

export interface UpgradeCheckResult {
  readonly name: string;
  readonly result: UpgradeResult;
  /** Lines for people; empty on a plain success. */
  readonly details: readonly string[];
}

/** Exit codes of `upgrade check` (nova-status's). */
export const UpgradeExit = { success: 0, warning: 1, failure: 2, error: 255 } as const;

/** The worst result decides: 2 on any Failure, 1 on any Warning, else 0. */
export function upgradeExitCode(results: readonly UpgradeCheckResult[]): number {
  if (results.some((r) => r.result === 'Failure')) return UpgradeExit.failure;
  if (results.some((r) => r.result === 'Warning')) return UpgradeExit.warning;
  return UpgradeExit.success;
}

const check = (name: string, result: UpgradeResult, details: readonly string[] = []): UpgradeCheckResult => ({ name, result, details });
const label = (f: CellFacts): string => `cell '${cellLabel(f.cell)}'`;
const reachable = (facts: UpgradeFacts): CellFacts[] => facts.perCell.filter((f) => f.error === undefined);

function cell0Mapped(facts: UpgradeFacts): UpgradeCheckResult {
  const cell0 = facts.cells.find((c) => c.uuid === CELL0_UUID);
  if (!cell0) return check('Cell0 mapped', 'Failure', ["No cell0 mapping found. Run 'cellsdb cell_v2 map_cell0'."]);
  return check('Cell0 mapped', 'Success', [`cell0 → ${displayUrl(cell0.databaseConnection)}`]);
}

function cellsMapped(facts: UpgradeFacts): UpgradeCheckResult {
  const cells = facts.cells.filter((c) => c.uuid !== CELL0_UUID);
  if (cells.length === 0) {
    return check('Cells mapped', 'Failure', [
      "There needs to be at least two cell mappings, one for cell0 and one for your compute hosts. Run 'cellsdb cell_v2 create_cell'.",
    ]);
  }
  const disabled = cells.filter((c) => c.disabled).map((c) => `cell '${cellLabel(c)}' is disabled: no new instances are scheduled to it`);
  return check('Cells mapped', disabled.length > 0 && disabled.length === cells.length ? 'Warning' : 'Success', [
    `${cells.length} cell${cells.length === 1 ? '' : 's'} besides cell0: ${cells.map((c) => cellLabel(c)).join(', ')}`,
    ...disabled,
  ]);
}

function cellsReachable(facts: UpgradeFacts): UpgradeCheckResult {
  const down = facts.perCell.filter((f) => f.error !== undefined);
  if (down.length > 0) {
    return check(
      'Cell databases reachable',
      'Failure',
      down.map((f) => `${label(f)} (${displayUrl(f.cell.databaseConnection)}): ${f.error ?? ''}`),
    );
  }
  return check('Cell databases reachable', 'Success', facts.perCell.length > 0 ? [`${facts.perCell.length} of ${facts.perCell.length} reachable`] : []);
}

function computeHostsMapped(facts: UpgradeFacts): UpgradeCheckResult {
  const mapped = new Map(facts.hostMappings.map((h) => [h.host, h.cellId]));
  const cells = reachable(facts).filter((f) => f.cell.uuid !== CELL0_UUID);
  const unreadable = cells.filter((f) => f.computeHostsError !== undefined).map((f) => `${label(f)}: cannot list compute hosts: ${f.computeHostsError ?? ''}`);
  const unmapped = cells.flatMap((f) => (f.computeHosts ?? []).filter((h) => !mapped.has(h)).map((h) => ({ host: h, cell: f })));
  const elsewhere = cells.flatMap((f) => (f.computeHosts ?? []).filter((h) => mapped.has(h) && mapped.get(h) !== f.cell.id).map((h) => ({ host: h, cell: f })));
  const total = cells.reduce((n, f) => n + (f.computeHosts?.length ?? 0), 0);
  if (unmapped.length > 0 || unreadable.length > 0) {
    return check('Compute hosts mapped', 'Failure', [
      ...unmapped.map((u) => `compute host '${u.host}' in ${label(u.cell)} has no host mapping`),
      ...unreadable,
      ...(unmapped.length > 0 ? ["Run 'cellsdb cell_v2 discover_hosts' to map them."] : []),
    ]);
  }
  if (elsewhere.length > 0) {
    return check(
      'Compute hosts mapped',
      'Warning',
      elsewhere.map((e) => `compute host '${e.host}' in ${label(e.cell)} is mapped to another cell: requests for it go there`),
    );
  }
  if (total === 0) {
    return check('Compute hosts mapped', 'Warning', [
      "No compute hosts were found in any cell. Remember to run 'cellsdb cell_v2 discover_hosts' when new compute hosts are deployed.",
    ]);
  }
  return check('Compute hosts mapped', 'Success', [`${total} compute host${total === 1 ? '' : 's'}, all mapped`]);
}

/** A database without the line's ledger that holds tables: not "run sync" (it would refuse) but how to adopt it. */
function notOurs(what: string, tables: readonly string[], line: MigrationLine, label: string): string {
  return `${what} holds ${tables.length} table${tables.length === 1 ? '' : 's'} but no cellsdb ${line.title} ledger: cellsdb did not build it. Adopt it with '${baselineCommand(line, label)}' (see docs/adoption.md)`;
}

const goalName = (plan: SyncPlan): string => plan.target?.name ?? 'head';

function apiSchema(facts: UpgradeFacts, line: MigrationLine): UpgradeCheckResult {
  const p = facts.apiPlan;
  if (p.foreignTables) return check('API database schema', 'Failure', [notOurs('the API database', p.foreignTables, line, 'API database')]);
  if (p.position !== 'behind') {
    return check('API database schema', 'Success', [p.current === p.target?.name ? `at ${p.current ?? 'no version'}` : `at ${p.current ?? 'no version'}, past ${goalName(p)}`]);
  }
  return check('API database schema', 'Failure', [`the API database is at ${p.current ?? 'no version'} and must be at ${goalName(p)}: run '${line.command}'`]);
}

function cellSchemas(facts: UpgradeFacts, goal: string, line: MigrationLine): UpgradeCheckResult {
  const cells = reachable(facts);
  const unreadable = cells.filter((f) => f.planError !== undefined).map((f) => `${label(f)}: cannot read its ledger: ${f.planError ?? ''}`);
  const foreign = cells.flatMap((f) => (f.plan?.foreignTables ? [notOurs(label(f), f.plan.foreignTables, line, label(f))] : []));
  const behind = cells.filter((f) => f.plan?.position === 'behind' && !f.plan.foreignTables).map((f) => `${label(f)} is at ${f.plan?.current ?? 'no version'} and must be at ${goal}`);
  if (behind.length > 0 || unreadable.length > 0 || foreign.length > 0) {
    return check('Cell database schemas', 'Failure', [...foreign, ...behind, ...unreadable, ...(behind.length > 0 ? [`Run '${line.command}' (cell0 first, then every cell).`] : [])]);
  }
  const skipped = facts.perCell.length - cells.length;
  return check('Cell database schemas', 'Success', [
    `${cells.length} cell${cells.length === 1 ? '' : 's'} at ${goal} or later${skipped > 0 ? ` (${skipped} unreachable, not checked)` : ''}`,
  ]);
}

function ledgers(facts: UpgradeFacts): UpgradeCheckResult {
  const problems = [
    ...facts.apiPlan.problems.map((p) => `API database: ${p.message}`),
    ...reachable(facts).flatMap((f) => (f.plan?.problems ?? []).map((p) => `${label(f)}: ${p.message}`)),
  ];
  if (problems.length > 0) return check('Migration ledgers', 'Failure', problems);
  return check('Migration ledgers', 'Success', ['no dirty, missing, changed or out-of-order migration']);
}

function onlineDataMigrations(facts: UpgradeFacts): UpgradeCheckResult {
  const left: string[] = [];
  const behind: string[] = [];
  for (const f of reachable(facts)) {
    for (const m of f.movers) {
      if (m.error !== undefined) left.push(`${label(f)}: ${m.mover} could not count its rows: ${m.error}`);
      else if (m.behind !== undefined) behind.push(`${label(f)}: ${m.mover} cannot run yet: ${m.behind}`);
      else if (m.remaining > 0) {
        left.push(`${label(f)}: ${m.mover} has ${m.remaining} row${m.remaining === 1 ? '' : 's'} left${m.blocked > 0 ? ` (${m.blocked} need an operator: see 'cellsdb db online_data_migrations')` : ''}`);
      }
    }
  }
  if (left.length > 0) {
    return check('Online data migrations', 'Failure', [
      ...left,
      "A blocker migration refuses 'cellsdb db sync' until they are done. Run 'cellsdb db online_data_migrations' until it exits 0.",
    ]);
  }
  if (behind.length > 0) return check('Online data migrations', 'Warning', behind);
  return check('Online data migrations', 'Success', ['every mover is complete in every reachable cell']);
}

/**
 * Runs every check. Unknown versions are refused (invalid input) before anything is read. The
 * schema and ledger checks read each database's sync plan (src/migrate/plan.ts), the one `sync`
 * would act on. An API
 * database that cannot be read is an error for the caller (nova-status exits 255 then); a cell
 * that cannot be reached is a Failure of its own check, and the others look at the rest.
 */
export async function runUpgradeChecks(options: UpgradeCheckOptions): Promise<UpgradeCheckResult[]> {
  const aims = { api: planAim(options.lines.api, options.apiVersion), cell: planAim(options.lines.cell, options.cellVersion) };
  const facts = await gatherUpgradeFacts(options, aims);
  return [
    cell0Mapped(facts),
    cellsMapped(facts),
    cellsReachable(facts),
    computeHostsMapped(facts),
    apiSchema(facts, options.lines.api),
    cellSchemas(facts, aims.cell.target?.name ?? 'head', options.lines.cell),
    ledgers(facts),
    onlineDataMigrations(facts),
  ];
}
