// `schema check` against live databases, read-only: per database, reachable, pending migrations and
// ledger integrity (from its sync plan, as `sync` would see it), and drift from the declared models
// (at head) or from a scratch copy of its line replayed to its version (behind head).
import type { Config } from '../config/index.js';
import type { ConnectionRegistry } from '../db/registry.js';
import type { MigrationLine } from '../migrate/lines.js';
import { foreignDatabaseError } from '../migrate/foreign.js';
import { syncLine } from '../migrate/migrator.js';
import { readPlan, type SyncPlan } from '../migrate/plan.js';
import type { LineTarget } from '../migrate/target.js';
import type { LineId } from '../migrate/types.js';
import type { CheckResult } from '../report/checks.js';
import type { DatabaseUrl } from '../url/index.js';
import { type SchemaShape, shapeFromDatabase, shapeFromModels } from './artefacts.js';
import { type DatabaseFindings, driftCheck, integrityCheck, Recorder } from './check-recorder.js';
import { allowExtras, diffSchemas, matchByShape } from './drift.js';
import { type DeclaredSchema, HEAD_MODELS, PLANNED_REMOVALS, type PlannedRemoval } from './models.js';
import { serverIdentity, withScratchDatabase } from '../db/scratch.js';

/** What the live check needs (a part of `SchemaCheckOptions`). */
export interface LiveCheckInputs {
  /** `connectTimeoutMs` is the scratch databases' (`--connect-timeout`). */
  readonly config: Pick<Config, 'migrationLockWaitMs' | 'ddlLockTimeoutMs' | 'statementTimeoutMs' | 'connectTimeoutMs'>;
  /** Connections to live databases (closed by the caller). */
  readonly registry: ConnectionRegistry;
  /** Where a database behind head is replayed: the first server of its dialect, else its own. */
  readonly scratchServers: readonly DatabaseUrl[];
  /** @default HEAD_MODELS */
  readonly models?: Readonly<Record<LineId, DeclaredSchema>> | undefined;
  /** @default PLANNED_REMOVALS */
  readonly removals?: readonly PlannedRemoval[] | undefined;
  /** Progress, and any scratch database that could not be dropped: one line each, for stderr. */
  readonly onProgress?: ((text: string) => void) | undefined;
}

/** Scratch replays shared by the databases of one run: one per server, line and version. */
export type Replays = Map<string, Promise<SchemaShape>>;

/** A scratch copy of `line` at `version`, reflected (one per server, line and version in a run). */
export function replayedShape(options: LiveCheckInputs, replays: Replays, live: DatabaseUrl, line: MigrationLine, version: string): Promise<SchemaShape> {
  const server = options.scratchServers.find((s) => s.dialect === live.dialect) ?? live;
  const key = `${serverIdentity(server)}|${line.directory}|${version}`;
  let shape = replays.get(key);
  if (!shape) {
    shape = withScratchDatabase(server, `replay_${line.id}`, async (scratch) => {
      await syncLine({ registry: scratch.registry, url: scratch.url, line, label: `scratch copy of the ${line.title} line`, config: options.config }, version);
      const handle = scratch.registry.open(scratch.url);
      return shapeFromDatabase(await handle.run((s) => handle.dialect.describeSchema(s)), server.dialect);
    }, { onLeftBehind: options.onProgress, connectTimeoutMs: options.config.connectTimeoutMs });
    replays.set(key, shape);
  }
  return shape;
}

