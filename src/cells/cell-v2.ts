import type { DialectSql } from '../db/dialect.js';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import { CellsdbError, InvalidInputError } from '../errors.js';
import { type DatabaseUrl, databaseIdentity, parseDatabaseUrl, refusedUrl, withDatabase } from '../url/index.js';
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

/** A nova-manage failure: its sentence, its exit code and the stable code `--json` error documents carry. */
const fail = (message: string, exitCode: number, code: string): CellsdbError => new CellsdbError(message, { exitCode, code });

/** nova-manage's sentences, which its unit tests pin (nova/tests/unit/cmd/test_manage.py). */
export const CELL_V2_MESSAGES = {
  notFound: (uuid: string) => `Cell with uuid ${uuid} was not found.`,
  clash: (uuid: string) => `The specified transport_url and/or database_connection combination already exists for another cell with uuid ${uuid}.`,
  noTransportUrl: 'Must specify --transport-url if [DEFAULT]/transport_url is not set in the configuration file.',
  noDatabaseConnection: 'Must specify --database_connection if [database]/connection is not set in the configuration file.',
  transportUrlFromConfig: '--transport-url not provided in the command line, using the value [DEFAULT]/transport_url from the configuration file',
  databaseConnectionFromConfig: '--database_connection not provided in the command line, using the value [database]/connection from the configuration file',
  disableAndEnable: 'Cell cannot be disabled and enabled at the same time.',
  cell0: 'Cell0 cannot be disabled.',
  alreadyDisabled: (uuid: string) => `Cell ${uuid} is already disabled`,
  alreadyEnabled: (uuid: string) => `Cell ${uuid} is already enabled`,
  unableToUpdate: (why: string) => `Unable to update CellMapping: ${why}`,
  hostsMapped: (uuid: string) => `There are existing hosts mapped to cell with uuid ${uuid}.`,
  instancesMapped: (uuid: string) => `There are existing instances mapped to cell with uuid ${uuid}.`,
  unmappedLiveInstances: (uuid: string, n: number) =>
    `There are ${n} live instances in cell with uuid ${uuid} but no instance mappings: map them (nova-manage cell_v2 map_instances) or delete them first; --force does not delete live instances.`,
  staleInstanceMappings: (uuid: string) =>
    `There are instance mappings to cell with uuid ${uuid}, but all instances have been deleted in the cell. So execute 'nova-manage db archive_deleted_rows' to delete the instance mappings (or use --force).`,
} as const;

/**
 * A transport URL must be a URL (`rabbit://…`, `none:///`), or a template of one that Nova expands
 * from `[DEFAULT] transport_url` when it reads the mapping (`{scheme}://{username}:{password}@
 * {hostname}:{port}/…`, `CellMapping.format_mq_url`): stored as given. Its secrets are never printed.
 */
export function validateTransportUrl(url: string): string {
  const value = url.trim();
  // Placeholders stand for parts of a URL: check the shape with each replaced by a plain value.
  const shape = value.replace(/\{(?:scheme|username|password|hostname|port|query|fragment|path)\d*\}/g, (p) => (p.startsWith('{port') ? '1' : 'x'));
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(shape)) {
    // A value that failed to parse is never echoed ('rabbit//nova:pw@mq/' holds a password).
    throw new InvalidInputError(`malformed transport URL '${refusedUrl(value)}': expected <scheme>://<user>:<password>@<host>:<port>/`);
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
  /**
   * nova-manage's fallbacks for the URLs not given: `[DEFAULT] transport_url` and the local cell
   * database (`[database] connection`, `--db`). Each use is announced through `onNotice`.
   */
  readonly configured?: { readonly transportUrl?: string | undefined; readonly databaseConnection?: string | undefined } | undefined;
  /** Lines nova-manage prints on the way (a URL taken from the configuration). */
  readonly onNotice?: ((line: string) => void) | undefined;
}

/**
 * `create_cell`: exit 1 when a URL is missing (given neither as an option nor in the configuration),
 * 2 when another cell already uses either URL. Unlike Nova, which compares the text, a database
 * is the same however it is spelled (`:3306`, `?connect_timeout=5`, another driver): two cells on one
 * database would each take the other's rows for their own.
 */
