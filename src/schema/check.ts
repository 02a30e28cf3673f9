import pLimit from 'p-limit';
import { MappingStore, type CellMapping, cellLabel } from '../cells/mappings.js';
import { cellDatabaseUrl } from '../cells/targeting.js';
import type { Config } from '../config.js';
import type { ConnectionRegistry } from '../db/registry.js';
import { isMissingTable } from '../db/translate-error.js';
import { InvalidInputError } from '../errors.js';
import type { MigrationLine } from '../migrate/lines.js';
import { lineStatus, syncLine } from '../migrate/migrator.js';
import type { LineStatus } from '../migrate/plan.js';
import type { LineTarget } from '../migrate/target.js';
import type { LineId } from '../migrate/types.js';
import { type DatabaseUrl, maskUrl } from '../url.js';
import { type SchemaShape, shapeFromDatabase, shapeFromModels } from './artefacts.js';
import { type DriftReport, diffSchemas } from './drift.js';
import { type DeclaredSchema, HEAD_MODELS, PLANNED_REMOVALS, type PlannedRemoval } from './models.js';
import { type CheckResult, type CheckStatus, dialectLabel, exitCodeOf } from '../report/checks.js';
import { serverIdentity, withScratchDatabase } from './scratch.js';

export interface SchemaCheckOptions {
  readonly lines: Readonly<Record<LineId, MigrationLine>>;
  readonly config: Pick<Config, 'lockTimeoutMs' | 'ddlLockTimeoutMs' | 'statementTimeoutMs'>;
  /** Connections to live databases (closed by the caller). */
  readonly registry: ConnectionRegistry;
  /**
   * Servers for scratch databases: without a live database, both lines are built and checked on
   * each; with one, a database behind head is compared with a scratch copy at its version made on
   * the first server of its dialect (else on its own server).
   */
  readonly scratchServers: readonly DatabaseUrl[];
  /** A live API database to check, read-only, with every cell it maps. */
  readonly againstApi?: DatabaseUrl | undefined;
  /** A live cell database to check, read-only. */
  readonly againstDb?: DatabaseUrl | undefined;
  /** Only these mapped cells (names or uuids). */
  readonly cells?: readonly string[] | undefined;
  /** @default HEAD_MODELS */
  readonly models?: Readonly<Record<LineId, DeclaredSchema>> | undefined;
  /** @default PLANNED_REMOVALS */
  readonly removals?: readonly PlannedRemoval[] | undefined;
  /** Cells checked at once. @default 4 */
  readonly concurrency?: number | undefined;
  readonly onProgress?: ((text: string) => void) | undefined;
}

/** What was found in one database. */
export interface DatabaseFindings {
  readonly subject: string;
  readonly line: LineId;
  /** Masked; a scratch database is named by its server. */
  readonly database: string;
  readonly current: string | null;
  readonly head: string | null;
  readonly pending: readonly string[];
  readonly problems: LineStatus['problems'];
  /** What the schema was compared with, and the result; absent when it could not be compared. */
  readonly drift?: DriftReport & { readonly expected: string };
}

export interface SchemaCheckReport {
  readonly mode: 'scratch' | 'live';
  readonly checks: readonly CheckResult[];
  readonly databases: readonly DatabaseFindings[];
  /** 0 clean, 1 pending migrations only, 2 drift or an integrity failure, 255 a check could not run. */
  readonly exitCode: number;
}

type Replays = Map<string, Promise<SchemaShape>>;

class Recorder {
  readonly checks: CheckResult[] = [];
  constructor(private readonly subject: string) {}
  add(name: string, status: CheckStatus, summary: string, details: readonly string[], started: number): void {
    this.checks.push({ subject: this.subject, name, status, summary, details, ms: Date.now() - started });
  }
}

