import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadMetrics, SessionConnection } from '../db/dialect.js';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import type { ServerSample } from './impact-controller.js';

/** How the monitor samples. */
export interface MonitorSettings {
  /** Milliseconds between two samples of a server. @default 200 */
  readonly everyMs?: number;
  /** Idle probes taken per server before the first batch (the baseline). @default 10 */
  readonly baselineSamples?: number;
}

interface Watched {
  readonly server: string;
  readonly handle: DatabaseHandle;
  readonly databases: string[];
  session?: SessionConnection;
  /** The dialect's first probe statement this server runs (`DialectIntrospection.impactProbes`). */
  probeSql?: string;
  /** The metrics query failed once (no privilege): the probe alone goes on. */
  metricsUnavailable?: string;
}

/** `host:port` of a URL, as the reports name a server (no credentials, no database). */
const serverOf = (h: DatabaseHandle): string => `${h.url.socketPath ?? h.url.host ?? 'localhost'}${h.url.port ? `:${h.url.port}` : ''}`;

/**
 * Watches every server a run uses, on a connection of its own per server (never queued behind the
 * movers' pools): a probe statement timed against its idle baseline, other clients' running
 * statements, and lock waits the run's connections cause. Each sample goes to `onSample`.
 */
export class ImpactMonitor {
  private readonly watched: Watched[] = [];
  private running = false;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  /**
   * @param registry opens the probe sessions (closed with it, or by {@link stop})
   * @param databases every database of the run; one probe per server
   * @param ownSessionIds the run's pooled connections (their statements are not other clients')
   */
  constructor(
    private readonly registry: ConnectionRegistry,
    databases: readonly DatabaseHandle[],
    private readonly ownSessionIds: () => readonly number[],
    private readonly settings: MonitorSettings = {},
  ) {
    const byServer = new Map<string, Watched>();
    for (const db of databases) {
      const server = serverOf(db);
      const key = `${db.url.dialect}|${server}`;
      const w = byServer.get(key) ?? { server, handle: db, databases: [] };
      if (db.url.database && !w.databases.includes(db.url.database)) w.databases.push(db.url.database);
      byServer.set(key, w);
    }
    this.watched = [...byServer.values()];
  }

  private async probe(session: SessionConnection, sql: string): Promise<number> {
    const t0 = performance.now();
    try {
      await session.query(sql);
    } catch (error) {
      // A probe cut short inside its transaction must not leave the session in a failed one.
      await session.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    return performance.now() - t0;
  }

  /** The first of the dialect's probes the server runs (the round trip that also warms the connection). */
  private async chooseProbe(w: Watched, session: SessionConnection): Promise<string> {
    const probes = w.handle.dialect.impactProbes;
    for (const [i, sql] of probes.entries()) {
      try {
        await this.probe(session, sql);
        return sql;
      } catch (error) {
        if (i === probes.length - 1) throw error;
      }
    }
    throw new Error('no impact probe');
  }

  /**
   * Opens the probe sessions and takes each server's idle baseline; `onBaseline` hears it. A server
   * whose probe session cannot be opened is not watched (the batches themselves will say why).
   */
  async start(onBaseline: (server: string, samplesMs: readonly number[]) => void, onSample: (sample: ServerSample) => void): Promise<void> {
    const count = this.settings.baselineSamples ?? 10;
    await Promise.all(
      this.watched.map(async (w) => {
        try {
          w.session = await this.registry.openSession(w.handle.url, 'cellsdb-impact-probe');
          // The first round trip warms the connection; it is not part of the baseline.
          const sql = await this.chooseProbe(w, w.session);
          w.probeSql = sql;
          const samples: number[] = [];
          for (let i = 0; i < count; i++) {
            samples.push(await this.probe(w.session, sql));
            await sleep(10);
          }
          onBaseline(w.server, samples);
        } catch {
          await w.session?.close();
          w.session = undefined;
        }
      }),
    );
    this.running = true;
    // Readings of every server before the first batch: a run started over --max-load or
    // --critical-load does not start a batch first.
    // Two, so that a --critical-load already over stops the run before its first batch.
    for (let round = 0; round < 2; round++) {
      if (round > 0) await sleep(20);
      await Promise.all(this.watched.map((w) => this.sampleOne(w, onSample)));
    }
    this.loop = this.run(onSample);
  }

  private async run(onSample: (sample: ServerSample) => void): Promise<void> {
    const every = this.settings.everyMs ?? 200;
    while (this.running) {
      await sleep(every, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      if (!this.running) break;
      await Promise.all(this.watched.map((w) => this.sampleOne(w, onSample)));
    }
  }

  private async sampleOne(w: Watched, onSample: (sample: ServerSample) => void): Promise<void> {
    const session = w.session;
    if (!session || w.probeSql === undefined) return;
    let probeMs: number;
    try {
      probeMs = await this.probe(session, w.probeSql);
    } catch {
      // A probe that fails (a server going away) decides nothing: the batches will say.
      return;
    }
    let metrics: LoadMetrics | undefined;
    if (w.metricsUnavailable === undefined) {
      try {
        metrics = await w.handle.dialect.loadMetrics(session, this.ownSessionIds(), w.databases);
      } catch (error) {
        w.metricsUnavailable = error instanceof Error ? error.message : String(error);
      }
    }
    if (this.running) onSample({ server: w.server, probeMs, threadsRunning: metrics?.threadsRunning, lockWaits: metrics?.lockWaits, activeClients: metrics?.activeClients });
  }

  /** Stops sampling and closes the probe sessions. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    await this.loop;
    await Promise.all(this.watched.map((w) => w.session?.close()));
  }
}
