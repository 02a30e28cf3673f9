import type { DialectSql } from '../db/dialect.js';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import { CellsdbError, InvalidInputError } from '../errors.js';
import { type DatabaseUrl, databaseIdentity, maskUrl, parseDatabaseUrl, withDatabase } from '../url.js';
import type { ServiceGroupApi } from '../servicegroup/api.js';
import { CellRecords } from './cell-records.js';
import { CELL0_UUID, type CellMappingRow, cellLabel, type HostMappingRow, MappingStore } from './mappings.js';
import { type CellOutcome, scatterGather, targetCell } from './targeting.js';

/**
 * The cell_v2 operations of nova-manage, as library functions. They throw {@link CellsdbError}s
 * carrying nova-manage's exit codes, so that runbooks read the same.
 */

/** Code-point order: the same on every machine, whatever its locale. */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const fail = (message: string, exitCode: number): CellsdbError => new CellsdbError(message, { exitCode });

/** A transport URL must be a URL (`rabbit://…`, `none:///`); its secrets are never printed. */
export function validateTransportUrl(url: string): string {
  const value = url.trim();
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(value)) {
    // Without 'scheme://' maskUrl sees no URL and returns it as it is: mask it as if it had one, so
    // that 'rabbit//nova:pw@mq/' is not echoed with its password (as parseDatabaseUrl does).
    const masked = maskUrl(`x://${value}`).slice('x://'.length);
    throw new InvalidInputError(`malformed transport URL '${masked}': expected <scheme>://<user>:<password>@<host>:<port>/`);
  }
  return value;
}

/** The database URL cell0 gets by default: the local cell database's with `_cell0` appended to its name. */
export function defaultCell0Url(db: DatabaseUrl): DatabaseUrl {
  return withDatabase(db, `${db.database}_cell0`);
}

/** `map_cell0`: creates cell0's mapping, or says it exists (Nova returns 0 either way). */
export async function mapCell0(api: DatabaseHandle, databaseConnection: string): Promise<{ created: boolean; cell: CellMappingRow }> {
  parseDatabaseUrl(databaseConnection);
  const store = new MappingStore(api);
  const existing = await store.getCell(CELL0_UUID);
  if (existing) return { created: false, cell: existing };
  try {
    const cell = await store.createCell({ uuid: CELL0_UUID, name: 'cell0', transportUrl: 'none:///', databaseConnection, disabled: false });
    return { created: true, cell };
  } catch (error) {
    // Two map_cell0 runs at once: the loser finds the winner's row.
    const raced = await store.getCell(CELL0_UUID);
    if (raced) return { created: false, cell: raced };
    throw error;
  }
}

// 'none:///' means "no message queue" (cell0): many cells may share it without clashing.
const clashes = (a: string, b: string): boolean => a === b && a !== 'none:///';

/** Same database, however spelled (driver suffix, credentials, default port); raw text if unparsable. */
function sameDatabase(a: string, b: string): boolean {
  try {
    return databaseIdentity(parseDatabaseUrl(a)) === databaseIdentity(parseDatabaseUrl(b));
  } catch {
    return a === b;
  }
}

function urlClash(cells: readonly CellMappingRow[], self: string | undefined, transportUrl: string | undefined, databaseConnection: string | undefined): CellMappingRow | undefined {
  return cells.find(
    (c) =>
      c.uuid !== self &&
      ((transportUrl !== undefined && clashes(c.transportUrl, transportUrl)) ||
        (databaseConnection !== undefined && sameDatabase(c.databaseConnection, databaseConnection))),
  );
}

export interface CreateCellOptions {
  readonly name?: string | undefined;
  readonly transportUrl?: string | undefined;
  readonly databaseConnection?: string | undefined;
  /** @default false */
  readonly disabled?: boolean | undefined;
}

/** `create_cell`: exit 1 when a URL is missing, 2 when another cell already uses either URL. */
export async function createCell(api: DatabaseHandle, options: CreateCellOptions): Promise<CellMappingRow> {
  if (!options.transportUrl || !options.databaseConnection) {
    throw fail('create_cell needs both --transport-url and --database_connection', 1);
  }
  const transportUrl = validateTransportUrl(options.transportUrl);
  parseDatabaseUrl(options.databaseConnection);
  const databaseConnection = options.databaseConnection.trim();
  const store = new MappingStore(api);
  const other = urlClash(await store.listCells(), undefined, transportUrl, databaseConnection);
  if (other) {
    throw fail(`cell '${cellLabel(other)}' (${other.uuid}) already uses that transport URL or database connection`, 2);
  }
  return store.createCell({ name: options.name ?? null, transportUrl, databaseConnection, disabled: options.disabled ?? false });
}

