import type { CellMappingRow } from '../cells/mappings.js';

/** A row of a cell's `services` table, as the service-group layer hands it out. */
export interface ServiceRecord {
  readonly id: number;
  readonly host: string | null;
  readonly binary: string | null;
  readonly topic: string | null;
  readonly reportCount: number;
  readonly disabled: boolean;
  readonly disabledReason: string | null;
  readonly lastSeenUp: Date | null;
  readonly forcedDown: boolean;
  readonly version: number;
  readonly createdAt: Date | null;
  readonly updatedAt: Date | null;
}

/** A service with where it lives and what the liveness driver says of it. */
export interface ServiceState extends ServiceRecord {
  readonly cell: Pick<CellMappingRow, 'uuid' | 'name'>;
  readonly up: boolean;
  /** The last heartbeat the driver knows of (database: last_seen_up, else created_at; Redis: the key's time). */
  readonly lastHeartbeat: Date | null;
}

/**
 * Where liveness comes from. The service record (enabled, disabled reason, forced down, deleted)
 * always lives in the cell database; a driver only records and reports heartbeats.
 */
export interface LivenessDriver {
  readonly name: 'database' | 'redis';
  /** Records a heartbeat. */
  heartbeat(cell: CellMappingRow, service: ServiceRecord, now: Date): Promise<void>;
  /** The last heartbeat of each service, by id. */
  lastHeartbeats(cell: CellMappingRow, services: readonly ServiceRecord[]): Promise<Map<number, Date | null>>;
  /** Forgets a deleted service. */
  forget(cell: CellMappingRow, service: ServiceRecord): Promise<void>;
  close(): Promise<void>;
}

/** Liveness settings (nova.conf's `service_down_time` and `report_interval`). */
export interface LivenessSettings {
  /** Seconds without a heartbeat after which a service is down. @default 60 */
  readonly serviceDownTime: number;
  /** Seconds between heartbeats. @default 10 */
  readonly reportInterval: number;
}
