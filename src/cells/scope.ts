import { type Config, requireApiDb, requireCellDb } from '../config/index.js';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import { InvalidInputError } from '../errors.js';
import type { DatabaseUrl } from '../url/index.js';
import { selectCells } from './fan-out.js';
import type { CellMappingRow } from './mappings.js';

/**
 * The local cell database (`--db`) as a cell, for commands that work on cells when there is no
 * API database to map them: uuid and name 'local', no message queue.
 */
export function localCell(url: DatabaseUrl): CellMappingRow {
  return { id: 0, uuid: 'local', name: 'local', transportUrl: 'none:///', databaseConnection: url.raw, disabled: false };
}

/** Where a `db` command runs: one local cell database, or mapped cells. */
export type CellScope =
  | {
      readonly kind: 'local';
      readonly url: DatabaseUrl;
      /** Chosen because no API database is configured (rather than asked for with `--local-cell`). */
      readonly implied: boolean;
      /**
       * Chosen because the API database maps no cell at all: nova-manage's `db sync` then warns
       * "cell0 mapping not found - not syncing cell0." and syncs the local database.
       */
      readonly noCellsMapped?: boolean;
    }
  | { readonly kind: 'cells'; readonly api: DatabaseHandle; readonly cells: readonly CellMappingRow[] };

/** What a command asked for: `--local-cell`, or `--cell NAME|UUID` (repeatable). */
export interface CellScopeRequest {
  readonly localCell?: boolean | undefined;
  readonly cells?: readonly string[] | undefined;
}

/**
 * Where a `db` command runs: the local cell database when asked (`--local-cell`) or when no API
 * database is configured and no cell is named; else the mapped cells (all, or those named). When
 * the API database maps no cell at all and none is named, the local cell database (as nova-manage,
 * which then syncs only its `[database] connection`), or invalid input without one.
 */
export async function cellScope(registry: ConnectionRegistry, databases: Pick<Config, 'apiDb' | 'db'>, request: CellScopeRequest = {}): Promise<CellScope> {
  const names = request.cells ?? [];
  if (request.localCell || (!databases.apiDb && names.length === 0)) {
    return { kind: 'local', url: requireCellDb(databases), implied: request.localCell !== true };
  }
  const api = await registry.connect(requireApiDb(databases));
  const cells = await selectCells(api, names);
  if (cells.length === 0 && names.length === 0 && databases.db) return { kind: 'local', url: databases.db, implied: true, noCellsMapped: true };
  if (cells.length === 0) throw new InvalidInputError("no cells are mapped and no local cell database is configured: run 'cellsdb cell_v2 map_cell0' and 'cellsdb cell_v2 create_cell' first, or give --db");
  return { kind: 'cells', api, cells };
}

/**
 * The cells a service command works on: the mapped cells (all, or those named), else — with no
 * API database — the local cell database as a cell named 'local' ({@link localCell}).
 */
export async function cellsOrLocalCell(registry: ConnectionRegistry, databases: Pick<Config, 'apiDb' | 'db'>, names: readonly string[] = []): Promise<CellMappingRow[]> {
  if (databases.apiDb) return selectCells(await registry.connect(databases.apiDb), names);
  if (databases.db) return [localCell(databases.db)];
  throw new InvalidInputError('no API database or cell database configured: pass --api-db URL (or --db URL), set CELLSDB_API_DATABASE_URL, give --config-file, or use --embedded');
}
