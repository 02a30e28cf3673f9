/**
 * Where a mover's batch time goes: the movers run in this process (the runner the CLI uses, same
 * batch size and concurrency) on a pool whose `sequelize.query` is timed per SQL text. For each
 * statement: calls, time inside `sequelize.query` (replacement formatting, pool wait, driver, server,
 * result parsing) and the driver's share (Sequelize's own `benchmark` timing, from send to rows).
 * Batch time not spent in any query is the mover's own JavaScript (and transaction set-up).
 * A diagnostic for the speed work, printed under "profile" with --profile; the headline figures
 * come from the CLI child process, not from here.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Options, Sequelize } from 'sequelize';
import { MOVERS } from '../movers/index.js';
import { MappingStore } from '../src/cells/mappings.js';
import { type DatabaseHandle, ConnectionRegistry } from '../src/db/registry.js';
import type { PoolOptions } from '../src/db/dialect.js';
import { runOnlineDataMigrations } from '../src/movers/runner.js';
import type { DatabaseUrl } from '../src/url/index.js';
import type { Deployment } from './deployment.js';
import { round } from './stats.js';

interface StatementTotals {
  calls: number;
  ms: number;
  driverMs: number;
}

/** Set while a mover's migrate() runs: readiness checks and the like are not batch time. */
const inBatch = new AsyncLocalStorage<true>();

type QueryFn = (sql: unknown, options?: Options & Record<string, unknown>) => Promise<unknown>;

/** A registry whose handles time every query under the statement's SQL text (before replacements). */
class ProfilingRegistry extends ConnectionRegistry {
  private readonly instrumented = new WeakSet<Sequelize>();
  active: Map<string, StatementTotals> | undefined;
  /** Query time outside batches (readiness checks, cell listing), ms. */
  outsideMs = 0;

  override open(url: DatabaseUrl, options: PoolOptions & { purpose?: string } = {}): DatabaseHandle {
    const handle = super.open(url, options);
    const sequelize = handle.sequelize;
    if (!this.instrumented.has(sequelize)) {
      this.instrumented.add(sequelize);
      const original = sequelize.query.bind(sequelize) as unknown as QueryFn;
      const timed: QueryFn = async (sql, queryOptions) => {
        const key = (typeof sql === 'string' ? sql : String((sql as { query?: string })?.query ?? sql)).replace(/\s+/g, ' ').trim().slice(0, 140);
        let driverMs = 0;
        const t0 = performance.now();
        try {
          return await original(sql, { ...(queryOptions ?? {}), benchmark: true, logging: (_message: string, ms?: number) => void (driverMs = ms ?? 0) });
        } finally {
          const totals = this.active;
          if (totals && !inBatch.getStore()) {
            this.outsideMs += performance.now() - t0;
          } else if (totals) {
            const entry = totals.get(key) ?? { calls: 0, ms: 0, driverMs: 0 };
            entry.calls += 1;
            entry.ms += performance.now() - t0;
            entry.driverMs += driverMs;
            totals.set(key, entry);
          }
        }
      };
      (sequelize as unknown as { query: QueryFn }).query = timed;
    }
    return handle;
  }
}

/** Runs each mover alone over every cell of `d` and breaks its batch time down by statement. */
export async function profileMovers(
  d: Deployment,
  batching: { readonly batchSize?: number | undefined; readonly batchMs?: number | undefined; readonly concurrency?: number },
): Promise<Record<string, unknown>> {
  const registry = new ProfilingRegistry({ max: 4, connectTimeoutMs: 10_000 });
  try {
    const apiDb = await registry.connect(d.api);
    const cells = await new MappingStore(apiDb).listCells();
    const out: Record<string, unknown> = {};
    for (const mover of MOVERS) {
      const statements = new Map<string, StatementTotals>();
      registry.active = statements;
      registry.outsideMs = 0;
      let batches = 0;
      let batchMs = 0;
      const t0 = performance.now();
      await runOnlineDataMigrations({
        registry,
        apiDb,
        cells,
        movers: [{ ...mover, migrate: (ctx, count, after) => inBatch.run(true, () => mover.migrate(ctx, count, after)) }],
        batchSize: batching.batchSize,
        batchTargetMs: batching.batchMs,
        concurrency: batching.concurrency,
        statementTimeoutMs: 600_000,
        // The profile measures where a batch's time goes, alone on the servers: never yield.
        yieldToTraffic: false,
        events: {
          batch: (e) => {
            // Every batch's time, the empty last one included: its statements are counted too.
            batchMs += e.ms;
            if (e.found > 0 || e.done > 0) batches += 1;
          },
        },
      });
      const wallMs = performance.now() - t0;
      registry.active = undefined;
      const sqlMs = [...statements.values()].reduce((n, s) => n + s.ms, 0);
      const driverMs = [...statements.values()].reduce((n, s) => n + s.driverMs, 0);
      out[mover.name] = {
        wall_seconds: round(wallMs / 1000),
        batches,
        // Summed over cells (they run concurrently), so these can exceed the wall time.
        batch_ms_total: Math.round(batchMs),
        in_queries_ms_total: Math.round(sqlMs),
        // Of which the driver (send to rows; the rest is Sequelize formatting replacements and parsing).
        driver_ms_total: Math.round(driverMs),
        outside_queries_ms_total: Math.round(batchMs - sqlMs),
        // Readiness checks and the like, outside every batch.
        setup_queries_ms_total: Math.round(registry.outsideMs),
        // The 25 costliest SQL texts (a bound key list makes one text per batch size: thousands).
        statement_texts: statements.size,
        statements: [...statements.entries()]
          .sort(([, a], [, b]) => b.ms - a.ms)
          .slice(0, 25)
          .map(([sql, s]) => ({ sql, calls: s.calls, ms: Math.round(s.ms), driver_ms: Math.round(s.driverMs), mean_ms: round(s.ms / s.calls) })),
      };
    }
    return out;
  } finally {
    await registry.close();
  }
}
