import { randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { QueryTypes } from 'sequelize';
import { MappingStore } from '../src/cells/mappings.js';
import { cellDatabaseUrl } from '../src/cells/targeting.js';
import { ConnectionRegistry, type DatabaseHandle } from '../src/db/registry.js';
import { type GroupContext, InstanceGroup } from '../src/objects/instance-group.js';
import type { Deployment } from './deployment.js';
import { startHeartbeats } from './heartbeats.js';
import { type LatencySummary, round, summarise } from './stats.js';

/** The kinds of short transaction the live cloud runs while the movers work. */
const OPERATIONS = ['update_compute_node', 'add_group_member', 'read_group'] as const;
type Operation = (typeof OPERATIONS)[number];

export interface WorkloadOptions {
  /** Workers, and connections per database: each worker has at most one statement in flight. */
  readonly connections: number;
  /** Operations per second over all workers (each worker paces itself; a slow operation is not made up for). */
  readonly rate: number;
}

/** Heartbeats only: `services` compute services, one session per `perSession`, each heartbeating every `intervalSeconds`. */
export interface HeartbeatOptions {
  readonly services: number;
  readonly perSession: number;
  readonly intervalSeconds: number;
}

/** What a live-traffic scenario runs beside the movers. */
export type LiveWorkload = ({ readonly kind: 'mixed' } & WorkloadOptions) | ({ readonly kind: 'heartbeats' } & HeartbeatOptions);

/** Starts either kind of workload. */
export function startLiveWorkload(d: Deployment, workload: LiveWorkload): Promise<RunningWorkload> {
  return workload.kind === 'mixed' ? startWorkload(d, workload) : startHeartbeats(d, workload);
}

/** For the JSON document and the progress lines. */
export const describeWorkload = (w: LiveWorkload): string =>
  w.kind === 'mixed' ? `mixed, ${w.connections} connections, ${w.rate} ops/s` : `heartbeats, ${w.services} services, one session per ${w.perSession}, every ${w.intervalSeconds} s`;

export interface WorkloadResult {
  readonly seconds: number;
  readonly operations: number;
  readonly operationsPerSecond: number;
  readonly errors: number;
  /** Up to five distinct error messages. */
  readonly errorSamples: readonly string[];
  readonly latency: LatencySummary & { readonly byOperation: Readonly<Record<string, LatencySummary>> };
}

export interface RunningWorkload {
  /** Stops the workers, waits for operations in flight, closes the connections. */
  stop(): Promise<WorkloadResult>;
}

interface CellTarget {
  readonly db: DatabaseHandle;
  readonly firstNode: number;
  readonly lastNode: number;
}

/**
 * Starts the live cloud's traffic on a deployment: workers that each, at a steady pace, pick one of
 * updating a random compute node (a resource-tracker style UPDATE by id), adding a member to a random
 * legacy group through the InstanceGroup object (getByUuid + addMembers, which locks a cell group as
 * the mover's contract asks), or reading a random group by uuid (InstanceGroup.getByUuid: API first,
 * then the cells). Latency is measured per operation from its start to its commit.
 */
export async function startWorkload(d: Deployment, options: WorkloadOptions): Promise<RunningWorkload> {
  const registry = new ConnectionRegistry({ max: options.connections, applicationName: 'cellsdb-bench-workload' });
  const api = registry.open(d.api, { purpose: 'workload' });
  const mapped = await new MappingStore(api).listCells();
  const ctx: GroupContext = { api, cells: mapped.map((cell) => ({ cell, db: registry.open(cellDatabaseUrl(cell), { purpose: 'workload' }) })) };

  // The groups the cloud knows (all live in the cells before the movers run) and the node ids.
  const groupUuids: string[] = [];
  const targets: CellTarget[] = [];
  for (const { db } of ctx.cells) {
    const uuids = await db.sequelize.query<{ uuid: string }>('SELECT uuid FROM instance_groups WHERE deleted = 0', { type: QueryTypes.SELECT });
    groupUuids.push(...uuids.map((r) => r.uuid));
    const [range] = await db.sequelize.query<{ lo: number | null; hi: number | null }>('SELECT MIN(id) AS lo, MAX(id) AS hi FROM compute_nodes WHERE deleted = 0', {
      type: QueryTypes.SELECT,
    });
    if (range?.lo != null && range.hi != null) targets.push({ db, firstNode: Number(range.lo), lastNode: Number(range.hi) });
  }
  if (groupUuids.length === 0 || targets.length === 0) throw new Error('the workload needs legacy groups and compute nodes: run it before the movers, on a fresh copy');

  const samples = new Map<Operation, number[]>(OPERATIONS.map((op) => [op, []]));
  const errors: string[] = [];
  const pick = <T>(list: readonly T[]): T => list[randomInt(list.length)] as T;

  const operations: Record<Operation, () => Promise<void>> = {
    update_compute_node: async () => {
      const target = pick(targets);
      await target.db.sequelize.query('UPDATE compute_nodes SET vcpus_used = :vcpus, memory_mb_used = :memory, updated_at = :now WHERE id = :id', {
        replacements: { vcpus: randomInt(16), memory: randomInt(65536), now: new Date(), id: target.firstNode + randomInt(target.lastNode - target.firstNode + 1) },
      });
    },
    add_group_member: async () => {
      const uuid = pick(groupUuids);
      const group = await InstanceGroup.getByUuid(ctx, uuid);
      if (!group) throw new Error(`instance group ${uuid} not found, neither in the API database nor in a cell`);
      await group.addMembers(ctx, [randomUUID()]);
    },
    read_group: async () => {
      const uuid = pick(groupUuids);
      const group = await InstanceGroup.getByUuid(ctx, uuid);
      if (!group) throw new Error(`instance group ${uuid} not found, neither in the API database nor in a cell`);
    },
  };

  let running = true;
  const started = performance.now();
  const intervalMs = (1000 * options.connections) / options.rate;
  const worker = async (index: number) => {
    // Staggered, so that the workers do not fire together.
    let next = performance.now() + (intervalMs * index) / options.connections;
    while (running) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      if (!running) break;
      next = Math.max(next + intervalMs, performance.now());
      const op = pick(OPERATIONS);
      const t0 = performance.now();
      try {
        await operations[op]();
        samples.get(op)?.push(performance.now() - t0);
      } catch (error) {
        errors.push(`${op}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const workers = Array.from({ length: options.connections }, (_, i) => worker(i));

  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      const seconds = (performance.now() - started) / 1000;
      await registry.close();
      const all = [...samples.values()].flat();
      const byOperation = Object.fromEntries(OPERATIONS.map((op) => [op, summarise(samples.get(op) ?? [])])) as Record<Operation, LatencySummary>;
      return {
        seconds: round(seconds),
        operations: all.length + errors.length,
        operationsPerSecond: round((all.length + errors.length) / seconds, 1),
        errors: errors.length,
        errorSamples: [...new Set(errors.map((e) => e.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<uuid>')))].slice(0, 5),
        latency: { ...summarise(all), byOperation },
      };
    },
  };
}