function driftDetails(expectedLabel: string, actualLabel: string, report: DriftReport): string[] {
  return [
    `--- expected: ${expectedLabel}`,
    `+++ actual:   ${actualLabel}`,
    ...report.drift.map((d) => d.text),
    ...report.allowed.map((a) => `  ${a.item.text.slice(2)} — allowed, planned removal: ${a.reason}`),
  ];
}

function driftCheck(rec: Recorder, name: string, expectedLabel: string, actualLabel: string, report: DriftReport, started: number): void {
  const details = driftDetails(expectedLabel, actualLabel, report);
  if (report.drift.length > 0) {
    rec.add(name, 'failed', `${report.drift.length} difference${report.drift.length === 1 ? '' : 's'} from ${expectedLabel}`, details, started);
  } else {
    rec.add(name, 'passed', report.allowed.length > 0 ? `matches (${report.allowed.length} planned removal${report.allowed.length === 1 ? '' : 's'} allowed)` : 'matches', report.allowed.length > 0 ? details : [], started);
  }
}

function integrityCheck(rec: Recorder, status: LineStatus, started: number): void {
  if (status.problems.length === 0) rec.add('ledger integrity', 'passed', 'the ledger matches the migration files', [], started);
  else rec.add('ledger integrity', 'failed', status.problems[0]?.message ?? 'ledger problem', status.problems.map((p) => `${p.kind}: ${p.message}`), started);
}

/** Both lines built on a scratch database of each server, compared with the declared models. */
async function checkScratch(options: SchemaCheckOptions): Promise<{ checks: CheckResult[]; databases: DatabaseFindings[] }> {
  const checks: CheckResult[] = [];
  const databases: DatabaseFindings[] = [];
  const models = options.models ?? HEAD_MODELS;
  await Promise.all(
    options.scratchServers.map(async (server) => {
      for (const line of [options.lines.api, options.lines.cell]) {
        const subject = `scratch ${dialectLabel(server.dialect)} ${line.title} database`;
        const rec = new Recorder(subject);
        options.onProgress?.(`building the ${line.title} line on a scratch ${dialectLabel(server.dialect)} database (${serverIdentity(server)})`);
        const began = Date.now();
        try {
          await withScratchDatabase(server, `check_${line.id}`, async (scratch) => {
            const target: LineTarget = { registry: scratch.registry, url: scratch.url, line, label: subject, config: options.config };
            let started = Date.now();
            try {
              const result = await syncLine(target);
              rec.add('migrations apply', 'passed', `${result.applied.length} migration${result.applied.length === 1 ? '' : 's'} applied to an empty database`, [], started);
            } catch (error) {
              rec.add('migrations apply', 'failed', (error as Error).message, [], started);
              rec.add('ledger integrity', 'skipped', 'the migrations did not apply', [], Date.now());
              rec.add('schema matches the models', 'skipped', 'the migrations did not apply', [], Date.now());
              return;
            }
            started = Date.now();
            const status = await lineStatus(target);
            integrityCheck(rec, status, started);
            started = Date.now();
            const handle = scratch.registry.open(scratch.url);
            const actual = shapeFromDatabase(await handle.run((s) => handle.dialect.describeSchema(s)), server.dialect);
            const expectedLabel = `the declared models (src/schema/models.ts) of the ${line.title} line`;
            const report = diffSchemas(line.id, shapeFromModels(models[line.id]), actual, options.removals ?? PLANNED_REMOVALS);
            driftCheck(rec, 'schema matches the models', expectedLabel, `the ${line.title} line at ${status.head ?? 'none'} on ${serverIdentity(server)}`, report, started);
            databases.push({
              subject,
              line: line.id,
              database: serverIdentity(server),
              current: status.current,
              head: status.head,
              pending: status.migrations.filter((m) => m.state === 'pending').map((m) => m.name),
              problems: status.problems,
              drift: { ...report, expected: expectedLabel },
            });
          });
        } catch (error) {
          // The scratch database itself could not be made or dropped: this server could not be checked.
          if (rec.checks.length === 0) {
            rec.add('migrations apply', 'error', (error as Error).message, [], began);
            for (const name of ['ledger integrity', 'schema matches the models']) rec.add(name, 'skipped', 'no scratch database', [], Date.now());
          } else {
            rec.add('scratch database', 'error', (error as Error).message, [], began);
          }
        }
        checks.push(...rec.checks);
      }
    }),
  );
  return { checks, databases };
}

