import { setTimeout as sleep } from 'node:timers/promises';
import { MappingStore } from '../src/cells/mappings.js';
import { ConnectionRegistry } from '../src/db/registry.js';
import { ServiceGroupApi } from '../src/servicegroup/api.js';
import type { Deployment } from './deployment.js';
import { round, summarise } from './stats.js';
import type { HeartbeatOptions, RunningWorkload } from './workload.js';

/**
 * The idle-chatty cloud: compute services heartbeating through the service-group API (Nova's
 * database driver: read the service, then report_count + 1 and last_seen_up), `perSession` services
 * per session (its own connection), each service once every `intervalSeconds`, spread evenly over
 * the interval. The services are the deployment's nova-compute services, dealt out over the cells.
 * Latency is one heartbeat, from its start to its commit.
 */
export async function startHeartbeats(d: Deployment, options: HeartbeatOptions): Promise<RunningWorkload> {
  const setup = new ConnectionRegistry({ max: 1, applicationName: 'cellsdb-bench-heartbeats' });
  const cells = (await new MappingStore(setup.open(d.api, { purpose: 'workload' })).listCells()).filter((c) => c.name !== 'cell0');
  const lookup = await ServiceGroupApi.open({ registry: setup });
  const perCell = Math.ceil(options.services / cells.length);
  const services: Array<{ cell: (typeof cells)[number]; host: string; binary: string }> = [];
  for (const cell of cells) {
    const listed = await lookup.store(cell).list({ ids: Array.from({ length: perCell }, (_, i) => i + 1) });
    for (const s of listed) if (s.host && s.binary && services.length < options.services) services.push({ cell, host: s.host, binary: s.binary });
  }
  await lookup.close();
  await setup.close();
  if (services.length < options.services) throw new Error(`the heartbeat workload needs ${options.services} services, the deployment has ${services.length}`);

  const samples: number[] = [];
  const errors: string[] = [];
  const sessions: Array<{ registry: ConnectionRegistry; api: ServiceGroupApi; services: typeof services }> = [];
  for (let i = 0; i < services.length; i += options.perSession) {
    const registry = new ConnectionRegistry({ max: 1, applicationName: 'cellsdb-bench-heartbeats' });
    sessions.push({ registry, api: await ServiceGroupApi.open({ registry }), services: services.slice(i, i + options.perSession) });
  }
  let running = true;
  const started = performance.now();
  const session = async (index: number, s: (typeof sessions)[number]) => {
    const everyMs = (options.intervalSeconds * 1000) / s.services.length;
    // Staggered, so that the sessions do not fire together.
    let next = performance.now() + (everyMs * index) / sessions.length;
    for (let k = 0; running; k = (k + 1) % s.services.length) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      if (!running) break;
      next = Math.max(next + everyMs, performance.now());
      const service = s.services[k] as (typeof services)[number];
      const t0 = performance.now();
      try {
        await s.api.heartbeat(service.cell, service.host, service.binary);
        samples.push(performance.now() - t0);
      } catch (error) {
        errors.push(`heartbeat: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const workers = sessions.map((s, i) => session(i, s));
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      const seconds = (performance.now() - started) / 1000;
      for (const s of sessions) {
        await s.api.close();
        await s.registry.close();
      }
      const all = summarise(samples);
      return {
        seconds: round(seconds),
        operations: samples.length + errors.length,
        operationsPerSecond: round((samples.length + errors.length) / seconds, 1),
        errors: errors.length,
        errorSamples: [...new Set(errors)].slice(0, 5),
        latency: { ...all, byOperation: { heartbeat: all } },
      };
    },
  };
}
