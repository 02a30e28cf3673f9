import type { LineId } from '../migrate/types.js';
import type { SchemaShape, TableShape } from './artefacts.js';
import type { PlannedRemoval } from './models.js';

/** One difference between the expected schema and a database's. */
export interface DriftItem {
  /** `missing`: expected, not in the database; `extra`: in the database, not expected; `changed`: both, different. */
  readonly change: 'missing' | 'extra' | 'changed';
  readonly object: 'table' | 'column' | 'index' | 'foreign key' | 'primary key';
  readonly table: string;
  /** The column, index or foreign key; absent for a table or a primary key. */
  readonly name?: string;
  readonly expected?: string;
  readonly actual?: string;
  /** One line, for people: `+ instances.extra: column integer NULL (in the database, not expected)`. */
  readonly text: string;
}

/** An extra object that a planned removal explains, with its reason. */
export interface AllowedItem {
  readonly item: DriftItem;
  readonly reason: string;
}

/** The result of comparing two shapes. */
export interface DriftReport {
  readonly drift: readonly DriftItem[];
  readonly allowed: readonly AllowedItem[];
}

const list = (columns: readonly string[]): string => `(${columns.join(', ')})`;
const nullability = (nullable: boolean): string => (nullable ? 'NULL' : 'NOT NULL');
const describeColumn = (c: { type: string; nullable: boolean }): string => `${c.type} ${nullability(c.nullable)}`;
const describeIndex = (i: { columns: readonly string[]; unique: boolean }): string => `${list(i.columns)}${i.unique ? ' unique' : ''}`;
const describeFk = (f: { columns: readonly string[]; referencedTable: string; referencedColumns: readonly string[] }): string =>
  `${list(f.columns)} → ${f.referencedTable}${list(f.referencedColumns)}`;
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function item(change: DriftItem['change'], object: DriftItem['object'], table: string, name: string | undefined, expected: string | undefined, actual: string | undefined): DriftItem {
  const where = name === undefined ? table : `${table}.${name}`;
  const text =
    change === 'missing'
      ? `- ${where}: ${object} ${expected ?? ''} (expected, missing from the database)`
      : change === 'extra'
        ? `+ ${where}: ${object} ${actual ?? ''} (in the database, not expected)`
        : `~ ${where}: ${object} expected ${expected ?? ''}, the database has ${actual ?? ''}`;
  return {
    change,
    object,
    table,
    ...(name === undefined ? {} : { name }),
    ...(expected === undefined ? {} : { expected }),
    ...(actual === undefined ? {} : { actual }),
    text: text.replace(/ {2,}/g, ' '),
  };
}

function compareMaps<V>(
  object: DriftItem['object'],
  table: string,
  expected: ReadonlyMap<string, V>,
  actual: ReadonlyMap<string, V>,
  describe: (v: V) => string,
  out: DriftItem[],
): void {
  for (const name of [...new Set([...expected.keys(), ...actual.keys()])].sort(byName)) {
    const e = expected.get(name);
    const a = actual.get(name);
    if (e !== undefined && a === undefined) out.push(item('missing', object, table, name, describe(e), undefined));
    else if (e === undefined && a !== undefined) out.push(item('extra', object, table, name, undefined, describe(a)));
    else if (e !== undefined && a !== undefined && describe(e) !== describe(a)) out.push(item('changed', object, table, name, describe(e), describe(a)));
  }
}

function compareTables(e: TableShape, a: TableShape, out: DriftItem[]): void {
  const pk = (t: TableShape) => (t.primaryKey ? list(t.primaryKey) : 'none');
  if (pk(e) !== pk(a)) out.push(item('changed', 'primary key', e.name, undefined, pk(e), pk(a)));
  compareMaps('column', e.name, e.columns, a.columns, describeColumn, out);
  compareMaps('index', e.name, e.indexes, a.indexes, describeIndex, out);
  compareMaps('foreign key', e.name, e.foreignKeys, a.foreignKeys, describeFk, out);
}

function plannedRemoval(line: LineId, d: DriftItem, removals: readonly PlannedRemoval[]): PlannedRemoval | undefined {
  if (d.change !== 'extra') return undefined;
  return removals.find((r) => {
    if (r.line !== line || r.table !== d.table) return false;
    if (r.column !== undefined) return d.object === 'column' && d.name === r.column;
    if (r.index !== undefined) return d.object === 'index' && d.name === r.index;
    if (r.foreignKey !== undefined) return d.object === 'foreign key' && d.name === r.foreignKey;
    // A whole table planned for removal covers everything in it.
    return true;
  });
}

/**
 * Compares a database's schema with the expected one: tables, columns (type class and
 * nullability), the primary key, indexes and unique keys (by name: columns in order, uniqueness),
 * and foreign keys (by name: columns and referenced table and columns). Extra objects that a
 * {@link PlannedRemoval} of the line names are reported as allowed, not as drift.
 */
export function diffSchemas(line: LineId, expected: SchemaShape, actual: SchemaShape, removals: readonly PlannedRemoval[] = []): DriftReport {
  const items: DriftItem[] = [];
  for (const name of [...new Set([...expected.keys(), ...actual.keys()])].sort(byName)) {
    const e = expected.get(name);
    const a = actual.get(name);
    if (e && !a) items.push(item('missing', 'table', name, undefined, `with ${e.columns.size} columns`, undefined));
    else if (!e && a) items.push(item('extra', 'table', name, undefined, undefined, `with ${a.columns.size} columns`));
    else if (e && a) compareTables(e, a, items);
  }
  const drift: DriftItem[] = [];
  const allowed: AllowedItem[] = [];
  for (const d of items) {
    const removal = plannedRemoval(line, d, removals);
    if (removal) allowed.push({ item: d, reason: removal.reason });
    else drift.push(d);
  }
  return { drift, allowed };
}


/**
 * Pairs each missing index or foreign key with an extra one of the same table and the same shape
 * (columns in order and uniqueness; columns and referenced table and columns): a database built by
 * other software (Nova's own migrations, plain DDL) names its constraints its own way, and the
 * object is there all the same (issue 15). Each pair leaves the drift and is reported as allowed,
 * with the database's name.
 */
export function matchByShape(report: DriftReport): DriftReport {
  const drift = [...report.drift];
  const allowed = [...report.allowed];
  const shapeOf = (d: DriftItem): string | undefined => d.expected ?? d.actual;
  for (const missing of report.drift) {
    if (missing.change !== 'missing' || (missing.object !== 'index' && missing.object !== 'foreign key')) continue;
    const twin = drift.find((d) => d.change === 'extra' && d.object === missing.object && d.table === missing.table && shapeOf(d) === shapeOf(missing));
    if (!twin) continue;
    drift.splice(drift.indexOf(missing), 1);
    drift.splice(drift.indexOf(twin), 1);
    allowed.push({ item: missing, reason: `the database has it as ${twin.name ?? '?'} ${missing.object === 'index' ? '(same columns and uniqueness)' : '(same columns and reference)'}` });
  }
  return { drift, allowed };
}

/**
 * Moves every extra object (table, column, index, foreign key) from the drift to the allowed list:
 * in an adopted database other software owns them (issue 15). What is missing or changed stays.
 */
export function allowExtras(report: DriftReport, reason: string): DriftReport {
  return {
    drift: report.drift.filter((d) => d.change !== 'extra'),
    allowed: [...report.allowed, ...report.drift.filter((d) => d.change === 'extra').map((item) => ({ item, reason }))],
  };
}
