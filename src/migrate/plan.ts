// The sync plan of one line in one database, decided in one place. As kysely's Migrator computes
// its pending list once and lets status and previews read it, every command that asks "where is this
// database, and what would a sync do?" reads this plan: `sync` (under the lock, then acts on it),
// `sync --dry-run`, `status` and `version`, `schema check` and `upgrade check`. The plan holds the
// ledger's integrity (dirty, missing, changed, out-of-order), the current version, the target
// version, the pending list up to it, and what a sync must refuse.
import { DirtyLedgerError, InvalidInputError, LedgerIntegrityError, type CellsdbError } from '../errors.js';
import { foreignTablesWithoutLedger } from './foreign.js';
import { Ledger, type LedgerRow } from './ledger.js';
import { listMigrationFiles, type MigrationFile, type MigrationLine, resolveVersion } from './lines.js';
import type { LineTarget } from './target.js';

/** One problem found when comparing the ledger with the files. */
export interface LedgerProblem {
  readonly kind: 'dirty' | 'missing' | 'changed' | 'out-of-order';
  readonly name: string;
  readonly message: string;
}

/** The state of each migration of a line in one database. */
export interface MigrationState {
  readonly name: string;
  readonly state: 'applied' | 'pending' | 'started' | 'missing';
  readonly appliedAt: Date | null;
}

/** `status` of a line in one database: the plan as `status` and `version` print it. */
export interface LineStatus {
  readonly line: MigrationLine['id'];
  readonly label: string;
  readonly database: string;
  readonly current: string | null;
  readonly head: string | null;
  readonly migrations: readonly MigrationState[];
  readonly problems: readonly LedgerProblem[];
}

/** What a command aims at, decided from the files before any database is read. */
export interface PlanAim {
  readonly line: MigrationLine;
  readonly files: readonly MigrationFile[];
  /** The VERSION asked for, else the head; `undefined` only for a line without migrations. */
  readonly target: MigrationFile | undefined;
}

/** The sync plan of one line in one database. Versions are migration names; `null` is an empty database. */
export interface SyncPlan extends PlanAim {
  readonly label: string;
  readonly rows: readonly LedgerRow[];
  /** The newest applied migration; a ledger ahead of the code has the highest name it holds. */
  readonly current: string | null;
  readonly head: string | null;
  /** Where the database stands against the target (`past`: a sync to the target would be a downgrade). */
  readonly position: 'behind' | 'at' | 'past';
  /** What a sync to the target applies, in order. */
  readonly pending: readonly MigrationFile[];
  readonly problems: readonly LedgerProblem[];
  /**
   * Set by {@link readPlan} when the database has no ledger of this line but holds other tables:
   * they are someone else's, and no sync will run there until `baseline` adopts the database.
   */
  readonly foreignTables?: readonly string[];
}

/**
 * The files of a line and the version aimed at: `version` (a name or a number) or the head.
 * An unknown VERSION is invalid input, refused before any database is read.
 */
export function planAim(line: MigrationLine, version?: string): PlanAim {
  const files = listMigrationFiles(line);
  return { line, files, target: version !== undefined ? resolveVersion(line, files, version) : files.at(-1) };
}

/** Compares the ledger with the files: dirty, missing, changed and out-of-order migrations. */
/** Whether a started row is a resumable migration, unchanged since, that the next sync completes. */
const resumes = (row: LedgerRow, file: MigrationFile | undefined): boolean => row.state === 'started' && row.resumable && file !== undefined && file.checksum === row.checksum;

/**
 * Checksums of earlier versions of a shipped migration that a ledger may hold and that stand for the
 * file now on disk. Used once, before the first release: the API line's 0001 gave its two unique
 * keys to 0002 so that a Nova API database matches 0001 and can be baselined (issue 15). A database
 * built with the earlier file has the keys, and 0002 finds them there and does nothing. Never add a
 * checksum here for a migration whose effect changed.
 */
const SUPERSEDED_CHECKSUMS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'api/0001_initial_api_schema': Object.freeze(['d3c081b6e88d52b8f567920eca06c113c521cf3dccf79c49238859e703313068']),
});

/** Whether a ledger row's checksum stands for `file` as it is now. */
export function checksumMatches(line: MigrationLine, file: MigrationFile, checksum: string): boolean {
  return file.checksum === checksum || (SUPERSEDED_CHECKSUMS[`${line.id}/${file.name}`] ?? []).includes(checksum);
}

