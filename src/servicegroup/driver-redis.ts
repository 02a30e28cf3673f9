import type { CellMappingRow } from '../cells/mappings.js';
import { CellsdbError } from '../errors.js';
import { displayUrl, redactSecrets, urlSecrets } from '../url/index.js';
import type { LivenessDriver, ServiceRecord } from './types.js';

/**
 * Liveness from Redis: a heartbeat sets a key that expires after `service_down_time`, so a dead
 * service disappears by itself (what Nova's memcache and ZooKeeper drivers were for). The service
 * record — enabled, disabled reason, forced down, deleted — stays in the cell database and is
 * changed through the same service-group API, so the two never disagree.
 */
export async function redisDriver(url: string, options: { ttlSeconds: number; keyPrefix?: string }): Promise<LivenessDriver> {
  // Loaded only when the Redis driver is chosen: most commands never need it.
  const { createClient } = await import('redis');
  const client = createClient({ url, socket: { connectTimeout: 5000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (cause) {
    const secrets = urlSecrets(url);
    throw new CellsdbError(`cannot reach Redis at ${displayUrl(url)}: ${redactSecrets((cause as Error).message, secrets)}`, { cause, secrets });
  }
  const prefix = options.keyPrefix ?? 'cellsdb:servicegroup';
  const key = (cell: CellMappingRow, service: ServiceRecord) => `${prefix}:${cell.uuid}:${service.id}`;
  return {
    name: 'redis',
    async heartbeat(cell, service, now) {
      await client.set(key(cell, service), now.toISOString(), { PX: Math.round(options.ttlSeconds * 1000) });
    },
    async lastHeartbeats(cell, services) {
      if (services.length === 0) return new Map();
      const values = await client.mGet(services.map((s) => key(cell, s)));
      return new Map(services.map((s, i) => [s.id, values[i] ? new Date(values[i] as string) : null]));
    },
    async forget(cell, service) {
      await client.del(key(cell, service));
    },
    async close() {
      await client.quit().catch(() => undefined);
    },
  };
}