/** A scratch copy of `line` at `version`, reflected (one per server, line and version in a run). */
function replayedShape(options: SchemaCheckOptions, replays: Replays, live: DatabaseUrl, line: MigrationLine, version: string): Promise<SchemaShape> {
  const server = options.scratchServers.find((s) => s.dialect === live.dialect) ?? live;
  const key = `${serverIdentity(server)}|${line.directory}|${version}`;
  let shape = replays.get(key);
  if (!shape) {
    shape = withScratchDatabase(server, `replay_${line.id}`, async (scratch) => {
      await syncLine({ registry: scratch.registry, url: scratch.url, line, label: `scratch copy of the ${line.title} line`, config: options.config }, version);
      const handle = scratch.registry.open(scratch.url);
      return shapeFromDatabase(await handle.run((s) => handle.dialect.describeSchema(s)), server.dialect);
    });
    replays.set(key, shape);
  }
  return shape;
}

/** The checks of one live database, read-only: reachable, pending migrations, ledger integrity, drift. */
async function checkLive(options: SchemaCheckOptions, replays: Replays, subject: string, url: DatabaseUrl, line: MigrationLine): Promise<{ checks: CheckResult[]; findings?: DatabaseFindings }> {
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
  let status: LineStatus;
  try {
    status = await lineStatus(target);
  } catch (error) {
    rec.add('pending migrations', 'error', `cannot read the ledger: ${(error as Error).message}`, [], started);
    for (const name of ['ledger integrity', 'schema drift']) rec.add(name, 'skipped', 'the ledger could not be read', [], Date.now());
    return { checks: rec.checks };
  }
  const pending = status.migrations.filter((m) => m.state === 'pending').map((m) => m.name);
  if (pending.length > 0) {
    rec.add('pending migrations', 'pending', `${pending.length} ${line.title} migration${pending.length === 1 ? '' : 's'} pending (at ${status.current ?? 'no version'}, head ${status.head ?? 'none'}): run '${line.command}'`, pending, started);
  } else {
    rec.add('pending migrations', 'passed', `at ${status.current ?? 'no version'}`, [], started);
  }
  started = Date.now();
  integrityCheck(rec, status, started);
  started = Date.now();
  const base = { subject, line: line.id, database: url.masked, current: status.current, head: status.head, pending, problems: status.problems };
  if (status.problems.length > 0) {
    rec.add('schema drift', 'skipped', 'not compared: with the ledger in doubt, which schema to expect is unknown', [], started);
    return { checks: rec.checks, findings: base };
  }
  let expected: SchemaShape;
  let expectedLabel: string;
  let actual: SchemaShape;
  try {
    if (status.current !== null && status.current === status.head) {
      expected = shapeFromModels((options.models ?? HEAD_MODELS)[line.id]);
      expectedLabel = `the declared models (src/schema/models.ts) of the ${line.title} line at head, ${status.head}`;
    } else if (status.current === null) {
      expected = new Map();
      expectedLabel = `an empty database (no ${line.title} migration applied)`;
    } else {
      expected = await replayedShape(options, replays, url, line, status.current);
      expectedLabel = `the ${line.title} line replayed to ${status.current} on a scratch database`;
    }
    actual = shapeFromDatabase(await handle.run((s) => handle.dialect.describeSchema(s)), url.dialect);
  } catch (error) {
    rec.add('schema drift', 'error', `cannot compare: ${(error as Error).message}`, [], started);
    return { checks: rec.checks, findings: base };
  }
  const report = diffSchemas(line.id, expected, actual, options.removals ?? PLANNED_REMOVALS);
  driftCheck(rec, 'schema drift', expectedLabel, `${subject} (${url.masked})`, report, started);
  return { checks: rec.checks, findings: { ...base, drift: { ...report, expected: expectedLabel } } };
}

