import type { CellMappingRow } from '../cells/mappings.js';
import type { ServiceStore } from './store.js';
import type { LivenessDriver, ServiceRecord } from './types.js';

/** Liveness from the cell database: a heartbeat moves `last_seen_up` and counts `report_count` (Nova's default driver). */
export function databaseDriver(storeFor: (cell: CellMappingRow) => ServiceStore): LivenessDriver {
  return {
    name: 'database',
    async heartbeat(cell, service, now) {
      await storeFor(cell).recordHeartbeat(service.id, now);
    },
    async lastHeartbeats(_cell, services: readonly ServiceRecord[]) {
      return new Map(services.map((s) => [s.id, s.lastSeenUp ?? s.createdAt]));
    },
    async forget() {
      // The record's soft delete is all there is to forget.
    },
    async close() {},
  };
}
