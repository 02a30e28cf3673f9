import { mkdtempSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionConnection } from '../src/db/dialect.js';
import { dialectFor } from '../src/db/dialects.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { type DatabaseUrl, withDatabase } from '../src/url/index.js';
import type { BenchDialect } from './dialect.js';
import { mariadbBench } from './dialect-mariadb.js';
import { postgresBench } from './dialect-postgres.js';
import type { BenchOptions } from './options.js';

/** The database server a benchmark runs on: create, copy and drop databases; stop what we started. */
/** Longer than the movers' live-traffic window (one second). */
const TRAFFIC_QUIET_MS = 1100;

export interface BenchServer {
  readonly bench: BenchDialect;
  /** For the JSON document: 'embedded' or the masked URL. */
  readonly source: string;
  readonly version: string;
  urlFor(database: string): DatabaseUrl;
  /** Creates an empty database, dropping a leftover of the same name first. */
  create(database: string): Promise<void>;
  drop(database: string): Promise<void>;
  copy(source: string, target: string): Promise<void>;
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The server given (flag or environment), else for PostgreSQL an embedded server in a temporary
 * folder, deleted when the benchmark ends.
 */
export async function openServer(options: BenchOptions, note: (text: string) => void): Promise<BenchServer> {
  const bench = options.dialect === 'postgres' ? postgresBench : mariadbBench;
  let admin = options.serverUrl;
  let stopEmbedded: () => Promise<void> = async () => undefined;
  let source = admin?.masked ?? 'embedded';
  if (!admin) {
    const dataDir = mkdtempSync(join(tmpdir(), 'cellsdb-bench-pg-'));
    const port = 56000 + Math.floor(Math.random() * 2000);
    note(`no PostgreSQL server given (--pg-url, CELLSDB_BENCH_PG_URL): starting an embedded PostgreSQL on port ${port}`);
    const embedded = await startEmbeddedPostgres({ dataDir, port, ephemeral: true });
    admin = embedded.urlFor('postgres');
    source = `embedded (port ${port})`;
    stopEmbedded = async () => {
      await embedded.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
  }
  const url = admin;
  const adapter = dialectFor(url.dialect);
  // One admin session for the whole run: database DDL is serial anyway.
  const session: SessionConnection = await adapter.openSession(url, { connectTimeoutMs: 10_000, applicationName: 'cellsdb-bench' });
  const version = await bench.serverVersion(session);
  return {
    bench,
    source,
    version,
    urlFor: (database) => withDatabase(url, database),
    async create(database) {
      await adapter.dropDatabase(session, database);
      await adapter.createDatabase(session, database);
    },
    drop: (database) => adapter.dropDatabase(session, database),
    copy: (from, to) => bench.copyDatabase(session, url, from, to),
    async settle() {
      await bench.settle(session);
      // Then idle for longer than the movers' live-traffic window: this admin session is the
      // benchmark's scaffolding, not a client of the cloud the movers should yield to.
      await sleep(TRAFFIC_QUIET_MS);
    },
    async stop() {
      await session.close().catch(() => undefined);
      await stopEmbedded();
    },
  };
}