export async function createCell(api: DatabaseHandle, options: CreateCellOptions): Promise<CellMappingRow> {
  const given = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v);
  let rawTransport = given(options.transportUrl);
  if (rawTransport === undefined) {
    rawTransport = given(options.configured?.transportUrl);
    if (rawTransport === undefined) throw fail(CELL_V2_MESSAGES.noTransportUrl, 1, 'no_transport_url');
    options.onNotice?.(CELL_V2_MESSAGES.transportUrlFromConfig);
  }
  const transportUrl = validateTransportUrl(rawTransport);
  let rawDatabase = given(options.databaseConnection);
  if (rawDatabase === undefined) {
    rawDatabase = given(options.configured?.databaseConnection);
    if (rawDatabase === undefined) throw fail(CELL_V2_MESSAGES.noDatabaseConnection, 1, 'no_database_connection');
    options.onNotice?.(CELL_V2_MESSAGES.databaseConnectionFromConfig);
  }
  parseDatabaseUrl(rawDatabase);
  const databaseConnection = rawDatabase.trim();
  const store = new MappingStore(api);
  const other = urlClash(await store.listCells(), undefined, transportUrl, databaseConnection);
  if (other) throw fail(CELL_V2_MESSAGES.clash(other.uuid), 2, 'cell_exists');
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
  /** Lines nova-manage prints on the way ("Cell … is already disabled"). */
  readonly onNotice?: ((line: string) => void) | undefined;
}

/**
 * `update_cell`, in nova-manage's order: exit 1 not found, 3 URL clash with another cell, 4 both
 * --disable and --enable, 5 --disable or --enable on cell0, 2 the UPDATE failed. Unlike Nova, an
 * omitted option leaves the field as it is (Nova copied the missing URLs from its own config file).
 */
export async function updateCell(api: DatabaseHandle, uuid: string, options: UpdateCellOptions): Promise<CellMappingRow> {
  const transportUrl = options.transportUrl !== undefined ? validateTransportUrl(options.transportUrl) : undefined;
  if (options.databaseConnection !== undefined) parseDatabaseUrl(options.databaseConnection);
  const databaseConnection = options.databaseConnection?.trim();
  const store = new MappingStore(api);
  const cell = await store.getCell(uuid);
  if (!cell) throw fail(CELL_V2_MESSAGES.notFound(uuid), 1, 'cell_not_found');
  const other = urlClash(await store.listCells(), uuid, transportUrl, databaseConnection);
  if (other) throw fail(CELL_V2_MESSAGES.clash(other.uuid), 3, 'cell_exists');
  if (options.disable && options.enable) throw fail(CELL_V2_MESSAGES.disableAndEnable, 4, 'disable_and_enable');
  if ((options.disable || options.enable) && cell.uuid === CELL0_UUID) throw fail(CELL_V2_MESSAGES.cell0, 5, 'cell0_not_disableable');
  if (options.disable && cell.disabled) options.onNotice?.(CELL_V2_MESSAGES.alreadyDisabled(uuid));
  if (options.enable && !cell.disabled) options.onNotice?.(CELL_V2_MESSAGES.alreadyEnabled(uuid));
  const disabled = options.disable ? true : options.enable ? false : undefined;
  try {
    await store.updateCell(uuid, {
      ...(options.name ? { name: options.name } : {}),
      ...(transportUrl !== undefined ? { transportUrl } : {}),
      ...(databaseConnection !== undefined ? { databaseConnection } : {}),
      ...(disabled !== undefined ? { disabled } : {}),
    });
  } catch (error) {
    // nova-manage's 2; the driver's message names no URL (translated errors mask them).
    throw new CellsdbError(CELL_V2_MESSAGES.unableToUpdate(error instanceof Error ? error.message : String(error)), { exitCode: 2, cause: error });
  }
  const updated = await store.getCell(uuid);
  if (!updated) throw fail(CELL_V2_MESSAGES.notFound(uuid), 1, 'cell_not_found');
  return updated;
}

/** What `deleteCell` did besides deleting the mapping. */
export interface DeletedCell {
  readonly cell: CellMappingRow;
  /**
   * Nothing was mapped to the cell and its database could not be read to look for unmapped live
   * instances (a dead cell): deleted all the same, as Nova deletes it without looking.
   */
  readonly unchecked?: string | undefined;
}