export function ledgerProblems(line: MigrationLine, files: readonly MigrationFile[], rows: readonly LedgerRow[], label: string): LedgerProblem[] {
  const problems: LedgerProblem[] = [];
  const byName = new Map(files.map((f) => [f.name, f]));
  const applied = new Set(rows.map((r) => r.name));
  const flag = line.id === 'api' ? 'api_db sync' : 'db sync';
  for (const row of rows) {
    const file = byName.get(row.name);
    // A resumable migration that died half way is completed by the next sync (issue 15).
    if (resumes(row, file)) continue;
    if (row.state === 'started') {
      problems.push({
        kind: 'dirty',
        name: row.name,
        message:
          `${line.title} migration ${row.name} started on ${label}${row.startedAt ? ` at ${row.startedAt.toISOString()}` : ''}` +
          `${row.appliedBy ? ` (by ${row.appliedBy})` : ''} and never finished; its DDL may be half done. Compare the schema with the migration, ` +
          `then run 'cellsdb ${flag} --mark-applied ${row.name}' if it completed, or undo its partial changes and run 'cellsdb ${flag} --mark-pending ${row.name}'`,
      });
    }
    if (!file) {
      problems.push({
        kind: 'missing',
        name: row.name,
        message: `${line.title} migration ${row.name} is applied on ${label} but missing from ${line.directory}: the database is ahead of this code, or the file was removed`,
      });
    } else if (row.state === 'applied' && !checksumMatches(line, file, row.checksum)) {
      problems.push({
        kind: 'changed',
        name: row.name,
        message: `${line.title} migration ${row.name} was changed after it was applied on ${label} (checksum differs): restore the file as it was applied, and put new changes in a new migration`,
      });
    }
  }
  const lastApplied = files.reduce((last, f, i) => (applied.has(f.name) ? i : last), -1);
  for (const f of files.slice(0, lastApplied + 1)) {
    if (!applied.has(f.name)) {
      problems.push({
        kind: 'out-of-order',
        name: f.name,
        message: `${line.title} migration ${f.name} is pending on ${label} but sorts before migrations already applied: renumber it after the last applied one`,
      });
    }
  }
  return problems;
}

function currentVersion(files: readonly MigrationFile[], rows: readonly LedgerRow[]): string | null {
  const applied = new Set(rows.filter((r) => r.state === 'applied').map((r) => r.name));
  let current: string | null = null;
  for (const f of files) if (applied.has(f.name)) current = f.name;
  // A ledger ahead of the code still has a current version: the highest name it holds.
  const maxRow = rows.filter((r) => r.state === 'applied').map((r) => r.name).sort().at(-1) ?? null;
  if (maxRow !== null && (current === null || maxRow > current)) return maxRow;
  return current;
}

/** Decides the plan from the aim and the ledger's rows. Pure: reading the rows (under a lock or not) is the caller's. */
export function decidePlan(aim: PlanAim, rows: readonly LedgerRow[], label: string): SyncPlan {
  const { line, files, target } = aim;
  const current = currentVersion(files, rows);
  // Any row counts as not pending: a started one is a problem that refuses the sync anyway.
  const byName = new Map(files.map((f) => [f.name, f]));
  const recorded = new Set(rows.filter((r) => !resumes(r, byName.get(r.name))).map((r) => r.name));
  const pending = target === undefined ? [] : files.filter((f) => !recorded.has(f.name) && f.number <= target.number);
  const position = target === undefined ? 'at' : current === null || current < target.name ? 'behind' : current === target.name ? 'at' : 'past';
  return { ...aim, label, rows, current, head: files.at(-1)?.name ?? null, position, pending, problems: ledgerProblems(line, files, rows, label) };
}

/**
 * What a sync must refuse, in the order it refuses it: a ledger problem (a dirty migration first
 * of all), then a target behind the current version (no downgrades, as Nova). `outcome` ends the
 * integrity message ('nothing was run'). `undefined` when the plan may run.
 */
export function planRefusal(plan: SyncPlan, outcome: string): CellsdbError | undefined {
  const first = plan.problems[0];
  if (first) {
    const n = plan.problems.length;
    const more = n > 1 ? ` (and ${n - 1} more problem${n > 2 ? 's' : ''}; see 'status')` : '';
    const ErrorClass = first.kind === 'dirty' ? DirtyLedgerError : LedgerIntegrityError;
    return new ErrorClass(`${first.message}${more}; ${outcome}`);
  }
  if (plan.position === 'past' && plan.target) {
    return new InvalidInputError(
      `cannot go back to ${plan.line.title} version ${plan.target.name}: ${plan.label} is at ${plan.current} and cellsdb does not downgrade (as Nova); restore a backup to go back`,
    );
  }
  return undefined;
}

/** Reads the ledger of one database (no lock is taken: nothing is written) and decides its plan. */
export async function readPlan(target: LineTarget, aim: PlanAim = planAim(target.line)): Promise<SyncPlan> {
  const handle = await target.registry.connect(target.url);
  const rows = await handle.run(() => new Ledger(handle.sequelize, target.line.ledgerTable).rows());
  const plan = decidePlan(aim, rows, target.label);
  if (rows.length > 0) return plan;
  const foreign = await handle.run((s) => foreignTablesWithoutLedger(s, target.line));
  return foreign.length > 0 ? { ...plan, foreignTables: foreign } : plan;
}

/** The plan as `status` shows it: every migration's state, files first, then rows without a file. */
export function statusOf(plan: SyncPlan, database: string): LineStatus {
  const byName = new Map(plan.rows.map((r) => [r.name, r]));
  const migrations: MigrationState[] = plan.files.map((f) => {
    const row = byName.get(f.name);
    return { name: f.name, state: row ? row.state : 'pending', appliedAt: row?.appliedAt ?? null };
  });
  const known = new Set(plan.files.map((f) => f.name));
  for (const row of plan.rows) if (!known.has(row.name)) migrations.push({ name: row.name, state: 'missing', appliedAt: row.appliedAt });
  return { line: plan.line.id, label: plan.label, database, current: plan.current, head: plan.head, migrations, problems: plan.problems };
}
