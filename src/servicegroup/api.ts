import type { CellMappingRow } from '../cells/mappings.js';
import { cellLabel } from '../cells/mappings.js';
import { type CellOutcome, cellErrorMessage, failedCells, scatterGather, targetCell } from '../cells/targeting.js';
import { DEFAULTS } from '../config/defaults.js';
import type { ConnectionRegistry } from '../db/registry.js';
import { CellsdbError, InvalidInputError, ServiceNotFoundError } from '../errors.js';
import { databaseDriver } from './driver-database.js';
import { redisDriver } from './driver-redis.js';
import { effectiveDownTime, isServiceUp } from './liveness.js';
import { type ServiceFilter, ServiceStore } from './store.js';
import type { LivenessDriver, LivenessSettings, ServiceRecord, ServiceState } from './types.js';

/** How to build a {@link ServiceGroupApi}. */
export interface ServiceGroupOptions {
  readonly registry: ConnectionRegistry;
  /** @default 'database' */
  readonly driver?: 'database' | 'redis';
  /** Required with the Redis driver. */
  readonly redisUrl?: string | undefined;
  /** @default DEFAULTS.serviceDownTimeSeconds and DEFAULTS.reportIntervalSeconds (60, 10) */
  readonly liveness?: Partial<LivenessSettings>;
  /** The clock (tests move it). @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * The one path to service data (spec servicegroup-api-control-plane): listing with up/down state,
 * heartbeats, and every change an operator makes (disable, enable, force down, delete). The CLI, the
 * objects and the cell_v2 commands use it; nothing else reads or writes `services` (the movers'
 * bulk SQL excepted, on an explicit allow-list).
 */
export class ServiceGroupApi {
  readonly settings: LivenessSettings;
  private readonly now: () => Date;

  private constructor(
    private readonly registry: ConnectionRegistry,
    readonly driver: LivenessDriver,
    settings: LivenessSettings,
    now: () => Date,
  ) {
    this.settings = settings;
    this.now = now;
  }

  /** Builds the API with the chosen liveness driver; close it (or the driver) when done. */
  static async open(options: ServiceGroupOptions): Promise<ServiceGroupApi> {
    const settings: LivenessSettings = { serviceDownTime: DEFAULTS.serviceDownTimeSeconds, reportInterval: DEFAULTS.reportIntervalSeconds, ...options.liveness };
    const registry = options.registry;
    let driver: LivenessDriver;
    if (options.driver === 'redis') {
      if (!options.redisUrl) throw new InvalidInputError('the redis service-group driver needs --redis-url');
      driver = await redisDriver(options.redisUrl, { ttlSeconds: effectiveDownTime(settings) });
    } else {
      driver = databaseDriver((cell) => new ServiceStore(targetCell(registry, cell)));
    }
    return new ServiceGroupApi(registry, driver, settings, options.now ?? (() => new Date()));
  }

  /** The store of one cell's services. */
  store(cell: CellMappingRow): ServiceStore {
    return new ServiceStore(targetCell(this.registry, cell));
  }

  private async withState(cell: CellMappingRow, records: readonly ServiceRecord[]): Promise<ServiceState[]> {
    const beats = await this.driver.lastHeartbeats(cell, records);
    const now = this.now();
    return records.map((r) => {
      const lastHeartbeat = beats.get(r.id) ?? null;
      return { ...r, cell: { uuid: cell.uuid, name: cell.name }, lastHeartbeat, up: isServiceUp({ forcedDown: r.forcedDown, lastHeartbeat }, now, this.settings) };
    });
  }

  /** Services of one cell with their state. */
  async listInCell(cell: CellMappingRow, filter: ServiceFilter = {}): Promise<ServiceState[]> {
    return this.withState(cell, await this.store(cell).list(filter));
  }

  /** Services of many cells (concurrently; a failing cell is its own outcome). */
  list(cells: readonly CellMappingRow[], filter: ServiceFilter = {}, concurrency?: number): Promise<CellOutcome<ServiceState[]>[]> {
    return scatterGather(cells, (cell) => this.listInCell(cell, filter), { concurrency });
  }

