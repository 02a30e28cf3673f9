// The foreign-database guard (issue 15), as Flyway refuses a non-empty schema without its history
// table: a line whose ledger is absent from a database that already holds tables was not built by
// cellsdb (a Nova deployment, another tool's schema). Running the line there would collide with the
// existing objects half way through (MariaDB: "Duplicate key name …") and leave a ledger behind in
// someone else's database, so every writer asks this first and refuses before it writes anything;
// `baseline` is the way to adopt such a database on purpose.
import type { Sequelize } from 'sequelize';
import type { DatabaseHandle } from '../db/registry.js';
import { CellsdbError, ForeignDatabaseError } from '../errors.js';
import { HEAD_MODELS, PLANNED_REMOVALS } from '../schema/models.js';
import { LINES, type MigrationLine } from './lines.js';
import type { LineStatus } from './plan.js';
import type { LineTarget } from './target.js';

/** The tables of the current database (base tables only), sorted. */
export async function tablesOf(sequelize: Sequelize): Promise<string[]> {
  const raw: unknown[] = await sequelize.getQueryInterface().showAllTables();
  return raw
    .map((t) => (typeof t === 'string' ? t : String((t as { tableName?: unknown }).tableName ?? '')))
    .filter((t) => t !== '')
    .sort();
}

/**
 * The tables that make a database foreign to `line`: every table but cellsdb's ledgers, and (when
 * the other line's ledger is there, in a database shared by both lines) the other line's tables.
 */
export function foreignTables(line: MigrationLine, tables: readonly string[]): string[] {
  const ledgers = new Set(Object.values(LINES).map((l) => l.ledgerTable));
  const other = line.id === 'api' ? LINES.cell : LINES.api;
  const otherTables = new Set<string>();
  if (tables.includes(other.ledgerTable)) {
    for (const t of HEAD_MODELS[other.id].tables) otherTables.add(t.name);
    for (const r of PLANNED_REMOVALS) if (r.line === other.id) otherTables.add(r.table);
  }
  return tables.filter((t) => !ledgers.has(t) && !otherTables.has(t));
}

/**
 * The foreign tables of the target's database when its ledger is absent (none when the ledger is
 * there, or the database is empty).
 */
export async function foreignTablesWithoutLedger(sequelize: Sequelize, line: MigrationLine): Promise<string[]> {
  const tables = await tablesOf(sequelize);
  if (tables.includes(line.ledgerTable)) return [];
  return foreignTables(line, tables);
}

/** The command that adopts a database of `line` (for messages). */
export function baselineCommand(line: MigrationLine, label: string): string {
  if (line.id === 'api') return 'cellsdb api_db baseline VERSION';
  const cell = /^cell '(.*)'$/.exec(label)?.[1];
  return cell !== undefined ? `cellsdb db baseline VERSION --cell ${cell}` : 'cellsdb db baseline VERSION --local-cell';
}

/** The refusal for a database without the line's ledger that holds `tables`. */
export function foreignDatabaseError(target: Pick<LineTarget, 'line' | 'label' | 'url'>, tables: readonly string[], outcome: string): ForeignDatabaseError {
  const { line, label, url } = target;
  const n = tables.length;
  const some = tables.slice(0, 5).join(', ') + (n > 5 ? ', …' : '');
  return new ForeignDatabaseError(
    `${label} (${url.masked}) holds ${n} table${n === 1 ? '' : 's'} (${some}) but no cellsdb ${line.title} ledger (${line.ledgerTable}): ` +
      `it was not built by cellsdb. ${outcome}. To adopt it, run '${baselineCommand(line, label)}' with the version its schema matches ` +
      `(see docs/adoption.md); to use another database, fix the URL`,
  );
}

/**
 * Refuses a database that holds tables but no ledger of `line` (for the movers: on a database
 * cellsdb did not build they would find nothing to do and report "complete"). `exitCode` is the
 * caller's code for the refusal.
 */
export async function requireOwnDatabase(handle: DatabaseHandle, line: MigrationLine, label: string, outcome: string, exitCode?: number): Promise<void> {
  const foreign = await handle.run((s) => foreignTablesWithoutLedger(s, line));
  if (foreign.length === 0) return;
  const error = foreignDatabaseError({ line, label, url: handle.url }, foreign, outcome);
  throw exitCode === undefined ? error : new ForeignDatabaseError(error.message, { exitCode });
}

/**
 * Refuses a database whose line has migrations not yet applied, from its `status` (for the movers on
 * the API database: they copy idempotently on keys that an API migration adds, so an adopted Nova
 * API database must be synced first). `exitCode` is the caller's code for the refusal.
 */
export function requireLineAtHead(status: LineStatus, outcome: string, exitCode?: number): void {
  const behind = status.migrations.filter((m) => m.state === 'pending' || m.state === 'started').map((m) => m.name);
  if (behind.length === 0) return;
  const line = LINES[status.line];
  throw new CellsdbError(
    `${status.label} (${status.database}) is behind the ${line.title} line: ${behind.join(', ')} not applied. ${outcome}. Run '${line.command}' first`,
    exitCode === undefined ? {} : { exitCode },
  );
}