/** `list_cells`: every cell, sorted by name. */
export async function listCells(api: DatabaseHandle): Promise<CellMappingRow[]> {
  const cells = await new MappingStore(api).listCells();
  return cells.sort((a, b) => byText(a.name ?? '', b.name ?? '') || byText(a.uuid, b.uuid));
}

export interface UpdateCellOptions {
  readonly name?: string | undefined;
  readonly transportUrl?: string | undefined;
  readonly databaseConnection?: string | undefined;
  readonly disable?: boolean | undefined;
  readonly enable?: boolean | undefined;
}

/**
 * `update_cell`: exit 1 not found, 3 URL clash with another cell, 4 both --disable and --enable,
 * 5 disabling cell0. Unlike Nova, an omitted option leaves the field as it is (Nova copied the
 * missing URLs from its own config file).
 */
export async function updateCell(api: DatabaseHandle, uuid: string, options: UpdateCellOptions): Promise<CellMappingRow> {
  if (options.disable && options.enable) throw fail('a cell cannot be disabled and enabled at the same time', 4);
  const transportUrl = options.transportUrl !== undefined ? validateTransportUrl(options.transportUrl) : undefined;
  if (options.databaseConnection !== undefined) parseDatabaseUrl(options.databaseConnection);
  const databaseConnection = options.databaseConnection?.trim();
  const store = new MappingStore(api);
  const cell = await store.getCell(uuid);
  if (!cell) throw fail(`cell with uuid ${uuid} not found`, 1);
  if (options.disable && cell.uuid === CELL0_UUID) throw fail('cell0 cannot be disabled', 5);
  const other = urlClash(await store.listCells(), uuid, transportUrl, databaseConnection);
  if (other) throw fail(`cell '${cellLabel(other)}' (${other.uuid}) already uses that transport URL or database connection`, 3);
  const disabled = options.disable ? true : options.enable ? false : undefined;
  await store.updateCell(uuid, {
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(transportUrl !== undefined ? { transportUrl } : {}),
    ...(databaseConnection !== undefined ? { databaseConnection } : {}),
    ...(disabled !== undefined ? { disabled } : {}),
  });
  const updated = await store.getCell(uuid);
  if (!updated) throw fail(`cell with uuid ${uuid} not found`, 1);
  return updated;
}

/**
 * `delete_cell`: exit 1 not found, 2 hosts mapped (without --force), 3 live instances in the cell
 * (even with --force), 4 instance mappings whose instances are all deleted (without --force).
 * Everything is checked before anything is deleted.
 */
export async function deleteCell(api: DatabaseHandle, registry: ConnectionRegistry, uuid: string, force: boolean): Promise<CellMappingRow> {
  const store = new MappingStore(api);
  const cell = await store.getCell(uuid);
  if (!cell) throw fail(`cell with uuid ${uuid} not found`, 1);
  const hosts = await store.hostMappings(cell.id);
  if (hosts.length > 0 && !force) throw fail(`there are ${hosts.length} hosts mapped to cell ${uuid}: unmap them or use --force`, 2);
  const instanceMappings = await store.instanceMappingsOfCell(cell.id);
  const live = await new CellRecords(targetCell(registry, cell)).liveInstanceCount();
  if (live > 0) throw fail(`there are ${live} live instances in cell ${uuid}: it cannot be deleted`, 3);
  if (instanceMappings.length > 0 && !force) {
    throw fail(`there are instance mappings to cell ${uuid}, but all its instances have been deleted: use --force to remove them`, 4);
  }
  await store.deleteCellAndItsMappings(cell.id);
  return cell;
}

/**
 * The compute hosts of a cell: its live compute nodes' hosts, sorted, each once. A node not yet
 * backfilled by the compute-node mover knows its host only through its service.
 */
export async function computeHostsOf(cellDb: DatabaseHandle, cell: CellMappingRow, serviceGroup: ServiceGroupApi): Promise<string[]> {
  const nodes = await new CellRecords(cellDb).computeNodeHosts();
  const legacy = nodes.flatMap((n) => (n.host === null && n.serviceId !== null ? [n.serviceId] : []));
  const viaService = legacy.length > 0 ? [...(await serviceGroup.hostsByServiceId(cell, legacy)).values()] : [];
  return [...new Set([...nodes.map((n) => n.host), ...viaService].filter((h): h is string => h !== null))].sort();
}

/** What discover_hosts found in one cell. */
export interface DiscoveredHosts {
  /** Compute hosts the cell has. */
  readonly found: readonly string[];
  /** Hosts this run mapped (a host mapped meanwhile by a concurrent run is not counted, nor an error). */
  readonly mapped: readonly string[];
}