/**
 * `delete_cell`, in nova-manage's order: exit 1 not found, 2 hosts mapped (without --force), 3 live
 * instances mapped to the cell (even with --force), 4 instance mappings whose instances are all
 * deleted (without --force). Everything is checked before anything is deleted. A cell with no
 * instance mappings is deleted even when its database is gone (Nova never opens it then); unlike
 * Nova, a cell whose database can be read and still holds live instances is refused (3) even when
 * none of them is mapped: deleting its mapping would strand them.
 */
export async function deleteCell(api: DatabaseHandle, registry: ConnectionRegistry, uuid: string, force: boolean): Promise<DeletedCell> {
  const store = new MappingStore(api);
  const cell = await store.getCell(uuid);
  if (!cell) throw fail(CELL_V2_MESSAGES.notFound(uuid), 1, 'cell_not_found');
  const hosts = await store.hostMappings(cell.id);
  if (hosts.length > 0 && !force) throw fail(CELL_V2_MESSAGES.hostsMapped(uuid), 2, 'hosts_mapped');
  const instanceMappings = await store.instanceMappingsOfCell(cell.id);
  const records = new CellRecords(targetCell(registry, cell));
  let unchecked: string | undefined;
  if (instanceMappings.length > 0) {
    if ((await records.liveInstanceCount()) > 0) throw fail(CELL_V2_MESSAGES.instancesMapped(uuid), 3, 'instances_mapped');
    if (!force) throw fail(CELL_V2_MESSAGES.staleInstanceMappings(uuid), 4, 'stale_instance_mappings');
  } else {
    let live = 0;
    try {
      live = await records.liveInstanceCount();
    } catch (error) {
      unchecked = error instanceof Error ? error.message : String(error);
    }
    if (live > 0) throw fail(CELL_V2_MESSAGES.unmappedLiveInstances(uuid, live), 3, 'unmapped_live_instances');
  }
  await store.deleteCellAndItsMappings(cell.id);
  return { cell, ...(unchecked !== undefined ? { unchecked } : {}) };
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
  /** Hosts that had no mapping when this run looked (nova-manage's "Checking host mapping for …"). */
  readonly checked: readonly string[];
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
    if (cells.length === 0) throw fail(CELL_V2_MESSAGES.notFound(options.cellUuid), 1, 'cell_not_found');
  }
  // cell0 holds no hosts: skipped (discover_hosts --verbose says so).
  cells = cells.filter((c) => c.uuid !== CELL0_UUID);
  return scatterGather(
    cells,
    async (cell) => {
      const found = options.byService
        ? [...new Set((await serviceGroup.store(cell).list({ binary: 'nova-compute' })).flatMap((s) => (s.host ? [s.host] : [])))].sort()
        : await computeHostsOf(targetCell(registry, cell), cell, serviceGroup);
      const already = await store.mappedHosts(found);
      const checked = found.filter((h) => !already.has(h));
      const mapped: string[] = [];
      for (const host of checked) {
        if (await store.mapHost(cell.id, host)) mapped.push(host);
      }
      return { found, checked, mapped };
    },
    { concurrency: options.concurrency },
  );
}

/** `list_hosts`: every host mapping with its cell, by host, optionally for one cell (exit 1 if it is not found). */
export async function listHosts(api: DatabaseHandle, cellUuid?: string): Promise<Array<HostMappingRow & { cell: CellMappingRow }>> {
  const store = new MappingStore(api);
  const cells = await store.listCells();
  const byId = new Map(cells.map((c) => [c.id, c]));
  let cellId: number | undefined;
  if (cellUuid !== undefined) {
    const cell = cells.find((c) => c.uuid === cellUuid);
    if (!cell) throw fail(CELL_V2_MESSAGES.notFound(cellUuid), 1, 'cell_not_found');
    cellId = cell.id;
  }
  const hosts = await store.hostMappings(cellId);
  return hosts
    .flatMap((h) => {
      // A host mapping always has its cell (a foreign key); one created between the two reads is left out.
      const cell = byId.get(h.cellId);
      return cell ? [{ ...h, cell }] : [];
    })
    // nova-manage sorts by host alone (`sorted(host_mappings, key=lambda h: h.host)`).
    .sort((a, b) => byText(a.host, b.host));
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