  /** One service of one cell, with its state. */
  async get(cell: CellMappingRow, host: string, binary: string): Promise<ServiceState | undefined> {
    return (await this.listInCell(cell, { host, binary }))[0];
  }

  /** Whether a service is up, by the liveness rule and the driver's last heartbeat. */
  async isUp(cell: CellMappingRow, service: ServiceRecord): Promise<boolean> {
    const [state] = await this.withState(cell, [service]);
    return state?.up === true;
  }

  /** A service joins its group: its record is created if missing, and it reports a first heartbeat. */
  async join(cell: CellMappingRow, service: { host: string; binary: string; topic?: string | null }): Promise<ServiceState> {
    const record = await this.store(cell).ensure({ host: service.host, binary: service.binary, topic: service.topic ?? null }, this.now());
    await this.driver.heartbeat(cell, record, this.now());
    return (await this.get(cell, service.host, service.binary)) as ServiceState;
  }

  /** A heartbeat: report_count + 1 and last_seen_up (database driver), or the key refreshed (Redis). */
  async heartbeat(cell: CellMappingRow, host: string, binary: string): Promise<void> {
    const record = await this.store(cell).get(host, binary);
    if (!record) throw new ServiceNotFoundError(host, binary);
    await this.driver.heartbeat(cell, record, this.now());
  }

  /** Hosts of services by id, soft-deleted ones included (compute nodes that know only their service_id). */
  async hostsByServiceId(cell: CellMappingRow, ids: readonly number[]): Promise<Map<number, string | null>> {
    const records = await this.store(cell).list({ ids: [...new Set(ids)], withDeleted: true });
    return new Map(records.map((r) => [r.id, r.host]));
  }

  /** Finds (host, binary) in the cells; not found anywhere is {@link ServiceNotFoundError}. */
  private async find(cells: readonly CellMappingRow[], host: string, binary: string): Promise<Array<{ cell: CellMappingRow; record: ServiceRecord }>> {
    const outcomes = await scatterGather(cells, (cell) => this.store(cell).get(host, binary));
    const failed = failedCells(outcomes);
    const found = outcomes.flatMap((o) => (o.ok && o.value ? [{ cell: o.cell, record: o.value }] : []));
    const first = failed[0];
    if (found.length === 0 && first !== undefined) {
      throw new CellsdbError(`could not search ${failed.length} cell(s) for service '${binary}' on '${host}': ${cellErrorMessage(first)}`);
    }
    if (found.length === 0) throw new ServiceNotFoundError(host, binary);
    return found;
  }

  private async change(cells: readonly CellMappingRow[], host: string, binary: string, changes: Parameters<ServiceStore['update']>[1]): Promise<ServiceState[]> {
    const found = await this.find(cells, host, binary);
    const now = this.now();
    const states: ServiceState[] = [];
    for (const { cell, record } of found) {
      await this.store(cell).update(record.id, changes, now);
      states.push((await this.get(cell, host, binary)) as ServiceState);
    }
    return states;
  }

  /** Disables a service (the scheduler stops picking it), with a reason. Does not count as a heartbeat. */
  disable(cells: readonly CellMappingRow[], host: string, binary: string, reason?: string): Promise<ServiceState[]> {
    return this.change(cells, host, binary, { disabled: true, disabledReason: reason ?? null });
  }

  enable(cells: readonly CellMappingRow[], host: string, binary: string): Promise<ServiceState[]> {
    return this.change(cells, host, binary, { disabled: false, disabledReason: null });
  }

  /** Marks a service down at once (fencing), or lifts that with `unset`. */
  forceDown(cells: readonly CellMappingRow[], host: string, binary: string, unset = false): Promise<ServiceState[]> {
    return this.change(cells, host, binary, { forcedDown: !unset });
  }

  /** Soft-deletes the record and forgets its liveness. */
  async delete(cells: readonly CellMappingRow[], host: string, binary: string): Promise<Array<{ cell: string; id: number }>> {
    const found = await this.find(cells, host, binary);
    const now = this.now();
    for (const { cell, record } of found) {
      await this.store(cell).softDelete(record.id, now);
      await this.driver.forget(cell, record);
    }
    return found.map(({ cell, record }) => ({ cell: cellLabel(cell), id: record.id }));
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}