async function mappedCells(options: SchemaCheckOptions, api: DatabaseUrl): Promise<CellMapping[] | { error: string }> {
  try {
    const handle = await options.registry.connect(api, { purpose: 'schema-check', max: 1 });
    const cells = await handle.run((s) => new MappingStore(s).listCells());
    if (!options.cells || options.cells.length === 0) return cells;
    const unknown = options.cells.filter((n) => !cells.some((c) => c.uuid === n || c.name === n));
    if (unknown.length > 0) throw new InvalidInputError(`no mapped cell named ${unknown.map((n) => `'${n}'`).join(', ')}: see 'cellsdb cell_v2 list_cells'`);
    return cells.filter((c) => options.cells?.includes(c.uuid) || (c.name !== null && options.cells?.includes(c.name)));
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    // An API database without cell_mappings (never synced) maps no cell: its own checks say why.
    if (isMissingTable(error)) return [];
    return { error: (error as Error).message };
  }
}

/**
 * `schema check`. Without a live database: builds both lines on a scratch database of every server
 * and compares the result with the declared models (Nova's models-versus-migrations test). With
 * `againstApi` / `againstDb`: checks those live databases read-only (and every cell the API database
 * maps): pending migrations, ledger integrity, and drift from the declared models (at head) or from
 * a scratch copy of the line at the database's version (behind head).
 */
export async function checkSchema(options: SchemaCheckOptions): Promise<SchemaCheckReport> {
  if (!options.againstApi && !options.againstDb) {
    if (options.scratchServers.length === 0) throw new InvalidInputError('schema check needs a database server for its scratch databases');
    const { checks, databases } = await checkScratch(options);
    return { mode: 'scratch', checks, databases, exitCode: exitCodeOf(checks) };
  }
  const replays: Replays = new Map();
  const checks: CheckResult[] = [];
  const databases: DatabaseFindings[] = [];
  const collect = (r: { checks: CheckResult[]; findings?: DatabaseFindings }) => {
    checks.push(...r.checks);
    if (r.findings) databases.push(r.findings);
  };
  if (options.againstApi) {
    options.onProgress?.(`checking the API database ${options.againstApi.masked}`);
    collect(await checkLive(options, replays, 'API database', options.againstApi, options.lines.api));
    const cells = await mappedCells(options, options.againstApi);
    if ('error' in cells) {
      checks.push({ subject: 'API database', name: 'cell mappings', status: 'error', summary: `cannot list the mapped cells: ${cells.error}`, details: [], ms: 0 });
    } else {
      const limit = pLimit(Math.max(1, options.concurrency ?? 4));
      const results = await Promise.all(
        cells.map((cell) =>
          limit(async () => {
            const subject = `cell '${cellLabel(cell)}'`;
            let url: DatabaseUrl;
            try {
              url = cellDatabaseUrl(cell);
            } catch (error) {
              return { checks: [{ subject, name: 'reachable', status: 'error' as const, summary: (error as Error).message, details: [], ms: 0 }] };
            }
            options.onProgress?.(`checking ${subject} (${maskUrl(cell.databaseConnection)})`);
            return checkLive(options, replays, subject, url, options.lines.cell);
          }),
        ),
      );
      for (const r of results) collect(r);
    }
  }
  if (options.againstDb) {
    options.onProgress?.(`checking the cell database ${options.againstDb.masked}`);
    collect(await checkLive(options, replays, 'cell database', options.againstDb, options.lines.cell));
  }
  return { mode: 'live', checks, databases, exitCode: exitCodeOf(checks) };
}