export interface DiscoverOptions {
  readonly cellUuid?: string | undefined;
  /** Find hosts from `nova-compute` services instead of compute nodes. */
  readonly byService?: boolean | undefined;
  /** @default DEFAULTS.concurrency */
  readonly concurrency?: number | undefined;
}

/**
 * `discover_hosts`: maps every compute host of each cell (cell0 skipped) that has no host mapping.
 * Safe to run twice at once: the unique host mapping decides, and a lost race is not an error.
 */
export async function discoverHosts(
  api: DatabaseHandle<DialectSql>,
  registry: ConnectionRegistry,
  serviceGroup: ServiceGroupApi,
  options: DiscoverOptions = {},
): Promise<CellOutcome<DiscoveredHosts>[]> {
  const store = new MappingStore(api);
  let cells = await store.listCells();
  if (options.cellUuid !== undefined) {
    cells = cells.filter((c) => c.uuid === options.cellUuid);
    if (cells.length === 0) throw fail(`cell with uuid ${options.cellUuid} not found`, 1);
  }
  cells = cells.filter((c) => c.uuid !== CELL0_UUID);
  return scatterGather(
    cells,
    async (cell) => {
      const found = options.byService
        ? [...new Set((await serviceGroup.store(cell).list({ binary: 'nova-compute' })).flatMap((s) => (s.host ? [s.host] : [])))].sort()
        : await computeHostsOf(targetCell(registry, cell), cell, serviceGroup);
      const already = await store.mappedHosts(found);
      const mapped: string[] = [];
      for (const host of found.filter((h) => !already.has(h))) {
        if (await store.mapHost(cell.id, host)) mapped.push(host);
      }
      return { found, mapped };
    },
    { concurrency: options.concurrency },
  );
}

/** `list_hosts`: every host mapping with its cell, optionally for one cell (exit 1 if it is not found). */
export async function listHosts(api: DatabaseHandle, cellUuid?: string): Promise<Array<HostMappingRow & { cell: CellMappingRow }>> {
  const store = new MappingStore(api);
  const cells = await store.listCells();
  const byId = new Map(cells.map((c) => [c.id, c]));
  let cellId: number | undefined;
  if (cellUuid !== undefined) {
    const cell = cells.find((c) => c.uuid === cellUuid);
    if (!cell) throw fail(`cell with uuid ${cellUuid} not found`, 1);
    cellId = cell.id;
  }
  const hosts = await store.hostMappings(cellId);
  return hosts
    .flatMap((h) => {
      // A host mapping always has its cell (a foreign key); one created between the two reads is left out.
      const cell = byId.get(h.cellId);
      return cell ? [{ ...h, cell }] : [];
    })
    .sort((a, b) => byText(a.cell.name ?? '', b.cell.name ?? '') || byText(a.host, b.host));
}

/** verify_instance's answer: nova-manage's exit code and sentence. */
export interface InstanceVerdict {
  readonly code: 0 | 1 | 2 | 3 | 4;
  readonly message: string;
  readonly cell?: CellMappingRow;
}

/**
 * `verify_instance`: 0 mapped to a cell, 1 no instance mapping (upgrade incomplete, or no such
 * instance), 2 mapped to no cell (transient), 3 deleted but still mapped, 4 archived but still mapped.
 */
export async function verifyInstance(api: DatabaseHandle, registry: ConnectionRegistry, uuid: string): Promise<InstanceVerdict> {
  const store = new MappingStore(api);
  const mapping = await store.instanceMapping(uuid);
  if (!mapping) return { code: 1, message: `Instance ${uuid} is not mapped to a cell (upgrade is incomplete) or instance does not exist` };
  if (mapping.cellId === null) return { code: 2, message: `Instance ${uuid} is not mapped to a cell` };
  const cell = await store.getCellById(mapping.cellId);
  if (!cell) return { code: 2, message: `Instance ${uuid} is not mapped to a cell` };
  const state = await new CellRecords(targetCell(registry, cell)).instanceState(uuid);
  if (state === 'archived') {
    return { code: 4, cell, message: `The instance with uuid ${uuid} has been archived. However its instance_mapping remains.` };
  }
  if (state === 'deleted') {
    return { code: 3, cell, message: `The instance with uuid ${uuid} has been deleted. Archive deleted rows to remove its instance_mapping.` };
  }
  return { code: 0, cell, message: `Instance ${uuid} is in cell: ${cellLabel(cell)} (${cell.uuid})` };
}
