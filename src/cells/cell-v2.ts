import { QueryTypes } from 'sequelize';
import type { DialectSql } from '../db/dialect.js';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import { CellsdbError, InvalidInputError } from '../errors.js';
import { type DatabaseUrl, databaseIdentity, maskUrl, parseDatabaseUrl, withDatabase } from '../url.js';
import type { ServiceGroupApi } from '../servicegroup/api.js';
import { CELL0_UUID, type CellMapping, cellLabel, type HostMapping, MappingStore } from './mappings.js';
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
export async function mapCell0(api: DatabaseHandle, databaseConnection: string): Promise<{ created: boolean; cell: CellMapping }> {
  parseDatabaseUrl(databaseConnection);
  const store = new MappingStore(api.sequelize);
  return api.run(async () => {
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
  });
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

function urlClash(cells: readonly CellMapping[], self: string | undefined, transportUrl: string | undefined, databaseConnection: string | undefined): CellMapping | undefined {
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
export async function createCell(api: DatabaseHandle, options: CreateCellOptions): Promise<CellMapping> {
  if (!options.transportUrl || !options.databaseConnection) {
    throw fail('create_cell needs both --transport-url and --database_connection', 1);
  }
  const transportUrl = validateTransportUrl(options.transportUrl);
  parseDatabaseUrl(options.databaseConnection);
  const databaseConnection = options.databaseConnection.trim();
  const store = new MappingStore(api.sequelize);
  return api.run(async () => {
    const other = urlClash(await store.listCells(), undefined, transportUrl, databaseConnection);
    if (other) {
      throw fail(`cell '${cellLabel(other)}' (${other.uuid}) already uses that transport URL or database connection`, 2);
    }
    return store.createCell({ name: options.name ?? null, transportUrl, databaseConnection, disabled: options.disabled ?? false });
  });
}

/** `list_cells`: every cell, sorted by name. */
export async function listCells(api: DatabaseHandle): Promise<CellMapping[]> {
  const cells = await api.run(() => new MappingStore(api.sequelize).listCells());
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
export async function updateCell(api: DatabaseHandle, uuid: string, options: UpdateCellOptions): Promise<CellMapping> {
  if (options.disable && options.enable) throw fail('a cell cannot be disabled and enabled at the same time', 4);
  const transportUrl = options.transportUrl !== undefined ? validateTransportUrl(options.transportUrl) : undefined;
  if (options.databaseConnection !== undefined) parseDatabaseUrl(options.databaseConnection);
  const databaseConnection = options.databaseConnection?.trim();
  const store = new MappingStore(api.sequelize);
  return api.run(async () => {
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
    return (await store.getCell(uuid)) as CellMapping;
  });
}

async function countRows(handle: DatabaseHandle, sql: string): Promise<number> {
  const rows = await handle.run((s) => s.query<{ n: number | string }>(sql, { type: QueryTypes.SELECT }));
  return Number(rows[0]?.n ?? 0);
}

/**
 * `delete_cell`: exit 1 not found, 2 hosts mapped (without --force), 3 live instances in the cell
 * (even with --force), 4 instance mappings whose instances are all deleted (without --force).
 * Everything is checked before anything is deleted.
 */
export async function deleteCell(api: DatabaseHandle, registry: ConnectionRegistry, uuid: string, force: boolean): Promise<CellMapping> {
  const store = new MappingStore(api.sequelize);
  const cell = await api.run(() => store.getCell(uuid));
  if (!cell) throw fail(`cell with uuid ${uuid} not found`, 1);
  const hosts = await api.run(() => store.hostMappings(cell.id));
  if (hosts.length > 0 && !force) throw fail(`there are ${hosts.length} hosts mapped to cell ${uuid}: unmap them or use --force`, 2);
  const instanceMappings = await api.run(() => store.instanceMappingsOfCell(cell.id));
  const live = await countRows(targetCell(registry, cell), 'SELECT COUNT(*) AS n FROM instances WHERE deleted = 0');
  if (live > 0) throw fail(`there are ${live} live instances in cell ${uuid}: it cannot be deleted`, 3);
  if (instanceMappings.length > 0 && !force) {
    throw fail(`there are instance mappings to cell ${uuid}, but all its instances have been deleted: use --force to remove them`, 4);
  }
  await api.run((s) =>
    s.transaction(async (transaction) => {
      await s.query('DELETE FROM instance_mappings WHERE cell_id = :id', { replacements: { id: cell.id }, transaction });
      await s.query('DELETE FROM host_mappings WHERE cell_id = :id', { replacements: { id: cell.id }, transaction });
      await store.deleteCell(cell.id, transaction);
    }),
  );
  return cell;
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
  /** @default 4 */
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
  const store = new MappingStore(api.sequelize);
  let cells = await api.run(() => store.listCells());
  if (options.cellUuid !== undefined) {
    cells = cells.filter((c) => c.uuid === options.cellUuid);
    if (cells.length === 0) throw fail(`cell with uuid ${options.cellUuid} not found`, 1);
  }
  cells = cells.filter((c) => c.uuid !== CELL0_UUID);
  return scatterGather(
    cells,
    async (cell) => {
      const handle = targetCell(registry, cell);
      let hosts: string[];
      if (options.byService) {
        hosts = (await serviceGroup.store(cell).list({ binary: 'nova-compute' })).flatMap((s) => (s.host ? [s.host] : []));
      } else {
        const nodes = await handle.run((s) =>
          s.query<{ host: string | null; service_id: number | null }>('SELECT DISTINCT host, service_id FROM compute_nodes WHERE deleted = 0', { type: QueryTypes.SELECT }),
        );
        // Compute nodes not yet backfilled know their host only through their service.
        const legacy = nodes.filter((n) => n.host === null && n.service_id !== null).map((n) => Number(n.service_id));
        const viaService = legacy.length > 0 ? [...(await serviceGroup.hostsByServiceId(cell, legacy)).values()] : [];
        hosts = [...nodes.map((n) => n.host), ...viaService].filter((h): h is string => h !== null);
      }
      const rows = [...new Set(hosts)].map((host) => ({ host }));
      const found = rows.map((r) => r.host).sort();
      const already = await api.run(() => store.mappedHosts(found));
      const mapped: string[] = [];
      for (const host of found.filter((h) => !already.has(h))) {
        const inserted = await api.run(async (s) => {
          const now = new Date();
          const [result, metadata] = await s.query(
            api.dialect.insertSkippingDuplicates('host_mappings', ['cell_id', 'host', 'created_at', 'updated_at'], '(:cellId, :host, :now, :now)', 'host'),
            { replacements: { cellId: cell.id, host, now } },
          );
          return api.dialect.affectedRows(result, metadata);
        });
        if (inserted > 0) mapped.push(host);
      }
      return { found, mapped };
    },
    { concurrency: options.concurrency },
  );
}

/** `list_hosts`: every host mapping with its cell, optionally for one cell (exit 1 if it is not found). */
export async function listHosts(api: DatabaseHandle, cellUuid?: string): Promise<Array<HostMapping & { cell: CellMapping }>> {
  const store = new MappingStore(api.sequelize);
  const cells = await api.run(() => store.listCells());
  const byId = new Map(cells.map((c) => [c.id, c]));
  let cellId: number | undefined;
  if (cellUuid !== undefined) {
    const cell = cells.find((c) => c.uuid === cellUuid);
    if (!cell) throw fail(`cell with uuid ${cellUuid} not found`, 1);
    cellId = cell.id;
  }
  const hosts = await api.run(() => store.hostMappings(cellId));
  return hosts
    .map((h) => ({ ...h, cell: byId.get(h.cellId) as CellMapping }))
    .sort((a, b) => byText(a.cell.name ?? '', b.cell.name ?? '') || byText(a.host, b.host));
}

/** verify_instance's answer: nova-manage's exit code and sentence. */
export interface InstanceVerdict {
  readonly code: 0 | 1 | 2 | 3 | 4;
  readonly message: string;
  readonly cell?: CellMapping;
}

/**
 * `verify_instance`: 0 mapped to a cell, 1 no instance mapping (upgrade incomplete, or no such
 * instance), 2 mapped to no cell (transient), 3 deleted but still mapped, 4 archived but still mapped.
 */
export async function verifyInstance(api: DatabaseHandle, registry: ConnectionRegistry, uuid: string): Promise<InstanceVerdict> {
  const store = new MappingStore(api.sequelize);
  const mapping = await api.run(() => store.instanceMapping(uuid));
  if (!mapping) return { code: 1, message: `Instance ${uuid} is not mapped to a cell (upgrade is incomplete) or instance does not exist` };
  if (mapping.cellId === null) return { code: 2, message: `Instance ${uuid} is not mapped to a cell` };
  const cell = await api.run(() => store.getCellById(mapping.cellId as number));
  if (!cell) return { code: 2, message: `Instance ${uuid} is not mapped to a cell` };
  const handle = targetCell(registry, cell);
  const rows = await handle.run((s) =>
    s.query<{ deleted: number | string }>('SELECT deleted FROM instances WHERE uuid = :uuid', { replacements: { uuid }, type: QueryTypes.SELECT }),
  );
  const row = rows[0];
  if (!row) {
    return { code: 4, cell, message: `The instance with uuid ${uuid} has been archived. However its instance_mapping remains.` };
  }
  if (Number(row.deleted) !== 0) {
    return { code: 3, cell, message: `The instance with uuid ${uuid} has been deleted. Archive deleted rows to remove its instance_mapping.` };
  }
  return { code: 0, cell, message: `Instance ${uuid} is in cell: ${cellLabel(cell)} (${cell.uuid})` };
}