/** The checks of one live database, read-only: reachable, pending migrations, ledger integrity, drift. */
export async function checkLive(options: LiveCheckInputs, replays: Replays, subject: string, url: DatabaseUrl, line: MigrationLine): Promise<{ checks: CheckResult[]; findings?: DatabaseFindings }> {
  const rec = new Recorder(subject);
  let started = Date.now();
  let handle;
  try {
    handle = await options.registry.connect(url, { purpose: 'schema-check', max: 1 });
    rec.add('reachable', 'passed', url.masked, [], started);
  } catch (error) {
    rec.add('reachable', 'error', (error as Error).message, [], started);
    for (const name of ['pending migrations', 'ledger integrity', 'schema drift']) rec.add(name, 'skipped', 'the database could not be reached', [], Date.now());
    return { checks: rec.checks };
  }
  started = Date.now();
  const target: LineTarget = { registry: options.registry, url, line, label: subject, config: options.config };
  let plan: SyncPlan;
  try {
    plan = await readPlan(target);
  } catch (error) {
    rec.add('pending migrations', 'error', `cannot read the ledger: ${(error as Error).message}`, [], started);
    for (const name of ['ledger integrity', 'schema drift']) rec.add(name, 'skipped', 'the ledger could not be read', [], Date.now());
    return { checks: rec.checks };
  }
  const pending = plan.pending.map((f) => f.name);
  if (plan.foreignTables) {
    // Not "run sync": a sync would refuse (the foreign-database guard). Say what the database is.
    rec.add('pending migrations', 'failed', foreignDatabaseError(target, plan.foreignTables, 'Nothing was checked against the line').message, [...plan.foreignTables], started);
    for (const name of ['ledger integrity', 'schema drift']) rec.add(name, 'skipped', `the database has no cellsdb ${line.title} ledger`, [], Date.now());
    return { checks: rec.checks, findings: { subject, line: line.id, database: url.masked, current: null, head: plan.head, pending, problems: plan.problems } };
  }
  if (pending.length > 0) {
    rec.add('pending migrations', 'pending', `${pending.length} ${line.title} migration${pending.length === 1 ? '' : 's'} pending (at ${plan.current ?? 'no version'}, head ${plan.head ?? 'none'}): run '${line.command}'`, pending, started);
  } else {
    rec.add('pending migrations', 'passed', `at ${plan.current ?? 'no version'}`, [], started);
  }
  started = Date.now();
  integrityCheck(rec, plan.problems, started);
  started = Date.now();
  const base = { subject, line: line.id, database: url.masked, current: plan.current, head: plan.head, pending, problems: plan.problems };
  if (plan.problems.length > 0) {
    rec.add('schema drift', 'skipped', 'not compared: with the ledger in doubt, which schema to expect is unknown', [], started);
    return { checks: rec.checks, findings: base };
  }
  let expected: SchemaShape;
  let expectedLabel: string;
  let actual: SchemaShape;
  try {
    if (plan.current !== null && plan.current === plan.head) {
      expected = shapeFromModels((options.models ?? HEAD_MODELS)[line.id]);
      expectedLabel = `the declared models (src/schema/models.ts) of the ${line.title} line at head, ${plan.head}`;
    } else if (plan.current === null) {
      expected = new Map();
      expectedLabel = `an empty database (no ${line.title} migration applied)`;
    } else {
      expected = await replayedShape(options, replays, url, line, plan.current);
      expectedLabel = `the ${line.title} line replayed to ${plan.current} on a scratch database`;
    }
    actual = shapeFromDatabase(await handle.run((s) => handle.dialect.describeSchema(s)), url.dialect);
  } catch (error) {
    rec.add('schema drift', 'error', `cannot compare: ${(error as Error).message}`, [], started);
    return { checks: rec.checks, findings: base };
  }
  const raw = diffSchemas(line.id, expected, actual, options.removals ?? PLANNED_REMOVALS);
  // An adopted database (issue 15) names its constraints its own way and holds other programs' objects.
  const report = plan.rows.some((r) => r.baselined) ? allowExtras(matchByShape(raw), 'in an adopted database (baseline): another program’s, left alone') : raw;
  driftCheck(rec, 'schema drift', expectedLabel, `${subject} (${url.masked})`, report, started);
  return { checks: rec.checks, findings: { ...base, drift: { ...report, expected: expectedLabel } } };
}
