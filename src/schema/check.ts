// `schema check`: which checks run on which databases (check-scratch.ts without a live database,
// check-live.ts against live ones), and the exit code of the lot.
import pLimit from 'p-limit';
import { MappingStore, type CellMappingRow, cellLabel } from '../cells/mappings.js';
import { cellDatabaseUrl } from '../cells/targeting.js';
import { isMissingTable } from '../db/translate-error.js';
import { DEFAULTS } from '../config/index.js';
import { InvalidInputError } from '../errors.js';
import { type CheckResult, exitCodeOf } from '../report/checks.js';
import { type DatabaseUrl, displayUrl } from '../url/index.js';
import { checkLive, type LiveCheckInputs, type Replays } from './check-live.js';
import type { DatabaseFindings } from './check-recorder.js';
import { checkScratch, type ScratchCheckInputs } from './check-scratch.js';

/**
 * What `schema check` needs. `scratchServers`: without a live database, both lines are built and
 * checked on each; with one, a database behind head is compared with a scratch copy at its version
 * made on the first server of its dialect (else on its own server).
 */
export interface SchemaCheckOptions extends ScratchCheckInputs, LiveCheckInputs {
  /** A live API database to check, read-only, with every cell it maps. */
  readonly againstApi?: DatabaseUrl | undefined;
  /** A live cell database to check, read-only. */
  readonly againstDb?: DatabaseUrl | undefined;
  /** Only these mapped cells (names or uuids). */
  readonly cells?: readonly string[] | undefined;
  /** Cells checked at once. @default DEFAULTS.concurrency */
  readonly concurrency?: number | undefined;
}

export interface SchemaCheckReport {
  readonly mode: 'scratch' | 'live';
  readonly checks: readonly CheckResult[];
  readonly databases: readonly DatabaseFindings[];
  /** 0 clean, 1 pending migrations only, 2 drift or an integrity failure, 255 a check could not run. */
  readonly exitCode: number;
}

async function mappedCells(options: SchemaCheckOptions, api: DatabaseUrl): Promise<CellMappingRow[] | { error: string }> {
  try {
    const handle = await options.registry.connect(api, { purpose: 'schema-check', max: 1 });
    const cells = await new MappingStore(handle).listCells();
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
      const limit = pLimit(Math.max(1, options.concurrency ?? DEFAULTS.concurrency));
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
            options.onProgress?.(`checking ${subject} (${displayUrl(cell.databaseConnection)})`);
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
